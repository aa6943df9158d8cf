#!/usr/bin/env bash
# Data-parallel training and sharded indexing on this machine, 1 process against N, in one run:
#   - training: the real pretrained encoder (models/minilm-l6) on the WordNet KB, the shared MSNBC +
#     AQUAINT mentions whose gold entity is in WordNet, one epoch, windows of 8, K = 8; dev: the
#     first 16 ACE2004 mentions (so the epoch's time is nearly all training); mentions per second
#     of the epoch (metrics.jsonl's time) and the whole command;
#   - indexing: the WordNet KB's 7,730 entities, entities per second of the whole command;
# then the extrapolation to the 9M BLINK mentions and the 6M entities of the release's KB.
# Usage: bench/distributed.sh [NPROC=2] [WORKDIR]   (after the README's set-up; prints JSON lines)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BIN:-build/ner4el}
N=${1:-2}
WORK=${2:-$(mktemp -d)}
D=../shared/data/ner4el
mkdir -p "$WORK"
[ -f "$WORK/kb/data.mdb" ] || "$BIN" kb build --from wordnet -o "$WORK/kb" >/dev/null
cat "$D/msnbc_test.jsonl" "$D/aquaint_test.jsonl" > "$WORK/train.jsonl"
head -16 "$D/ace2004_test.jsonl" > "$WORK/dev.jsonl"
cat > "$WORK/train.yaml" <<YAML
encoder: $(pwd)/models/minilm-l6
kb: $WORK/kb
train_data: $WORK/train.jsonl
dev_data: $WORK/dev.jsonl
window: 64
k: 8
accumulation: 8
epochs: 1
lr: 2.0e-5
YAML
/usr/bin/python3 - "$BIN" "$WORK" "$N" <<'PY'
import json, os, shutil, subprocess, sys, time
bin_, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def run(args):
    t = time.perf_counter()
    p = subprocess.run([bin_, *args], capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"{' '.join(args)}: {p.stderr[-2000:]}")
    return time.perf_counter() - t, p
rates = {}
for nproc in [1, n]:
    out = f"{work}/run-{nproc}"
    shutil.rmtree(out, ignore_errors=True)
    wall, p = run(["train", "--config", f"{work}/train.yaml", "--nproc", str(nproc), "--set", f"output_dir={out}"])
    kept = int(p.stdout.split("trained on ")[1].split()[0])
    epoch = json.loads(open(f"{out}/metrics.jsonl").readline())
    rates[nproc] = kept / epoch["time_s"]
    print(json.dumps({"job": "train", "processes": nproc, "mentions": kept, "epoch_s": round(epoch["time_s"], 1),
                      "mentions_per_s": round(rates[nproc], 2), "command_s": round(wall, 1),
                      "dev_accuracy": round(epoch["dev_accuracy"], 4)}))
index_rates = {}
for nproc in [1, n]:
    out = f"{work}/index-{nproc}"
    for f in os.listdir(work):
        if f.startswith(f"index-{nproc}"):
            os.remove(os.path.join(work, f))
    wall, p = run(["index", "--kb", f"{work}/kb", "--nproc", str(nproc), "-o", out])
    index_rates[nproc] = 7730 / wall
    print(json.dumps({"job": "index", "processes": nproc, "entities": 7730, "command_s": round(wall, 1),
                      "entities_per_s": round(index_rates[nproc], 1)}))
print(json.dumps({"train_speedup": round(rates[n] / rates[1], 2), "index_speedup": round(index_rates[n] / index_rates[1], 2),
                  "hours_9M_mentions_one_machine": round(9e6 / rates[n] / 3600, 1),
                  "hours_6M_entities_one_machine": round(6e6 / index_rates[n] / 3600, 1)}))
PY
