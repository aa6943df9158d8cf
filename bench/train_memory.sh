#!/usr/bin/env bash
# Training memory as the data grows: the shared MSNBC + AQUAINT + ACE2004 mentions (1,640) repeated
# 1x, 10x and 100x (164,000 mentions) as one training file; for each, 'ner4el train' with the real
# pretrained encoder (models/minilm-l6) on the WordNet KB prepares the processed set (shards on
# disk) and trains max_steps=4 windows of 8 (then the dev pass over 16 mentions and a checkpoint).
# Reports the peak resident memory of the whole command (getrusage of the child), its time and
# the shards' size on disk.
# Usage: bench/train_memory.sh [SCALES="1 10 100"] [WORKDIR]   (after the README's set-up; JSON lines)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BIN:-build/ner4el}
SCALES=${1:-"1 10 100"}
WORK=${2:-$(mktemp -d)}
D=../shared/data/ner4el
mkdir -p "$WORK"
[ -f "$WORK/kb/data.mdb" ] || "$BIN" kb build --from wordnet -o "$WORK/kb" >/dev/null
cat "$D/msnbc_test.jsonl" "$D/aquaint_test.jsonl" "$D/ace2004_test.jsonl" > "$WORK/base.jsonl"
head -16 "$D/ace2004_test.jsonl" > "$WORK/dev.jsonl"
/usr/bin/python3 - "$BIN" "$WORK" "$(pwd)/models/minilm-l6" $SCALES <<'PY'
import json, os, resource, shutil, subprocess, sys, time
bin_, work, model, scales = sys.argv[1], sys.argv[2], sys.argv[3], [int(s) for s in sys.argv[4:]]
base = open(f"{work}/base.jsonl").read()
for scale in scales:
    data = f"{work}/train-{scale}x.jsonl"
    with open(data, "w") as f:
        for _ in range(scale):
            f.write(base)
    out = f"{work}/run-{scale}x"
    shutil.rmtree(out, ignore_errors=True)
    # One child per scale, so that its peak is its own (RUSAGE_CHILDREN keeps the largest).
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(p.returncode, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
             "sys.stderr.write(p.stderr[-3000:] if p.returncode else '')")
    args = [bin_, "train", "--set", f"encoder={model}", "--set", f"kb={work}/kb", "--set", f"train_data={data}",
            "--set", f"dev_data={work}/dev.jsonl", "--set", f"output_dir={out}", "--set", "window=64", "--set", "k=8",
            "--set", "accumulation=8", "--set", "epochs=1", "--set", "max_steps=4"]
    r = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    rc, wall, peak_kb = r.stdout.split()
    if rc != "0":
        sys.exit(f"scale {scale}: {r.stderr}")
    shards = [d for d in os.listdir(out) if d.startswith("processed-")][0]
    disk = sum(os.path.getsize(os.path.join(out, shards, f)) for f in os.listdir(os.path.join(out, shards)))
    meta = json.load(open(os.path.join(out, shards, "meta.json")))
    print(json.dumps({"scale": scale, "mentions": scale * base.count("\n"), "examples": meta["examples"],
                      "shards": meta["shards"], "peak_rss_mb": round(int(peak_kb) / 1024, 1),
                      "command_s": round(float(wall), 1), "shards_mb": round(disk / 2**20, 1)}), flush=True)
PY
