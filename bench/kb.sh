#!/usr/bin/env bash
# Knowledge-base benchmark, one run, side by side:
#   (1) the release's way: pickle.load + pandas.read_csv into dicts (bench/release_load.py)
#   (2) ner4el kb build, once
#   (3) opening our KB and looking candidates up (bench/kb_bench)
# Usage: bench/kb.sh [SCALE] [WORKDIR]   SCALE 1.0 = release scale (6M entities, 15M aliases)
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
WORK=${2:-/tmp/ner4el-kb-bench-$SCALE}
BIN=${NER4EL_BUILD:-build}
mkdir -p "$WORK"
if [ ! -f "$WORK/queries.txt" ]; then
  echo "generating a synthetic release-format KB at scale $SCALE in $WORK" >&2
  /usr/bin/python3 bench/gen_release_kb.py "$WORK" --scale "$SCALE"
fi
du -sh "$WORK"/*.pickle "$WORK"/*.csv >&2
echo "== release loading (pickle + pandas)"
/usr/bin/time -f '{"wall_s": %e, "max_rss_mb": %M}' /usr/bin/python3 bench/release_load.py "$WORK" 2>&1 | sed 's/"max_rss_mb": \([0-9]*\)/"max_rss_kb": \1/'
echo "== ner4el kb build"
/usr/bin/time -f '{"wall_s": %e, "max_rss_kb": %M}' "$BIN/ner4el" kb build --force --aliases "$WORK/aliases.pickle" \
  --descriptions "$WORK/descriptions.csv" --counts "$WORK/counts.csv" --titles "$WORK/titles.pickle" \
  --types "$WORK/id2ner.pickle" -o "$WORK/kb"
du -sh "$WORK/kb"
echo "== open + look-ups, cold page cache where permitted"
sync; (echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null || echo "(could not drop the page cache: warm numbers)"
"$BIN/bench/kb_bench" "$WORK/kb" "$WORK/queries.txt"
echo "== open + look-ups, warm"
"$BIN/bench/kb_bench" "$WORK/kb" "$WORK/queries.txt"
