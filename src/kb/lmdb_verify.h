// A walk over every page of an LMDB file that LMDB itself would read, checking what LMDB trusts:
// page numbers inside the file, page headers, node offsets and sizes inside their page, overflow
// runs inside the file, tree depth, and no page reached twice (no cycles). LMDB 0.9's on-disk
// layout (64-bit): a 16-byte page header (number, pad, flags, lower, upper), 2-byte node offsets,
// 8-byte node headers (data size or child page, flags, key size), 48-byte table records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ner4el::kb {

/// What the newest of an LMDB file's two meta pages says.
struct LmdbMeta {
  uint32_t page_size = 0;
  uint64_t last_page = 0;  ///< the newest transaction's last page: the file must hold it
  uint64_t main_root = 0;  ///< root page of the main table (~0: empty)
};

/// Reads and checks the meta pages of an LMDB file (before LMDB maps it, which would trust them):
/// magic, page size, both pages alike, no fixed map address, the file long enough for its pages.
/// @throws FormatError "WHERE: corrupt knowledge base (data.mdb ...); rebuild it ...".
LmdbMeta check_lmdb_meta(const std::string& file, const std::string& where);

/// Checks every page the file's tables reach, given its bytes [data, data + size) (mapped or read)
/// and its meta (check_lmdb_meta). @throws FormatError naming the page.
void verify_lmdb_pages(const char* data, const LmdbMeta& meta, const std::string& where);

}  // namespace ner4el::kb
