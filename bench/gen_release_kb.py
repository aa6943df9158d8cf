#!/usr/bin/python3
"""Generates a synthetic knowledge base in the NER4EL release's formats, at release scale by default.

  gen_release_kb.py OUTDIR [--scale 1.0]

scale 1.0: 6M entities with ~300-character descriptions, 15M aliases (the release: 732 MB alias
pickle, 2.7 GB descriptions CSV). Files: aliases.pickle, descriptions.csv, counts.csv,
titles.pickle, id2ner.pickle, and queries.txt (aliases to look up, in random order).
"""
import pickle
import random
import sys
import time

import numpy as np
import pandas as pd

out = sys.argv[1]
scale = float(sys.argv[sys.argv.index("--scale") + 1]) if "--scale" in sys.argv else 1.0
n_ent = int(6_000_000 * scale)
n_alias = int(15_000_000 * scale)
rng = np.random.default_rng(2)
random.seed(2)
t0 = time.time()

ids = np.sort(rng.choice(70_000_000, size=n_ent, replace=False)) + 1
classes = ["PER", "LOC", "ORG", "ANIM", "BIO", "CEL", "DIS", "EVE", "FOOD", "INST", "MEDIA", "MON", "NUM",
           "PHYS", "PLANT", "SUPER", "TIME", "VEHI"]
words = ["".join(random.choices("abcdefghijklmnopqrstuvwxyz", k=random.randint(2, 10))) for _ in range(20000)]

# descriptions: ~300 characters of words; about 95% of entities have one
has_desc = rng.random(n_ent) < 0.95
word_idx = rng.integers(0, len(words), size=(n_ent, 48))
with open(f"{out}/descriptions.csv", "w") as f:
    f.write(",text_id,text\n")
    for i in range(n_ent):
        if not has_desc[i]:
            continue
        text = " ".join(words[j] for j in word_idx[i])[:300]
        f.write(f'{i},{ids[i]},"{text}, a thing."\n')
print(f"descriptions: {time.time() - t0:.0f}s", file=sys.stderr)

counts = (rng.zipf(1.5, size=n_ent) - 1).clip(0, 10_000_000)
pd.DataFrame({"page_id": ids, "counts": counts}).to_csv(f"{out}/counts.csv", index=False)

titles = {int(i): f"Entity {int(i)}" for i in ids}
with open(f"{out}/titles.pickle", "wb") as f:
    pickle.dump(titles, f, protocol=4)
del titles
cls = rng.integers(0, len(classes), size=n_ent)
typed = rng.random(n_ent) < 0.85
id2ner = {str(int(ids[i])): classes[cls[i]] for i in range(n_ent) if typed[i]}
with open(f"{out}/id2ner.pickle", "wb") as f:
    pickle.dump(id2ner, f, protocol=4)
del id2ner
print(f"counts, titles, types: {time.time() - t0:.0f}s", file=sys.stderr)

sizes = rng.integers(1, 7, size=n_alias)
members = rng.integers(0, n_ent, size=int(sizes.sum()))
aliases = {}
pos = 0
for a in range(n_alias):
    k = int(sizes[a])
    aliases[f"{words[a % len(words)]} {a}"] = [int(ids[j]) for j in members[pos:pos + k]]
    pos += k
with open(f"{out}/aliases.pickle", "wb") as f:
    pickle.dump(aliases, f, protocol=4)
keys = list(aliases.keys())
del aliases
random.shuffle(keys)
with open(f"{out}/queries.txt", "w") as f:
    f.write("\n".join(keys[:1_000_000]) + "\n")
print(f"aliases: {time.time() - t0:.0f}s", file=sys.stderr)
