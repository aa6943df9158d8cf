#!/usr/bin/env bash
# Linking through Python against the C++ CLI, on the same input in one run: the 1,640 shared mentions
# (MSNBC + AQUAINT + ACE2004) with the WordNet KB, its index and the default linker. Each side is a
# whole process (load, read the JSON Lines, link in batches of 64, write one JSON object per mention):
# `ner4el link` against `python bench/python_link.py` with the package `pip install .` put in .venv.
# Runs alternate, REPS each; prints a JSON line per run and the medians with their ratio.
# Usage: bench/python.sh [REPS] [WORKDIR]   (after the README's set-up)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BIN:-build/ner4el}
PY=${NER4EL_PYTHON:-.venv/bin/python}
REPS=${1:-3}
WORK=${2:-$(mktemp -d)}
SHARED=../shared/data/ner4el
mkdir -p "$WORK"
[ -f "$WORK/kb/data.mdb" ] || "$BIN" kb build --from wordnet -o "$WORK/kb" >/dev/null
[ -f "$WORK/index" ] || "$BIN" index --kb "$WORK/kb" -o "$WORK/index" 2>/dev/null
cat "$SHARED"/msnbc_test.jsonl "$SHARED"/aquaint_test.jsonl "$SHARED"/ace2004_test.jsonl > "$WORK/mentions.jsonl"
/usr/bin/python3 - "$BIN" "$PY" "$WORK" "$REPS" <<'PY'
import json, statistics, subprocess, sys, time
bin_, py, work, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
n = sum(1 for line in open(f"{work}/mentions.jsonl") if line.strip())
cmds = {
    "cli": [bin_, "link", "--kb", f"{work}/kb", "--index", f"{work}/index", "-i", f"{work}/mentions.jsonl",
            "-o", f"{work}/cli.jsonl"],
    "python": [py, "bench/python_link.py", f"{work}/kb", f"{work}/index", f"{work}/mentions.jsonl", f"{work}/python.jsonl"],
}
rates = {k: [] for k in cmds}
for rep in range(reps):
    for side, cmd in cmds.items():
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        s = time.perf_counter() - t
        rates[side].append(n / s)
        print(json.dumps({"run": rep + 1, "side": side, "seconds": round(s, 2), "mentions_per_s": round(n / s, 1)}))
cli = [json.loads(l) for l in open(f"{work}/cli.jsonl")]
pyo = [json.loads(l) for l in open(f"{work}/python.jsonl")]
same = sum(c.get("entity_id") == p.get("entity_id") for c, p in zip(cli, pyo))
med = {k: statistics.median(v) for k, v in rates.items()}
print(json.dumps({"mentions": n, "cli_mentions_per_s": round(med["cli"], 1), "python_mentions_per_s": round(med["python"], 1),
                  "python_over_cli": round(med["python"] / med["cli"], 3), "same_entity": f"{same}/{len(cli)}"}))
PY
