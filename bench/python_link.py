"""What `ner4el link` does, through the Python package: load, read JSON Lines, link in batches of 64,
write one JSON object per mention. Used by bench/python.sh.
Usage: python bench/python_link.py KB INDEX MENTIONS.jsonl OUT.jsonl"""
import json
import sys

import ner4el

kb, index, src, dst = sys.argv[1:5]
pipeline = ner4el.Pipeline(kb, index=index)
with open(src, encoding="utf-8") as f:
    rows = [json.loads(line) for line in f if line.strip()]
results = pipeline.link(rows, batch_size=64)
with open(dst, "w", encoding="utf-8") as f:
    for row, result in zip(rows, results):
        f.write(json.dumps({**row, **result.to_dict()}) + "\n")
