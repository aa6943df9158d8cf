// Byte layout of KB records (internal; documented in docs/formats.md).
//
// entities[id]  = int64 count | int32 class_index (-1: none) | uint8 has_description |
//                 uint32 title_len | title | uint32 description_len | description   (little-endian)
// aliases[key]  = int64 ids[], by decreasing count (only entities with a description)
// titles[title] = int64 id (a title shared by several ids: the one with the highest count, then
//                 the first in the input's order)
// release_titles[title] = int64 id: for shared titles only, the last id in the input's order
//                 (the release's reversed title dict) (format 3)
// release_aliases[key] = the alias table as the release reads it, for the keys where that differs
//                 from aliases[key] (format 3): u8 flags | u32 n | int64 merged[n] | int64 exact[]
//                 merged: every id listed under every surface form that lower-cases to key, in the
//                   table's order, duplicates kept, only entities with a description;
//                 exact: the same for the surface form equal to key alone (flags & 1: such a form
//                   exists; flags & 2: exact equals merged and is not stored).
// lists["described"], lists["class/<i>"] = int64 ids[], ascending
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

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

struct RawAliasRecord {
  std::vector<int64_t> merged;
  bool has_exact = false;
  std::vector<int64_t> exact;
};

inline std::string encode_raw_alias(const RawAliasRecord& r) {
  const bool same = r.has_exact && r.exact == r.merged;
  const uint8_t flags = (r.has_exact ? 1 : 0) | (same ? 2 : 0);
  const uint32_t n = static_cast<uint32_t>(r.merged.size());
  std::string out(1 + 4, '\0');
  out[0] = static_cast<char>(flags);
  std::memcpy(out.data() + 1, &n, 4);
  out.append(reinterpret_cast<const char*>(r.merged.data()), r.merged.size() * sizeof(int64_t));
  if (r.has_exact && !same) out.append(reinterpret_cast<const char*>(r.exact.data()), r.exact.size() * sizeof(int64_t));
  return out;
}

inline RawAliasRecord decode_raw_alias(std::string_view rec) {
  RawAliasRecord r;
  uint32_t n = 0;
  if (rec.size() < 5) throw FormatError("knowledge base: corrupt release alias record (" + std::to_string(rec.size()) + " bytes)");
  std::memcpy(&n, rec.data() + 1, 4);
  const uint8_t flags = static_cast<uint8_t>(rec[0]);
  const size_t rest = rec.size() - 5;
  if (rest % sizeof(int64_t) != 0 || n > rest / sizeof(int64_t) || flags > 3)
    throw FormatError("knowledge base: corrupt release alias record");
  r.merged.resize(n);
  std::memcpy(r.merged.data(), rec.data() + 5, n * sizeof(int64_t));
  r.has_exact = flags & 1;
  if (flags & 2) {
    r.exact = r.merged;
  } else if (r.has_exact) {
    r.exact.resize(rest / sizeof(int64_t) - n);
    std::memcpy(r.exact.data(), rec.data() + 5 + n * sizeof(int64_t), r.exact.size() * sizeof(int64_t));
  }
  return r;
}

}  // namespace ner4el::kb
