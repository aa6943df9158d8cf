#include "io/index_layout.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/json.h"

namespace ner4el::io {

IndexLayout index_layout(std::string_view b, const std::string& path, uint32_t max_version) {
  if (b.size() < 16 || std::memcmp(b.data(), kIndexMagic, 8) != 0)
    throw FormatError(path + ": not a ner4el entity index (bad magic; build one with 'ner4el index')");
  IndexLayout l;
  uint32_t hlen;
  std::memcpy(&l.version, b.data() + 8, 4);
  std::memcpy(&hlen, b.data() + 12, 4);
  if (l.version > max_version)
    throw FormatError(path + ": index format version " + std::to_string(l.version) + ", this build reads up to " +
                      std::to_string(max_version) + "; upgrade ner4el or rebuild the index");
  if (hlen > b.size() - 16) throw FormatError(path + ": truncated header");
  const std::string_view text = b.substr(16, hlen);
  nlohmann::json h = parse_json(text, path + ": corrupt index header");
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!h.is_object() || !h.contains(name)) throw FormatError(path + ": index header field '" + name + "' is missing");
    return h[name];
  };
  auto size_field = [&](const char* name) {
    const auto& v = field(name);
    if (!v.is_number_unsigned()) throw FormatError(path + ": index header field '" + std::string(name) + "': expected a size");
    return v.get<uint64_t>();
  };
  if (!field("fingerprint").is_string()) throw FormatError(path + ": index header field 'fingerprint': expected a string");
  if (!field("dtype").is_string()) throw FormatError(path + ": index header field 'dtype': expected a string");
  l.fingerprint = h["fingerprint"].get<std::string>();
  const std::string dtype = h["dtype"].get<std::string>();
  if (dtype != "f16" && dtype != "f32") throw FormatError(path + ": index header field 'dtype': '" + dtype + "' is not f16 or f32");
  l.fp16 = dtype == "f16";
  const uint64_t dim = size_field("dim");
  if (dim == 0 || dim > (1 << 20))
    throw FormatError(path + ": index header field 'dim': " + std::to_string(dim) + " is not a vector size");
  l.dim = static_cast<int>(dim);
  l.count = size_field("count");
  l.ids_offset = size_field("ids_offset");
  l.vectors_offset = size_field("vectors_offset");
  // Every size overflow-checked: a crafted header must not wrap around to a small number.
  const size_t elt = l.fp16 ? 2 : 4;
  size_t ids_bytes, vec_bytes, ids_end, vec_end;
  if (__builtin_mul_overflow(l.count, size_t{8}, &ids_bytes) || __builtin_add_overflow(l.ids_offset, ids_bytes, &ids_end) ||
      __builtin_mul_overflow(l.count, static_cast<size_t>(l.dim) * elt, &vec_bytes) ||
      __builtin_add_overflow(l.vectors_offset, vec_bytes, &vec_end) || ids_end > b.size() || vec_end > b.size())
    throw FormatError(path + ": index header fields 'count', 'ids_offset', 'vectors_offset': the ids or vectors run "
                      "past the end of the file (truncated or corrupt index; rebuild it with 'ner4el index')");
  return l;
}

}  // namespace ner4el::io
