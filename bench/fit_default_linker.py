"""Fits the default linker's prior weights (conf/default_linker.json) and reports held-out accuracy.

The default linker scores a candidate as cosine + W * log p(e|m) - R * log(1 + rank) (LinkOptions).
This runs `ner4el link` once per data set with the installed pretrained model and W = R = 0, keeps
every candidate's cosine, prior and rank from the output, and grid-searches W and R for the best
accuracy on the development sets (the shared MSNBC and AQUAINT mentions whose gold entity is in the
WordNet KB), ties going to the smallest W + R (the most weight on the context). It reports the
count prior, the cosine alone (zero-shot) and the fitted mix on the held-out sets (ACE2004 and
examples/mentions.jsonl).

Usage: .venv/bin/python bench/fit_default_linker.py [--write]   (after scripts/demo made out/wordnet-kb)
"""
import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.environ.get("NER4EL_BIN", os.path.join(ROOT, "build", "ner4el"))
KB = os.environ.get("NER4EL_KB", os.path.join(ROOT, "out", "wordnet-kb"))
SHARED = os.path.join(ROOT, "..", "shared", "data", "ner4el")
DEV = {"MSNBC": os.path.join(SHARED, "msnbc_test.jsonl"), "AQUAINT": os.path.join(SHARED, "aquaint_test.jsonl")}
HELD_OUT = {"ACE2004": os.path.join(SHARED, "ace2004_test.jsonl"), "examples": os.path.join(ROOT, "examples", "mentions.jsonl")}
W_GRID = [0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0]
R_GRID = [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0]


def scored(path):
    """Mentions with candidates and a gold title in the KB: [(gold title, [(title, cosine, prior, rank)])]."""
    out = subprocess.run([TOOL, "link", "--kb", KB, "-i", path, "--top", "1000", "--prior-weight", "0", "--rank-weight", "0"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        j = json.loads(line)
        if not j.get("entity_id") or j.get("gold_id") is None:
            continue  # no candidate, or no gold entity in the KB: not scored (docs/reference.md)
        alts = [(a["title"], a["cosine"], a["prior"], a["rank"]) for a in j["alternatives"]]
        # a gold title not among the candidates is scored and always wrong
        rows.append((j["output"], alts))
    return rows


def accuracy(rows, w, r, cosine=True):
    ok = 0
    for gold, alts in rows:
        best = max(alts, key=lambda a: (a[1] if cosine else 0) + w * math.log(a[2]) - r * math.log1p(a[3]))
        ok += best[0] == gold
    return ok, len(rows)


def main():
    sets = {name: scored(path) for name, path in {**DEV, **HELD_OUT}.items() if os.path.exists(path)}
    dev = [row for name in DEV for row in sets.get(name, [])]
    best = None
    for w in W_GRID:
        for r in R_GRID:
            ok, n = accuracy(dev, w, r)
            key = (ok, -(w + r))
            if best is None or key > best[0]:
                best = (key, w, r)
    _, w, r = best
    print(f"fitted on {len(dev)} development mentions (MSNBC + AQUAINT in the WordNet KB): prior_weight {w}, rank_weight {r}")
    print("| data set | mentions | count prior | zero-shot cosine | cosine + fitted prior |")
    print("|---|---|---|---|---|")
    for name, rows in sets.items():
        p = accuracy(rows, 1, 1e-6, cosine=False)[0]  # the count prior: highest count, ties to the first
        z = accuracy(rows, 0, 0)[0]
        m = accuracy(rows, w, r)[0]
        n = len(rows)
        tag = " (dev)" if name in DEV else " (held out)"
        print(f"| {name}{tag} | {n} | {100 * p / n:.1f} | {100 * z / n:.1f} | {100 * m / n:.1f} |")
    if "--write" in sys.argv:
        conf = {"prior_weight": w, "rank_weight": r,
                "fitted": "bench/fit_default_linker.py: grid search for the best accuracy on the MSNBC and AQUAINT "
                          f"mentions whose gold is in the WordNet KB ({len(dev)} mentions), ties to the smallest sum",
                "model": "models/minilm-l6 (all-MiniLM-L6-v2), sentence style"}
        path = os.path.join(ROOT, "conf", "default_linker.json")
        with open(path + ".tmp", "w") as f:
            json.dump(conf, f, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
