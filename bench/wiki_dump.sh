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
  python3 bench/make_wiki_dump.py "$n" "$work/dump$n" >"$work/made$n"
done
xml_mib=$(grep -o '[0-9.]* MiB of XML' "$work/made$PAGES" | cut -d' ' -f1)
ENWIKI_XML_GIB=${ENWIKI_XML_GIB:-100}  # English pages-articles, uncompressed (an assumption: set it to your dump's)
dump=$work/dump$PAGES/synthetic-pages-articles-multistream.xml.bz2
index=$work/dump$PAGES/synthetic-pages-articles-multistream-index.txt

# Reference: the same dump to text in Python: bz2 and ElementTree read it, mwparserfromhell's
# strip_code() turns each article's wikitext into text (one core; its parser is C).
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
print(f"{len(texts)} {t2 - t0:.2f} {t1 - t0:.2f}")
PY
)
read -r ref_pages ref_secs ref_io <<<"$ref"

# The same with ner4el: the dump to text and links ('ner4el wikitext', JSON Lines), one thread.
read -r sT mT fT < <(peak_and_time $TOOL wikitext "$dump" -o "$work/text.jsonl")

echo "pages-articles: $PAGES synthetic pages ($(du -m "$dump" | cut -f1) MiB of bz2); this machine: $CORES cores"
read -r s1 m1 f1 < <(peak_and_time $TOOL kb build --from wikipedia "$dump" --index "$index" -o "$work/kb1" --threads 1 \
  --sort-memory 16 --mentions "$work/m1.jsonl")
grep -o '[0-9]* links ([0-9]* reach an article)' "$work/out" | head -1 | sed 's/^/  links: /'
read -r sN mN fN < <(peak_and_time $TOOL kb build --from wikipedia "$dump" --index "$index" -o "$work/kbN" --threads "$CORES" \
  --sort-memory 16 --mentions "$work/mN.jsonl" --keep-work)
# The second stage alone (one thread whatever the cores): the same build again resumes every chunk.
read -r sS mS fS < <(peak_and_time $TOOL kb build --from wikipedia "$dump" --index "$index" -o "$work/kbN" --threads "$CORES" \
  --sort-memory 16 --mentions "$work/mN.jsonl" --force)
cmp -s "$work/m1.jsonl" "$work/mN.jsonl" && same=yes || same=NO
big=$work/dump$((PAGES * FACTOR))/synthetic-pages-articles-multistream.xml.bz2
read -r sB mB fB < <(peak_and_time $TOOL kb build --from wikipedia "$big" -o "$work/kbB" --threads "$CORES" --sort-memory 16 \
  --mentions "$work/mB.jsonl")

awk -v p="$PAGES" -v f="$FACTOR" -v c="$CORES" -v s1="$s1" -v m1="$m1" -v sN="$sN" -v mN="$mN" -v sB="$sB" -v mB="$mB" \
    -v f1="$f1" -v fN="$fN" -v fB="$fB" -v sT="$sT" -v sS="$sS" -v xml="$xml_mib" -v en="$ENWIKI_XML_GIB" \
    -v rp="$ref_pages" -v rs="$ref_secs" -v same="$same" 'BEGIN {
  printf "ner4el, 1 thread:     %7.1f s  %8.0f pages/s         heap peak %5d MiB, file pages %5d MiB\n", s1, p / s1, m1, f1
  printf "ner4el, %d threads:    %7.1f s  %8.0f pages/s (%.2fx) heap peak %5d MiB, file pages %5d MiB; mentions identical: %s\n", c, sN, p / sN, s1 / sN, mN, fN, same
  printf "ner4el, %dx the pages: %7.1f s  %8.0f pages/s         heap peak %5d MiB, file pages %5d MiB (%d threads)\n", f, sB, p * f / sB, mB, fB, c
  printf "dump to text, 1 core: Python (bz2, ElementTree, mwparserfromhell) %.1f s, %.0f pages/s; ner4el wikitext %.1f s, %.0f pages/s: %.1fx\n", \
    rs, rp / rs, sT, p / sT, rs / sT
  printf "second stage alone (one thread): %.1f s; first stage on 1 thread: %.1f s (%.1f MiB of XML)\n", sS, s1 - sS, xml
  scale = en * 1024 / xml
  printf "extrapolation by XML bytes to %d GiB (English pages-articles): %.1f h on 1 core, %.1f h on 2, %.1f h on 16 (first stage / cores + second stage)\n", \
    en, scale * s1 / 3600, scale * ((s1 - sS) / 2 + sS) / 3600, scale * ((s1 - sS) / 16 + sS) / 3600
}'
