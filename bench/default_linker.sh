#!/usr/bin/env bash
# The default linker (pretrained encoder + fitted prior) against the count prior, in one run: mentions
# per second of `ner4el link` over the 1,640 shared mentions (MSNBC + AQUAINT + ACE2004) with the
# WordNet KB, and the time to index the KB's 7,730 entities. Prints JSON lines.
# Usage: bench/default_linker.sh [WORKDIR]   (after the build and scripts/install-deps)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BIN:-build/ner4el}
WORK=${1:-$(mktemp -d)}
SHARED=../shared/data/ner4el
mkdir -p "$WORK"
[ -f "$WORK/kb/data.mdb" ] || "$BIN" kb build --from wordnet -o "$WORK/kb" >/dev/null
cat "$SHARED"/msnbc_test.jsonl "$SHARED"/aquaint_test.jsonl "$SHARED"/ace2004_test.jsonl > "$WORK/mentions.jsonl"
n=$(wc -l < "$WORK/mentions.jsonl")
/usr/bin/python3 - "$BIN" "$WORK" "$n" <<'PY'
import json, subprocess, sys, time
bin_, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def seconds(*args):
    t = time.perf_counter()
    subprocess.run([bin_, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t
subprocess.run(["rm", "-f", f"{work}/index"], check=True)
t_index = seconds("index", "--kb", f"{work}/kb", "-o", f"{work}/index")
t_prior = seconds("link", "--kb", f"{work}/kb", "--model", "prior", "-i", f"{work}/mentions.jsonl", "-o", f"{work}/prior.jsonl")
t_default = seconds("link", "--kb", f"{work}/kb", "--index", f"{work}/index", "-i", f"{work}/mentions.jsonl", "-o", f"{work}/default.jsonl")
linked = sum(1 for line in open(f"{work}/default.jsonl") if json.loads(line).get("entity_id"))
print(json.dumps({"what": "index the WordNet KB (7,730 entities)", "seconds": round(t_index, 1), "entities_per_s": round(7730 / t_index, 1)}))
print(json.dumps({"what": "count prior", "mentions": n, "seconds": round(t_prior, 2), "mentions_per_s": round(n / t_prior, 1)}))
print(json.dumps({"what": "default linker (pretrained encoder + prior, indexed)", "mentions": n, "with_candidates": linked,
                  "seconds": round(t_default, 2), "mentions_per_s": round(n / t_default, 1),
                  "linked_mentions_per_s": round(linked / t_default, 1)}))
PY
