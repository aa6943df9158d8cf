#!/usr/bin/env bash
# AIDA-CoNLL disambiguation with the standard (PPRforNED) candidate sets: the table of README
# "AIDA-CoNLL with its standard candidate sets", one run. Makes the setting twice (entity texts:
# the lead paragraphs install-deps extracts, and titles alone), then evaluates the count prior
# (the most-linked-candidate baseline) and the default linker (zero-shot) on AIDA-A and AIDA-B.
# Never run by CI (about 12 minutes on 2 cores).
# Usage: bench/aida.sh [WORKDIR]   (NER4EL_BUILD: the build folder, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/ner4el-aida-bench}
BIN=${NER4EL_BUILD:-build}
mkdir -p "$WORK"
scripts/make-aida-setting -o "$WORK/leads" --tool "$BIN/ner4el"
scripts/make-aida-setting -o "$WORK/titles" --tool "$BIN/ner4el" --leads /nonexistent 2>/dev/null
row() {  # NAME KB_DIR [evaluate flags...]
  local name=$1 dir=$2
  shift 2
  local start=$SECONDS report
  report=$("$BIN/ner4el" evaluate --kb "$dir/kb" --json --data "$dir/aida_dev.jsonl" "$dir/aida_test.jsonl" "$@" 2>/dev/null)
  local took=$((SECONDS - start))
  python3 -c "
import json, sys
sets = {s['data']: s for s in json.load(sys.stdin)['data_sets']}
cells = ['%.1f (%d)' % (100 * sets[d]['accuracy'], sets[d]['scored']) for d in ('aida_dev', 'aida_test')]
print('| $name | ' + ' | '.join(cells) + ' | $took s |')" <<<"$report"
}
echo "| system | AIDA-A (scored) | AIDA-B (scored) | time |"
echo "|---|---|---|---|"
row "count prior (most-linked candidate)" "$WORK/leads" --model prior
row "default linker, zero-shot, lead paragraphs where available" "$WORK/leads"
row "default linker, zero-shot, titles alone" "$WORK/titles"
