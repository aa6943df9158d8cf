// Reading a MediaWiki XML dump (pages-articles), bz2-compressed (one stream or multistream) or
// plain, in chunks that can be parsed in parallel (internal; the Wikipedia importer).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wiki/wikitext.h"

namespace ner4el::wiki {

struct Page {
  std::string title;
  int ns = 0;
  int64_t id = 0;
  std::string redirect;  ///< <redirect title="..."/>, "" when the page is not a redirect
  std::string text;      ///< the (last) revision's wikitext
};

/// A byte range of the dump file holding whole pages: whole bz2 streams, or whole <page>
/// elements of a plain XML file.
struct Chunk {
  uint64_t begin = 0, end = 0;
};

struct DumpPlan {
  std::string path;
  bool bz2 = false;
  std::vector<Chunk> chunks;
  SiteInfo site;
  uint64_t size = 0;
  /// 0: UTF-8 (every Wikimedia dump); 1 or 2: UTF-16 little- or big-endian, by its byte-order mark
  /// (read as one chunk and converted to UTF-8 as it is read).
  int utf16 = 0;
};

struct DumpLimits {
  uint64_t max_page_bytes = 64ull << 20;  ///< a page's text above this is an error (the largest real ones are a few MB)
  uint64_t chunk_bytes = 32ull << 20;     ///< about how many bytes of the file a chunk spans
};

/// Opens a dump: its siteinfo (namespace names, case) and its chunks. A bz2 file is split at its
/// streams: the offsets of the multistream index when one is given (".txt" or ".txt.bz2", lines
/// "offset:page_id:title"), else found by scanning for the streams' headers; a single-stream file
/// is one chunk. @throws NotFound, FormatError naming the file and byte.
DumpPlan plan_dump(const std::string& path, const std::string& index = "", const DumpLimits& limits = {});

/// Parses one chunk and calls fn for each page in it. @throws FormatError naming the file, the
/// chunk's byte range and what is wrong (a truncated or corrupt bz2 stream, broken XML, a page
/// over the size limit, markup over 1 MiB, a last chunk without the end tag </mediawiki>).
void read_chunk(const DumpPlan& plan, size_t chunk, const std::function<void(Page&&)>& fn, const DumpLimits& limits = {});

}  // namespace ner4el::wiki
