"""scripts/make-aida-setting on the shared AIDA-CoNLL documents, checked against the documents read
here directly, and 'ner4el evaluate' on the mentions it writes against an independent scorer of the
most-linked-candidate baseline."""
import json
import os
import subprocess
import sys

import pytest

from conftest import SHARED, SOURCE, TOOL, run_tool

DOCS = os.path.join(SHARED, "aida")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    if not os.path.isfile(os.path.join(DOCS, "aida_test_docs.jsonl")):
        pytest.skip(f"{DOCS} not found")
    out = tmp_path_factory.mktemp("aida")
    proc = subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "make-aida-setting"), "-o", str(out),
                           "--data", DOCS, "--tool", TOOL], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_kb_and_mentions_match_the_documents(setting):
    out, report = setting
    pages, linked, with_candidates = {}, 0, 0
    for doc in read_jsonl(os.path.join(DOCS, "aida_test_docs.jsonl")):
        for s in doc["spans"]:
            for c in s.get("candidates") or []:
                pages[c["id"]] = c
            if s["title"] is not None:
                linked += 1
                with_candidates += bool(s.get("candidates"))
    entities = {e["id"]: e for e in read_jsonl(out / "entities.jsonl")}
    assert set(pages) <= set(entities)  # every candidate page of the test split is an entity
    for pid in list(pages)[:200]:
        e, c = entities[pid], pages[pid]
        assert (e["title"], e["count"]) == (c["title"], c["in"])
        assert e.get("class") == {"PER": "PER", "ORG": "ORG", "GPE": "LOC"}.get(c["type"])
    info = json.loads(run_tool("kb", "info", str(out / "kb")).stdout)
    assert info["entities"] == len(entities) == info["entities_with_description"]
    described = [e for e in entities.values() if e["description"] != e["title"]]
    assert len(described) > 1000, "lead paragraphs from samples/wikipedia-leads (scripts/install-deps)"
    mentions = read_jsonl(out / "aida_test.jsonl")
    assert (len(mentions), sum("candidates" in m for m in mentions)) == (linked, with_candidates) == (4485, 4467)
    assert f"test: 4,485 linked mentions" in report


def test_evaluate_agrees_with_an_independent_popularity_scorer(setting, tmp_path):
    """The count prior over given candidates is the most-linked-candidate baseline: 'evaluate'
    and a scorer written here (exact title match) give the same counts."""
    out, _ = setting
    entities = {e["id"]: e for e in read_jsonl(out / "entities.jsonl")}
    by_title = {e["title"]: e["id"] for e in entities.values()}
    mentions = [m for m in read_jsonl(out / "aida_test.jsonl") if "candidates" in m]
    scored = correct = 0
    for m in mentions:
        gold = by_title.get(m["output"])
        if gold is None:
            continue
        ids = list(dict.fromkeys(m["candidates"]))  # repeats go, first place kept
        best = max(ids, key=lambda i: (entities[i]["count"], -ids.index(i)))  # ties: the earlier one
        scored += 1
        correct += best == gold
    data = tmp_path / "with-candidates.jsonl"
    data.write_text("".join(json.dumps(m) + "\n" for m in mentions), encoding="utf-8")
    report = json.loads(run_tool("evaluate", "--kb", str(out / "kb"), "--model", "prior", "--json", "--data",
                                 str(data)).stdout)
    got = report["data_sets"][0]
    assert got["not_in_alias_table"] == 0 and got["no_candidates"] == 0
    assert got["scored"] == scored
    assert round(got["accuracy"] * scored) == correct
    assert 0.75 < correct / scored < 0.85  # the popularity baseline of AIDA-B: about 80%
