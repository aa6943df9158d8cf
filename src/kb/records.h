// Byte layout of KB records (internal; documented in docs/formats.md).
//
// entities[id]  = int64 count | int32 class_index (-1: none) | uint8 has_description |
//                 uint32 title_len | title | uint32 description_len | description   (little-endian)
// aliases[key]  = int64 ids[], by decreasing count (only entities with a description)
// titles[title] = int64 id
// lists["described"], lists["class/<i>"] = int64 ids[], ascending
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ner4el/error.h"
#include "ner4el/kb.h"

namespace ner4el::kb {

inline constexpr size_t kMaxKey = 511;  // LMDB's default maximum key size

struct EntityHead {
  int64_t count;
  int32_t class_index;
  bool has_description;
};

inline std::string encode_entity(int64_t count, int32_t cls, bool has_desc, std::string_view title,
                                 std::string_view desc) {
  std::string out;
  out.resize(8 + 4 + 1 + 4 + title.size() + 4 + desc.size());
  char* p = out.data();
  std::memcpy(p, &count, 8);
  std::memcpy(p + 8, &cls, 4);
  p[12] = has_desc ? 1 : 0;
  uint32_t tl = static_cast<uint32_t>(title.size()), dl = static_cast<uint32_t>(desc.size());
  std::memcpy(p + 13, &tl, 4);
  std::memcpy(p + 17, title.data(), tl);
  std::memcpy(p + 17 + tl, &dl, 4);
  std::memcpy(p + 21 + tl, desc.data(), dl);
  return out;
}

inline EntityHead decode_entity_head(std::string_view rec) {
  if (rec.size() < 13) throw FormatError("knowledge base: corrupt entity record (" + std::to_string(rec.size()) + " bytes)");
  EntityHead h;
  std::memcpy(&h.count, rec.data(), 8);
  std::memcpy(&h.class_index, rec.data() + 8, 4);
  h.has_description = rec[12] != 0;
  return h;
}

inline Entity decode_entity(std::string_view rec) {
  auto h = decode_entity_head(rec);
  Entity e;
  e.count = h.count;
  e.has_description = h.has_description;
  auto take = [&](size_t& off) -> std::string {
    uint32_t n;
    if (off + 4 > rec.size()) throw FormatError("knowledge base: corrupt entity record");
    std::memcpy(&n, rec.data() + off, 4);
    off += 4;
    if (n > rec.size() - off) throw FormatError("knowledge base: corrupt entity record");
    std::string s(rec.substr(off, n));
    off += n;
    return s;
  };
  size_t off = 13;
  e.title = take(off);
  e.description = take(off);
  return e;
}

}  // namespace ner4el::kb
