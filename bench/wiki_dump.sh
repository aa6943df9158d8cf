#!/usr/bin/env bash
# The Wikipedia importer at scale: 'ner4el kb build --from wikipedia' on synthetic multistream dumps
# (bench/make_wiki_dump.py) of PAGES pages and of FACTOR times as many, with 1 and with every core,
# against a reference in the same command: mwparserfromhell (the wikitext parser of Python's
# Wikipedia tools) converting the same dump's articles to text with strip_code(), one core.
# Prints pages/s per core, the ratio, peak memory (with --sort-memory small, so the alias sort spills
# runs to disk), and the extrapolation to English Wikipedia (about 17.5M pages in pages-articles).
#
#   bench/wiki_dump.sh [PAGES=10000] [FACTOR=4]
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES=${1:-10000}
FACTOR=${2:-4}
TOOL=build/ner4el
PY=.venv/bin/python
CORES=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# command... -> "seconds anon_peak_MiB file_peak_MiB": the peaks of the process's anonymous memory
# (heap: what grows with the data if anything does) and of its file-backed pages (the KB's LMDB map
# and WordNet's files, which the kernel can drop), sampled every 20 ms.
peak_and_time() {
  local t0 pid anon=0 file=0 a f
  t0=$(date +%s.%N)
  "$@" >"$work/out" 2>"$work/err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    f=$(awk '/^RssFile/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    [ -n "$f" ] && [ "$f" -gt "$file" ] && file=$f
    sleep 0.02
  done
  wait "$pid" || { cat "$work/err" >&2; exit 1; }
  echo "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') $((anon / 1024)) $((file / 1024))"
}

for n in "$PAGES" $((PAGES * FACTOR)); do
  python3 bench/make_wiki_dump.py "$n" "$work/dump$n" >/dev/null
done
dump=$work/dump$PAGES/synthetic-pages-articles-multistream.xml.bz2
index=$work/dump$PAGES/synthetic-pages-articles-multistream-index.txt

# Reference: mwparserfromhell over the same articles (decompression and XML parsing by Python's
# bz2 and ElementTree are timed apart and taken out).
ref=$("$PY" - "$dump" <<'PY'
import bz2, sys, time, xml.etree.ElementTree as ET
import mwparserfromhell
t0 = time.time()
texts = [e.text or "" for _, e in ET.iterparse(bz2.open(sys.argv[1])) if e.tag.endswith("}text")]
t1 = time.time()
articles = [t for t in texts if not t.startswith("#REDIRECT")]
for t in articles:
    mwparserfromhell.parse(t).strip_code()
t2 = time.time()
print(f"{len(texts)} {t2 - t1:.2f} {t1 - t0:.2f}")
PY
)
read -r ref_pages ref_secs ref_io <<<"$ref"

echo "pages-articles: $PAGES synthetic pages ($(du -m "$dump" | cut -f1) MiB of bz2); this machine: $CORES cores"
read -r s1 m1 f1 < <(peak_and_time $TOOL kb build --from wikipedia "$dump" --index "$index" -o "$work/kb1" --threads 1 \
  --sort-memory 16 --mentions "$work/m1.jsonl")
grep -o '[0-9]* links ([0-9]* reach an article)' "$work/out" | head -1 | sed 's/^/  links: /'
read -r sN mN fN < <(peak_and_time $TOOL kb build --from wikipedia "$dump" --index "$index" -o "$work/kbN" --threads "$CORES" \
  --sort-memory 16 --mentions "$work/mN.jsonl")
cmp -s "$work/m1.jsonl" "$work/mN.jsonl" && same=yes || same=NO
big=$work/dump$((PAGES * FACTOR))/synthetic-pages-articles-multistream.xml.bz2
read -r sB mB fB < <(peak_and_time $TOOL kb build --from wikipedia "$big" -o "$work/kbB" --threads "$CORES" --sort-memory 16 \
  --mentions "$work/mB.jsonl")

awk -v p="$PAGES" -v f="$FACTOR" -v c="$CORES" -v s1="$s1" -v m1="$m1" -v sN="$sN" -v mN="$mN" -v sB="$sB" -v mB="$mB" \
    -v f1="$f1" -v fN="$fN" -v fB="$fB" \
    -v rp="$ref_pages" -v rs="$ref_secs" -v same="$same" 'BEGIN {
  printf "ner4el, 1 thread:     %7.1f s  %8.0f pages/s         heap peak %5d MiB, file pages %5d MiB\n", s1, p / s1, m1, f1
  printf "ner4el, %d threads:    %7.1f s  %8.0f pages/s (%.2fx) heap peak %5d MiB, file pages %5d MiB; mentions identical: %s\n", c, sN, p / sN, s1 / sN, mN, fN, same
  printf "ner4el, %dx the pages: %7.1f s  %8.0f pages/s         heap peak %5d MiB, file pages %5d MiB (%d threads)\n", f, sB, p * f / sB, mB, fB, c
  printf "mwparserfromhell strip_code, 1 core, text only: %.1f s, %.0f pages/s: ner4el (whole build, 1 thread) is %.1fx\n", \
    rs, rp / rs, (p / s1) / (rp / rs)
  printf "extrapolation to 17.5M pages (English pages-articles) at the 1-thread rate: %.1f h on 1 core, %.1f h on 16 cores\n", \
    17.5e6 / (p / s1) / 3600, 17.5e6 / (p / s1) / 3600 / 16
}'
