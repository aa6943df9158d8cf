// A walk over every page of an LMDB file that LMDB itself would read, checking what LMDB trusts:
// page numbers inside the file, page headers, node offsets and sizes inside their page, overflow
// runs inside the file, tree depth, and no page reached twice (no cycles). LMDB 0.9's on-disk
// layout (64-bit): a 16-byte page header (number, pad, flags, lower, upper), 2-byte node offsets,
// 8-byte node headers (data size or child page, flags, key size), 48-byte table records.
#pragma once

#include <cstddef>
#include <string>

namespace ner4el::kb {

/// Checks the pages of the LMDB file whose bytes are [data, data + size) (mapped or read).
/// @throws FormatError "WHERE: corrupt knowledge base (data.mdb page N: what); rebuild it ...".
void verify_lmdb_pages(const char* data, size_t size, const std::string& where);

}  // namespace ner4el::kb
