"""ner4el's WordPiece tokenizer against Hugging Face's BertTokenizer (and BertTokenizerFast), id for
id, on the real 30,522-piece vocabulary plus [E] and [\\E]."""
import json

from conftest import have_shared, run_tool, shared_mentions

# Strings that have broken tokenizers: each one is compared id for id.
HOSTILE = [
    "Café déjà vu, Ångström and naïve coöperation",
    "e\u0301\u0301 a\u0308 combining marks o\u0302\u0323",
    "東京都に住んでいます 北京欢迎你 한국어 텍스트",
    "ภาษาไทยง่ายนิดเดียว", "مرحبا بالعالم", "שלום עולם", "हिन्दी भाषा", "Ελληνικά κείμενα",
    "ΑΣ ΟΔΥΣΣΕΥΣ Σ ΣΑΣ", "İstanbul ıi Iİ", "straße ß ẞ", "ﬁne ﬂow ligatures", "Ⅻ Ⅳ ⅷ",
    "ＡＢＣ１２３ full width", "K Kelvin Å Angstrom Ω ohm", "ǅemal ǈ titlecase", "𝐀𝐁𝐂 𝕏 math",
    "👍🏽 family 👨‍👩‍👧 flag 🇫🇷 ☃ ❤️",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u2060word", "soft\u00adhyphen \u180emongolian",
    "ctrl\u0000a\u0001b\u007fc\u001fd\u0085e\u000bf\u000cg",
    "line\u2028separator", "para\u2029separator", "\u2028", "\u2029 \u2028x",
    "nbsp\u00a0here narrow\u202fnbsp ideographic\u3000space em\u2003space",
    "tab\there new\nline carriage\rreturn",
    "a" * 100, "b" * 101, "supercalifragilistic" * 6, "x" * 1000,
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "x[E]Paris[\\E]y", "[E][E][\\E][\\E]", "[e]paris[\\e]", "[E]new york[\\E]", "[ E ] [\\ E]", "[\\E", "\\E]", "[E",
    "[CLS]left context", "right context[SEP]", "[UNK] [MASK] [PAD] [cls]", "[CLS][SEP]", "a[SEP]b[CLS]c",
    "¿¡Qué! « guillemets » “quotes” ‘single’ — dash – … ellipsis",
    "$100 €5 ¥300 £7 ₹9 1,234.56 3/4 ½ 10%", "C++ & AT&T U.S.A. e-mail don't O'Neill's",
    "http://example.com/path?q=1&r=2#frag user@example.org",
    "word " * 300, "", " ", "\t\n", "...", "a.b.c", "\u0301start with combining",
    "\U0001F600\U0001F600\U0001F600", "\ue000 private use \U000F0000", "\ufffd replacement \ufffd",
]


def release_texts():
    """The texts the release tokenizes (docs/reference.md "Input encoding") for every mention of the shared sets."""
    out = []
    for r in shared_mentions():
        out.append("[CLS]" + r["left_context"])
        out.append("[E]" + r["mention"].lower() + "[\\E]")
        out.append(r["right_context"] + "[SEP]")
        out.append(r["mention"])
        out.append("PER[SEP]" + r["output"] + " " + r["right_context"][:400])
    return out


def ours(texts, *flags):
    lines = "".join(json.dumps(t) + "\n" for t in texts).encode()
    out = run_tool("tokenize", "--jsonl", *flags, input_bytes=lines).stdout.decode().splitlines()
    assert len(out) == len(texts)
    return [json.loads(x) for x in out]


def mismatches(texts, got, want):
    return [(t, g, w) for t, g, w in zip(texts, got, want) if g != w]


def check(texts, hf_tokenizer):
    want = [hf_tokenizer.encode(t, add_special_tokens=False) for t in texts]
    bad = mismatches(texts, ours(texts), want)
    assert not bad, f"{len(bad)} of {len(texts)} differ; first: {bad[:3]}"


def test_every_shared_line_matches_bert_tokenizer(hf_tokenizer):
    texts = release_texts()
    assert len(texts) == 5 * (656 + 727 + 257)
    check(texts, hf_tokenizer)


def test_hostile_strings_match_bert_tokenizer(hf_tokenizer):
    check(HOSTILE, hf_tokenizer)


def test_hostile_strings_match_fast_tokenizer(model_dir):
    from transformers import BertTokenizerFast
    fast = BertTokenizerFast.from_pretrained(model_dir)
    fast.add_special_tokens({"additional_special_tokens": ["[E]", "[\\E]"]})
    texts = HOSTILE + (release_texts()[:500] if have_shared() else [])
    want = [fast.encode(t, add_special_tokens=False) for t in texts]
    bad = mismatches(texts, ours(texts), want)
    assert not bad, f"{len(bad)} of {len(texts)} differ from BertTokenizerFast; first: {bad[:3]}"


def test_pieces_match(hf_tokenizer):
    texts = HOSTILE[:20]
    want = [hf_tokenizer.tokenize(t) for t in texts]
    assert ours(texts, "--pieces") == want


def test_invalid_utf8_lines(hf_tokenizer):
    """Raw bytes on standard input: each invalid byte becomes U+FFFD, which BERT's cleaning drops,
    as Python does after bytes.decode('utf-8', 'replace')."""
    raw = [b"caf\xe9 au lait", b"\xff\xfe\xfd start", b"trunc\xe2\x82", b"\xc0\xaf overlong", b"ok \xed\xa0\x80 surrogate",
           b"mixed \xe2\x82\xac\x80 euro"]
    out = run_tool("tokenize", input_bytes=b"\n".join(raw) + b"\n").stdout.decode().splitlines()
    want = [" ".join(map(str, hf_tokenizer.encode(r.decode("utf-8", "replace"), add_special_tokens=False))) for r in raw]
    assert out == want
