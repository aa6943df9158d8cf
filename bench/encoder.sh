#!/usr/bin/env bash
# Encoder throughput, ours vs PyTorch eager, in one run: bench/encoder.sh [batch=32] [iterations=3] [layers=12]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BUILD:-build}
"$BIN/bench/encoder_bench" "${1:-32}" "${2:-3}" "${3:-12}"
/usr/bin/python3 bench/encoder_ref.py "${1:-32}" "${2:-3}" "${3:-12}"
