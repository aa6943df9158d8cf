// The header of an entity index file ('ner4el index'), read and checked without libtorch: where its
// ids and vectors are. EntityIndex::open (src/link/index.cpp) maps the file and uses this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ner4el::io {

inline constexpr char kIndexMagic[8] = {'N', 'E', 'R', '4', 'E', 'L', 'I', 'X'};

struct IndexLayout {
  uint32_t version = 0;
  std::string fingerprint;
  int dim = 0;
  bool fp16 = false;
  size_t count = 0;
  size_t ids_offset = 0, vectors_offset = 0;  ///< count int64 ids, then count * dim vectors
};

/// Checks the header of the index file's bytes: magic, version (at most max_version), the JSON
/// fields' types, and that the ids and vectors lie inside the file (every size overflow-checked).
/// @throws FormatError naming the file and the field.
IndexLayout index_layout(std::string_view file, const std::string& path, uint32_t max_version);

}  // namespace ner4el::io
