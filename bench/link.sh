#!/usr/bin/env bash
# Linking benchmark, one run: (a) the release's way in PyTorch eager, (b) our re-encoding path,
# (c) our indexed path, bert-base-sized random model, K = 40, window 128.
#   bench/link.sh [mentions_a_b=2] [mentions_c=32] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BUILD:-build}
A=${1:-2}; C=${2:-32}; WORK=${3:-/tmp/ner4el-link-bench}
/usr/bin/python3 bench/link_ref.py "$A"
"$BIN/bench/link_bench" "$WORK" "$A" "$C"
