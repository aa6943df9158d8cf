#!/usr/bin/env bash
# NER on the CoNLL-2003 test split (AIDA-B's documents): the shipped tagger against spaCy's
# en_core_web_sm, both scored by seqeval, with tokens per second, in one run (bench/ner_ref.py).
# Never run by CI (about 2 minutes on 2 cores).
# Usage: bench/ner.sh [extra ner_ref.py flags]   (NER4EL_BUILD: the build folder, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${NER4EL_BUILD:-build}
exec .venv/bin/python bench/ner_ref.py --tool "$BIN/ner4el" "$@"
