#!/usr/bin/python3
"""The release's way of loading the knowledge base: pickle.load + pandas.read_csv into dicts.

  release_load.py DIR   prints one JSON line: seconds, peak resident memory (MB), lookups/s
"""
import json
import pickle
import resource
import sys
import time

import pandas as pd

d = sys.argv[1]
t0 = time.time()
with open(f"{d}/aliases.pickle", "rb") as f:
    alias_table = pickle.load(f)
with open(f"{d}/titles.pickle", "rb") as f:
    titles = pickle.load(f)
with open(f"{d}/id2ner.pickle", "rb") as f:
    id2ner = pickle.load(f)
desc = pd.read_csv(f"{d}/descriptions.csv")
descriptions = dict(zip(desc["text_id"], desc["text"]))
del desc
cnt = pd.read_csv(f"{d}/counts.csv")
counts = dict(zip(cnt["page_id"], cnt["counts"]))
del cnt
load_s = time.time() - t0

queries = open(f"{d}/queries.txt").read().split("\n")[:200_000]
t1 = time.time()
n = 0
for q in queries:
    cands = [c for c in alias_table.get(q.lower(), []) if c in descriptions]
    cands = sorted(cands, key=lambda c: counts.get(c, 0), reverse=True)[:40]
    n += len(cands)
lookup_s = time.time() - t1
print(json.dumps({"load_s": round(load_s, 1),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "lookups_per_s": round(len(queries) / lookup_s), "candidates": n}))
