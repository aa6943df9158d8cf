#!/usr/bin/python3
"""Writes a tiny knowledge base in the NER4EL release formats (pickles, pandas-style CSVs).

Usage: make_kb_fixture.py OUTDIR [--protocol N]

Entities (id: title, count, class, description):
  1 Paris              500 LOC   plain
  2 Paris Hilton       300 PER   commas and "quotes" in the description
  3 Paris, Texas       300 LOC   a newline inside the description (ties with 2 on count)
  4 Paris (mythology) 1000 SUPER no description: never a candidate
  5 Abraham Lincoln    800 PER
  6 Lincoln, Nebraska  200 LOC
  7 Lincoln Motor Company  (no count) ORG
  8 Emptyville          10 LOC   no alias
"""
import csv
import pickle
import sys

out = sys.argv[1]
protocol = int(sys.argv[sys.argv.index("--protocol") + 1]) if "--protocol" in sys.argv else pickle.HIGHEST_PROTOCOL

titles = {1: "Paris", 2: "Paris Hilton", 3: "Paris, Texas", 4: "Paris (mythology)", 5: "Abraham Lincoln",
          6: "Lincoln, Nebraska", 7: "Lincoln Motor Company", 8: "Emptyville"}
descriptions = {
    1: "Paris is the capital and most populous city of France.",
    2: 'Paris Whitney Hilton is an American "media personality", businesswoman, and socialite.',
    3: "Paris is a city in Lamar County,\nTexas, United States.",
    5: "Abraham Lincoln was the 16th president of the United States.",
    6: "Lincoln is the capital city of the U.S. state of Nebraska.",
    7: "The Lincoln Motor Company is a division of Ford.",
    8: "Emptyville is a place with no alias.",
}
counts = {1: 500, 2: 300, 3: 300, 4: 1000, 5: 800, 6: 200, 8: 10}
# Insertion order fixes the classifier's class order: PER, LOC, SUPER, ORG.
id2ner = {"2": "PER", "1": "LOC", "4": "SUPER", "5": "PER", "6": "LOC", "7": "ORG", "3": "LOC", "8": "LOC"}
aliases = {"paris": [4, 2, 3, 1], "lincoln": [7, 6, 5], "hilton": [2], "ghost": [4], "abe": [5, 5]}

with open(f"{out}/aliases.pickle", "wb") as f:
    pickle.dump(aliases, f, protocol=protocol)
with open(f"{out}/titles.pickle", "wb") as f:
    pickle.dump(titles, f, protocol=protocol)
with open(f"{out}/id2ner.pickle", "wb") as f:
    pickle.dump(id2ner, f, protocol=protocol)
# pandas' to_csv: an unnamed index column, QUOTE_MINIMAL, "\n" line ends.
with open(f"{out}/descriptions.csv", "w", newline="") as f:
    w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(["", "text_id", "text"])
    for i, (k, v) in enumerate(descriptions.items()):
        w.writerow([i, k, v])
with open(f"{out}/counts.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["page_id", "counts"])
    for k, v in counts.items():
        w.writerow([k, v])
