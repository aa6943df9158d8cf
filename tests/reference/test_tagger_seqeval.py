"""The NER tagger's scores against seqeval (PyPI), the scorer NER papers report with.

`ner4el tag --scores` scores exact spans and types, micro-averaged; seqeval scores BIO sequences.
Both read the same output here: the first 60 CoNLL-2003 test documents (AIDA-B) tagged by the
shipped tagger. The text is cut into pieces at every whitespace and at every boundary of a gold or
a tagged span, so each span is a run of whole pieces and seqeval sees exactly the spans we do.
"""
import json
import os

import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

from conftest import SHARED, run_tool

DOCS = os.path.join(SHARED, "aida", "aida_test_docs.jsonl")


def bio(text, spans, cuts):
    """BIO tags of spans over the pieces of text cut at whitespace and at the offsets in cuts."""
    bounds = sorted(set(cuts) | {0, len(text)})
    pieces = []
    for a, b in zip(bounds, bounds[1:]):
        start = a
        for i in range(a, b + 1):  # split each interval at whitespace
            if i == b or text[i].isspace():
                if i > start:
                    pieces.append((start, i))
                start = i + 1
    tags = ["O"] * len(pieces)
    for s in spans:
        inside = [k for k, (a, b) in enumerate(pieces) if a >= s["start"] and b <= s["end"]]
        assert inside, f"span {s} covers no piece"
        for n, k in enumerate(inside):
            tags[k] = ("B-" if n == 0 else "I-") + s["type"]
    return pieces, tags


@pytest.mark.skipif(not os.path.isfile(DOCS), reason="../shared/data/aida missing")
def test_seqeval_gives_our_scores(tmp_path):
    subset = tmp_path / "docs.jsonl"
    with open(DOCS, encoding="utf-8") as f:
        docs = [json.loads(line) for _, line in zip(range(60), f)]
    subset.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    out, scores = tmp_path / "tags.jsonl", tmp_path / "scores.json"
    run_tool("tag", "-i", str(subset), "-o", str(out), "--scores", str(scores))
    tagged = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    ours = json.loads(scores.read_text())
    assert [t["id"] for t in tagged] == [d["id"] for d in docs]

    gold_seqs, pred_seqs = [], []
    for doc, t in zip(docs, tagged):
        text = doc["text"]
        for s in t["spans"]:  # offsets are code points: Python's indexing
            assert text[s["start"]:s["end"]] == s["mention"]
        gold, pred = doc["ner_spans"], t["spans"]
        cuts = {p for s in gold + pred for p in (s["start"], s["end"])}
        gold_pieces, gold_tags = bio(text, gold, cuts)
        pred_pieces, pred_tags = bio(text, pred, cuts)
        assert gold_pieces == pred_pieces
        gold_seqs.append(gold_tags)
        pred_seqs.append(pred_tags)

    assert ours["gold"] == sum(len(d["ner_spans"]) for d in docs)
    assert ours["detected"] == sum(len(t["spans"]) for t in tagged)
    assert precision_score(gold_seqs, pred_seqs) == pytest.approx(ours["precision"], abs=1e-12)
    assert recall_score(gold_seqs, pred_seqs) == pytest.approx(ours["recall"], abs=1e-12)
    assert f1_score(gold_seqs, pred_seqs) == pytest.approx(ours["f1"], abs=1e-12)
    report = classification_report(gold_seqs, pred_seqs, output_dict=True)
    for type_, counts in ours["types"].items():
        if counts["gold"] == 0:
            continue
        assert report[type_]["f1-score"] == pytest.approx(counts["f1"], abs=1e-12), type_
        assert report[type_]["support"] == counts["gold"]
    # The shipped tagger is a real one: well above chance on these documents.
    assert ours["f1"] > 0.8

