#!/usr/bin/env bash
# Server benchmark: 'ner4el serve' on loopback under 16 concurrent clients for a bounded time.
#   bench/serve.sh [seconds=10]
# (1) the count prior on the WordNet KB, with the shared MSNBC mentions;
# (2) the bi-encoder (bert-base-sized random model) with an entity index, from bench/link.sh's
#     work directory (run bench/link.sh first).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BUILD:-build}
SECS=${1:-10}
DATA=../shared/data/ner4el/msnbc_test.jsonl
[ -f out/wordnet-kb/data.mdb ] || "$BIN/ner4el" kb build --from wordnet -o out/wordnet-kb
run() {  # run NAME MENTIONS ARGS...
  local name=$1 mentions=$2; shift 2
  "$BIN/ner4el" serve --port 0 --max-mentions 1024 "$@" > /tmp/ner4el-serve-port 2>/dev/null &
  local pid=$!
  for _ in $(seq 100); do [ -s /tmp/ner4el-serve-port ] && break; sleep 0.2; done
  local port; port=$(awk '{print $2}' /tmp/ner4el-serve-port)
  echo "== $name"
  "$BIN/bench/http_load" "$port" "$mentions" 16 "$SECS" || true
  kill -TERM "$pid"; wait "$pid" || true
}
run "count prior, WordNet KB, MSNBC mentions" "$DATA" --kb out/wordnet-kb --model prior
W=/tmp/ner4el-link-bench
if [ -f "$W/index" ]; then
  /usr/bin/python3 - "$W" <<'PY'
import json, sys, random
random.seed(2)
w = sys.argv[1]
with open(f"{w}/mentions.jsonl", "w") as f:
    for m in range(32):
        ctx = lambda: " ".join(f"w{random.randint(0, 29000)}" for _ in range(50))
        f.write(json.dumps({"mention": f"m{m}", "left_context": ctx(), "right_context": ctx()}) + "\n")
PY
  run "bi-encoder + index, bert-base random, K=40" "$W/mentions.jsonl" --kb "$W/kb-32" --model "$W/bert-base-random" --index "$W/index"
fi
