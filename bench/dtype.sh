#!/usr/bin/env bash
# The real pretrained model (all-MiniLM-L6-v2) with the WordNet KB, per dtype, in one run: the index
# build rate (7,730 entities), mentions per second of `ner4el link` over the 1,640 shared mentions
# (MSNBC + AQUAINT + ACE2004), and each dtype's answers against fp32's: agreement of the linked
# entity, and accuracy on the mentions whose gold entity is in WordNet. Then the default dtype on 1
# core against every core. Prints JSON lines.
# Usage: bench/dtype.sh [WORKDIR]   (after the build and scripts/install-deps)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BIN:-build/ner4el}
WORK=${1:-$(mktemp -d)}
SHARED=../shared/data/ner4el
mkdir -p "$WORK"
[ -f "$WORK/kb/data.mdb" ] || "$BIN" kb build --from wordnet -o "$WORK/kb" >/dev/null
cat "$SHARED"/msnbc_test.jsonl "$SHARED"/aquaint_test.jsonl "$SHARED"/ace2004_test.jsonl > "$WORK/mentions.jsonl"
/usr/bin/python3 - "$BIN" "$WORK" <<'PY'
import json, os, subprocess, sys, time
bin_, work = sys.argv[1], sys.argv[2]
def seconds(*args, env=None):
    t = time.perf_counter()
    subprocess.run([bin_, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - t
def answers(path):
    return [json.loads(line) for line in open(path)]
ref = None
for dtype in ["fp32", "bf16", "int8"]:
    index, out = f"{work}/index-{dtype}", f"{work}/links-{dtype}.jsonl"
    if os.path.exists(index):
        os.remove(index)
    try:
        t_index = seconds("index", "--kb", f"{work}/kb", "-o", index, "--dtype", dtype)
    except subprocess.CalledProcessError:
        print(json.dumps({"dtype": dtype, "supported": False}))
        continue
    t_link = seconds("link", "--kb", f"{work}/kb", "--index", index, "--dtype", dtype, "-i", f"{work}/mentions.jsonl", "-o", out)
    got = answers(out)
    ref = ref or got
    linked = [i for i, a in enumerate(ref) if len(a.get("alternatives") or []) > 1]  # the encoder decides
    agree = sum(got[i].get("entity_id") == ref[i].get("entity_id") for i in linked)
    gold = [i for i, a in enumerate(got) if a.get("gold_id") is not None]
    right = sum(got[i].get("entity_id") == got[i]["gold_id"] for i in gold)
    print(json.dumps({"dtype": dtype, "index_seconds": round(t_index, 1), "entities_per_s": round(7730 / t_index, 1),
                      "link_seconds": round(t_link, 1), "mentions_per_s": round(len(got) / t_link, 1),
                      "mentions_with_2+_candidates": len(linked), "agreement_with_fp32": round(agree / max(1, len(linked)), 4),
                      "gold_in_kb": len(gold), "accuracy": round(right / max(1, len(gold)), 4)}))
default = subprocess.run([bin_, "--version"], capture_output=True, text=True).stdout.split("default dtype ")[1].split()[0]
for threads in ["1", str(os.cpu_count())]:
    t = seconds("link", "--kb", f"{work}/kb", "--index", f"{work}/index-{default}", "-i", f"{work}/mentions.jsonl",
                "-o", f"{work}/threads.jsonl", env={"NER4EL_THREADS": threads})
    print(json.dumps({"dtype": default, "threads": int(threads), "link_seconds": round(t, 1),
                      "mentions_per_s": round(1640 / t, 1)}))
PY
