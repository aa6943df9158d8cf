"""The bindings against the C++ CLI on the same inputs, and their errors, threads and offsets."""
import json
import os
import threading
import time

import pytest

import ner4el
from conftest import SOURCE, run_tool, shared_mentions


def test_package_is_this_build():
    assert os.path.samefile(os.path.dirname(ner4el._core.__file__), os.path.dirname(ner4el.__file__))
    assert ner4el.__version__ == "0.1.0"


def test_link_gives_what_the_cli_gives(pipeline, wordnet_kb, tmp_path):
    """150 real mentions (MSNBC) linked through Python and through 'ner4el link': same entities,
    scores and candidate lists."""
    rows = shared_mentions(limit=150)
    src = tmp_path / "mentions.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "linked.jsonl"
    run_tool("link", "--kb", wordnet_kb, "-i", str(src), "-o", str(out))
    cli = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    results = pipeline.link(rows)
    assert len(results) == len(cli) == 150
    linked = 0
    for r, c in zip(results, cli):
        d = r.to_dict()
        assert {k: c[k] for k in d} == d  # every field as the CLI wrote it (same scores, same candidates)
        assert r.title == c.get("title")
        if r.title is None:
            assert r.candidates == [] and r.miss == c["reason"]
            continue
        linked += 1
        assert (r.entity.id, r.score) == (c["entity_id"], c["score"])
        assert [x.title for x in r.candidates] == [a["title"] for a in c["alternatives"]]
    assert linked >= 20  # WordNet has the well-known places and people of the news


def test_mention_forms_agree(pipeline):
    """A Mention, NER4EL's dict, BLINK's dict and a (left, mention, right) tuple are the same mention."""
    left, mention, right = "Troy fell after ", "Paris", " abducted Helen of Sparta."
    forms = [
        ner4el.Mention(mention, left, right),
        {"mention": mention, "left_context": left, "right_context": right},
        {"mention": mention, "context_left": left, "context_right": right, "label_title": "Paris"},
        (left, mention, right),
    ]
    results = pipeline.link(forms)
    assert {r.title for r in results} == {"Paris (mythical being)"}
    assert len({r.score for r in results}) == 1
    # Context decides: the city in another sentence.
    assert pipeline.link([("I flew to ", "Paris", " and saw the Eiffel Tower.")])[0].title == "Paris"


def test_annotate_gives_what_the_cli_gives(pipeline, wordnet_kb):
    text = "Troy fell after Paris abducted Helen of Sparta."
    cli = json.loads(run_tool("annotate", "--kb", wordnet_kb, "--mentions", "spotter", "--text", text).stdout.splitlines()[0])
    ents = pipeline.annotate(text)
    assert [e.to_dict() for e in ents] == cli["spans"]
    assert (16, 21, "Paris", "Paris (mythical being)") in [(e.start, e.end, e.text, e.title) for e in ents]
    # A list of texts gives a list per text, in order; the same text links the same way.
    many = pipeline.annotate([text, "No names here.", text], batch_size=2)
    assert [len(x) for x in many] == [len(ents), 0, len(ents)]
    assert [e.title for e in many[2]] == [e.title for e in ents]


def test_offsets_are_python_str_indices(pipeline):
    text = "Über Zürich und Köln: Troy fell after Paris abducted Helen of Sparta. 😀 Vienna"
    for e in pipeline.annotate(text):
        assert text[e.start:e.end] == e.text
        assert text.encode()[e.byte_start:e.byte_end].decode() == e.text
    start = text.index("Vienna")
    [e] = pipeline.link_spans(text, [(start, start + 6)])
    assert (e.text, e.title, e.detection_score) == ("Vienna", "Vienna", 1.0)
    assert [pipeline.detect(text)] == [[(e.start, e.end) for e in pipeline.annotate(text, threshold=0.5)]]


def test_errors_carry_the_cpp_message(wordnet_kb, tmp_path, pipeline):
    with pytest.raises(ner4el.NotFoundError, match="no knowledge base here") as e:
        ner4el.Pipeline(str(tmp_path / "missing"))
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, ner4el.Error)
    # A corrupt store: refused with the fix, not a crash.
    bad = tmp_path / "bad-kb"
    bad.mkdir()
    (bad / "data.mdb").write_bytes(b"\0" * 100)
    with pytest.raises(ner4el.FormatError, match="rebuild"):
        ner4el.Pipeline(str(bad))
    with pytest.raises(ner4el.InvalidArgument, match="k must be between 1 and 10000"):
        ner4el.Pipeline(wordnet_kb, model="prior", k=0)
    with pytest.raises(ner4el.InvalidArgument, match="needs the --model it was built with"):
        ner4el.Pipeline(wordnet_kb, model="prior", index=str(tmp_path))
    with pytest.raises(ner4el.InvalidArgument, match=r"mentions\[1\]: field 'mention': missing"):
        pipeline.link([("a ", "Paris", " b"), {"left_context": "x"}])
    with pytest.raises(ner4el.InvalidArgument, match=r"mentions\[0\]: field 'left_context': expected a string"):
        pipeline.link([{"mention": "Paris", "left_context": 3}])
    with pytest.raises(ner4el.InvalidArgument, match="wrap a single one in a list"):
        pipeline.link("Paris")
    with pytest.raises(ValueError, match="outside the text|expected 0 <= start"):
        pipeline.link_spans("Paris", [(2, 100)])
    with pytest.raises(ner4el.InvalidArgument, match="batch_size must be at least 1"):
        pipeline.annotate(["Paris"], batch_size=0)
    with pytest.raises(ner4el.InvalidArgument, match="top must be between"):
        pipeline.link([("", "Paris", "")], top=0)
    with pytest.raises(ner4el.InvalidArgument, match="count prior has no NER-CD"):
        ner4el.Pipeline(wordnet_kb, model="prior").link([("", "Paris", "")], ner_cd=True)
    with pytest.raises(TypeError):
        pipeline.annotate([b"bytes are not text"])
    with pytest.raises((TypeError, UnicodeEncodeError)):  # not UTF-8: refused by the conversion
        pipeline.annotate("lone surrogate \ud800 Paris")
    # The pipeline still works after every error.
    assert pipeline.link([("", "Paris", "")])[0].title is not None


def test_per_call_options(pipeline):
    m = [("Troy fell after ", "Paris", " abducted Helen of Sparta.")]
    assert len(pipeline.link(m)[0].candidates) == 3
    assert len(pipeline.link(m, top=1)[0].candidates) == 1
    assert pipeline.link(m, k=1)[0].title == "Paris"  # one candidate: the most linked one
    lower = "we walked around paris in the spring"
    assert pipeline.annotate(lower) == []
    assert [e.text for e in pipeline.annotate(lower, require_capital=False)] == ["paris"]


def test_mentions_bring_their_own_candidates(pipeline):
    """Candidates given as KB ids or titles replace the alias table's, in every mention form; one
    the KB lacks is an error naming the mention and the candidate."""
    context = ("Troy fell after ", "Paris", " abducted Helen of Sparta.")
    by_table = pipeline.link([context])[0]
    city = next(c for c in by_table.candidates if c.title == "Paris")
    m = ner4el.Mention("Paris", context[0], context[2], candidates=["Paris"])
    assert m.candidates == ["Paris"]
    forced = pipeline.link([m, {"mention": "Paris", "left_context": context[0], "right_context": context[2],
                                "candidates": [city.id]}])
    assert [r.title for r in forced] == ["Paris", "Paris"] != [by_table.title] * 2
    assert [len(r.candidates) for r in forced] == [1, 1]
    m.candidates = None  # back to the alias table
    assert pipeline.link([m])[0].title == by_table.title
    with pytest.raises(ner4el.FormatError, match=r"mentions\[1\]: candidates\[0\]: no entity with id 999999999"):
        pipeline.link([m, {"mention": "Paris", "left_context": "", "right_context": "", "candidates": [999999999]}])
    with pytest.raises(ner4el.FormatError, match=r"mentions\[70\]: candidates\[0\]"):  # past the first batch
        pipeline.link([m] * 70 + [{"mention": "Paris", "left_context": "", "right_context": "", "candidates": [-5]}],
                      batch_size=64)
    with pytest.raises(ner4el.InvalidArgument, match=r"candidates\[0\]: expected a KB id \(int\) or a title \(str\)"):
        ner4el.Mention("Paris", candidates=[1.5])


def test_gil_is_released_while_linking(pipeline):
    """Another Python thread keeps running while a long link() works in C++."""
    rows = shared_mentions("aquaint_test.jsonl", limit=300)
    done = threading.Event()
    out = {}

    def work():
        t = time.monotonic()
        out["results"] = pipeline.link(rows)
        out["seconds"] = time.monotonic() - t
        done.set()

    ticks = []
    worker = threading.Thread(target=work)
    worker.start()
    while not done.is_set():
        ticks.append(time.monotonic())
        time.sleep(0.001)
    worker.join()
    assert out["seconds"] > 0.5, "the link call was too short to tell"
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < 0.25, f"main thread stalled {max(gaps):.2f} s during a {out['seconds']:.2f} s call"


def test_threads_share_one_pipeline(pipeline):
    rows = shared_mentions("ace2004_test.jsonl", limit=80)
    serial = [r.title for r in pipeline.link(rows)]
    results = [None] * 4

    def work(i):
        results[i] = [r.title for r in pipeline.link(rows[i::4] if i % 2 else rows)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == serial and results[2] == serial
    assert results[1] == serial[1::4] and results[3] == serial[3::4]


def test_results_are_plain_objects(pipeline):
    [r] = pipeline.link([("Troy fell after ", "Paris", " abducted Helen of Sparta.")])
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["title"] == "Paris (mythical being)" and d["alternatives"][0]["title"] == d["title"]
    assert 0 <= d["alternatives"][0]["prior"] <= 1 and d["alternatives"][0]["cosine"] is not None
    assert r.candidates[1].to_dict() == d["alternatives"][1]
    [e] = pipeline.link_spans("Troy fell after Paris abducted Helen of Sparta.", [(16, 21)])
    assert e.to_dict()["title"] == "Paris (mythical being)"
    assert repr(e) == "Entity(16, 21, 'Paris' -> 'Paris (mythical being)')"
    assert "entities" in repr(pipeline)


def test_type_stubs_describe_the_module():
    stub = os.path.join(os.path.dirname(ner4el.__file__), "_core.pyi")
    text = open(stub, encoding="utf-8").read()
    for needle in ("class Pipeline", "def link(self", "def annotate(self", "def link_spans(self", "class Entity",
                   "def title(self) -> str | None"):
        assert needle in text
    assert os.path.isfile(os.path.join(os.path.dirname(ner4el.__file__), "py.typed"))


def test_tagger_and_mention_detection_modes(wordnet_kb):
    tagger = ner4el.Tagger()
    assert tagger.types == ["LOC", "MISC", "ORG", "PER"]
    text = "Helmut Kohl met Boris Yeltsin in Moscow ."
    [spans] = tagger.tag([text])
    assert [(s["text"], s["type"]) for s in spans] == [("Helmut Kohl", "PER"), ("Boris Yeltsin", "PER"), ("Moscow", "LOC")]
    assert all(text[s["start"]:s["end"]] == s["text"] and 0.5 < s["score"] <= 1 for s in spans)
    p = ner4el.Pipeline(wordnet_kb, mentions="tagger")
    found = p.annotate(text)
    assert [(e.text, e.type) for e in found] == [(s["text"], s["type"]) for s in spans]
    assert {e.text: e.title for e in found}["Moscow"] == "Moscow"
    assert {e.text: e.title for e in found}["Helmut Kohl"] is None  # not in WordNet: NIL, kept
    # Per call: the spotter alone finds only what the KB has, with no type.
    spotted = p.annotate(text, mentions="spotter")
    assert all(e.title is not None and e.type is None for e in spotted)
    assert p.detect(text, mentions="tagger") == [(s["start"], s["end"]) for s in spans]
    with pytest.raises(ner4el.InvalidArgument, match="spotter, tagger or both"):
        p.annotate(text, mentions="flair")
    with pytest.raises(ner4el.InvalidArgument, match="needs the NER tagger"):
        ner4el.Pipeline(wordnet_kb, mentions="spotter").annotate(text, mentions="tagger")
    # By default ("auto") the installed tagger finds the mentions.
    assert [e.text for e in ner4el.Pipeline(wordnet_kb).annotate(text)] == [s["text"] for s in spans]


def test_a_mentions_own_class_drives_ner_cd(pipeline):
    """Without a NER classifier, NER-CD uses the class a mention brings (as the tagger's spans do)."""
    m = ner4el.Mention("Paris", "Troy fell after ", " abducted Helen of Sparta.", ner="LOC")
    assert m.ner == "LOC"
    assert pipeline.link([m])[0].title == "Paris (mythical being)"  # the context alone
    assert pipeline.link([m], ner_cd=True)[0].title == "Paris"  # a LOC: the city
    assert pipeline.link([{"mention": "Paris", "left_context": "Troy fell after ", "ner": "LOC"}], ner_cd=True)[0].title == "Paris"
