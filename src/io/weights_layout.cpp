#include "io/weights_layout.h"

#include <zip.h>

#include <array>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/json.h"

namespace ner4el::io {

namespace {

[[noreturn]] void zip_failure(const std::string& path, int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string msg = zip_error_strerror(&e);
  zip_error_fini(&e);
  throw FormatError(path + ": not a readable zip archive (" + msg + ")");
}

/// torch.save's storage classes by their safetensors dtype names.
std::string storage_dtype(const std::string& cls, const std::string& where) {
  static const std::unordered_map<std::string, std::string> m{
      {"FloatStorage", "F32"}, {"HalfStorage", "F16"}, {"BFloat16Storage", "BF16"}, {"DoubleStorage", "F64"},
      {"LongStorage", "I64"},  {"IntStorage", "I32"},  {"ShortStorage", "I16"},     {"CharStorage", "I8"},
      {"ByteStorage", "U8"},   {"BoolStorage", "BOOL"}};
  auto dot = cls.rfind('.');
  auto it = m.find(dot == std::string::npos ? cls : cls.substr(dot + 1));
  if (it == m.end()) throw FormatError(where + ": unsupported storage type " + cls);
  return it->second;
}

std::vector<int64_t> int_tuple(const PickleValue& v, const std::string& where, const char* field) {
  if (!v.is_sequence() || v.as_node().items.size() > 16)
    throw FormatError(where + ": " + field + ": expected a tuple of at most 16 ints, found " + v.type_name());
  std::vector<int64_t> out;
  for (const auto& x : v.as_node().items) {
    if (!x.is_int()) throw FormatError(where + ": " + field + ": expected ints, found " + x.type_name());
    out.push_back(x.as_int());
  }
  return out;
}

/// A tensor record from torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...),
/// possibly inside _rebuild_parameter; false for anything else (not a tensor).
bool torch_tensor(const PickleValue& v, const std::string& key, const std::string& path, TensorRecord& r, int depth = 0) {
  if (!v.is_object()) return false;
  const PickleNode& n = v.as_node();
  const std::string fn = n.qualified_name();
  const std::string where = path + ": tensor '" + key + "'";
  if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
    if (!n.args.is_sequence() || n.args.as_node().items.empty() || depth > 4) throw FormatError(where + ": malformed parameter");
    return torch_tensor(n.args.as_node().items[0], key, path, r, depth + 1);
  }
  if (fn != "torch._utils._rebuild_tensor_v2" && fn != "torch._utils._rebuild_tensor") return false;
  if (!n.args.is_sequence() || n.args.as_node().items.size() < 4) throw FormatError(where + ": malformed tensor record");
  const auto& a = n.args.as_node().items;
  if (!a[0].is_node() || a[0].as_node().type != PickleNode::Type::PersistentId || a[0].as_node().items.empty())
    throw FormatError(where + ": storage is not a persistent id");
  const PickleValue& pid = a[0].as_node().items[0];
  if (!pid.is_sequence() || pid.as_node().items.size() < 5) throw FormatError(where + ": malformed storage id");
  const auto& p = pid.as_node().items;
  if (!p[2].is_str() || !p[4].is_int() || !a[1].is_int()) throw FormatError(where + ": malformed storage id or offset");
  r.name = key;
  r.dtype = storage_dtype(p[1].is_node() ? p[1].as_node().qualified_name() : "", where);
  r.element_size = dtype_size(r.dtype, where);
  r.storage = std::string(p[2].as_str());
  r.storage_numel = p[4].as_int();
  r.offset = a[1].as_int();
  r.shape = int_tuple(a[2], where, "size");
  r.stride = int_tuple(a[3], where, "stride");
  if (r.storage.empty() || r.storage.size() > 256 || r.storage.find_first_of("/\\") != std::string::npos)
    throw FormatError(where + ": storage key '" + r.storage + "' is not a plain name");
  if (r.shape.size() != r.stride.size()) throw FormatError(where + ": size and stride differ in rank");
  int64_t storage_bytes;
  if (r.storage_numel < 0 || __builtin_mul_overflow(r.storage_numel, static_cast<int64_t>(r.element_size), &storage_bytes))
    throw FormatError(where + ": storage of " + std::to_string(r.storage_numel) + " elements is not a size");
  // Bounds: the last element the view touches must lie inside the storage, every step overflow-checked.
  int64_t last = r.offset, elements = 1;
  bool overflow = r.offset < 0;
  for (size_t i = 0; i < r.shape.size() && !overflow; ++i) {
    if (r.shape[i] < 0 || r.stride[i] < 0) throw FormatError(where + ": negative size or stride");
    int64_t step = 0;
    overflow = __builtin_mul_overflow(elements, r.shape[i], &elements) ||
               (r.shape[i] > 0 && (__builtin_mul_overflow(r.shape[i] - 1, r.stride[i], &step) || __builtin_add_overflow(last, step, &last)));
  }
  if (overflow || (elements > 0 && last >= r.storage_numel))
    throw FormatError(where + ": view (offset " + std::to_string(r.offset) + ", size and stride) reaches past its storage of " +
                      std::to_string(r.storage_numel) + " elements");
  return true;
}

}  // namespace

size_t dtype_size(const std::string& dtype, const std::string& where) {
  static const std::unordered_map<std::string, size_t> m{{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I64", 8},
                                                         {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U8", 1},  {"BOOL", 1}};
  auto it = m.find(dtype);
  if (it == m.end()) throw FormatError(where + ": unsupported dtype " + dtype);
  return it->second;
}

std::vector<TensorRecord> safetensors_records(std::string_view b, const std::string& path, std::string_view* data_out) {
  if (b.size() < 8) throw FormatError(path + ": too short for safetensors (" + std::to_string(b.size()) + " bytes)");
  uint64_t n;
  std::memcpy(&n, b.data(), 8);
  if (n > b.size() - 8 || n > (100u << 20))
    throw FormatError(path + ": safetensors header of " + std::to_string(n) + " bytes runs past the file (" +
                      std::to_string(b.size()) + " bytes)");
  nlohmann::json h = parse_json(b.substr(8, n), path + ": safetensors header");
  if (!h.is_object()) throw FormatError(path + ": safetensors header is not a JSON object");
  const std::string_view data = b.substr(8 + n);
  std::vector<TensorRecord> out;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    TensorRecord r;
    r.name = it.key();
    const std::string where = path + ": tensor '" + it.key() + "'";
    const auto& e = it.value();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw FormatError(where + ": header entry needs dtype, shape and data_offsets");
    // Each field type-checked (a wrong JSON type is the file's error, named, not a library's).
    if (!e["dtype"].is_string()) throw FormatError(where + ": field 'dtype': expected a string");
    r.dtype = e["dtype"].get<std::string>();
    r.element_size = dtype_size(r.dtype, where);
    const auto& jshape = e["shape"];
    if (!jshape.is_array() || jshape.size() > 16) throw FormatError(where + ": field 'shape': expected an array of at most 16 sizes");
    for (const auto& d : jshape) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t{1} << 62)
        throw FormatError(where + ": field 'shape': expected non-negative integers");
      r.shape.push_back(d.get<int64_t>());
    }
    const auto& joff = e["data_offsets"];
    if (!joff.is_array() || joff.size() != 2 || !joff[0].is_number_unsigned() || !joff[1].is_number_unsigned())
      throw FormatError(where + ": field 'data_offsets': expected [begin, end]");
    r.begin = joff[0].get<uint64_t>();
    r.end = joff[1].get<uint64_t>();
    if (r.begin > r.end || r.end > data.size())
      throw FormatError(where + ": data_offsets out of the file's data (" + std::to_string(data.size()) + " bytes)");
    uint64_t bytes = r.element_size;
    for (int64_t d : r.shape)
      if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
        throw FormatError(where + ": field 'shape': the tensor's size overflows");
    if (bytes != r.end - r.begin)
      throw FormatError(where + ": shape needs " + std::to_string(bytes) + " bytes, data_offsets give " +
                        std::to_string(r.end - r.begin));
    out.push_back(std::move(r));
  }
  if (data_out) *data_out = data;
  return out;
}

std::vector<TensorRecord> torch_pickle_records(const PickleDocument& doc, const std::string& path) {
  const PickleValue* root = &doc.root();
  // A Lightning checkpoint (a dict with "state_dict") or a bare state dict (dict / OrderedDict).
  if (root->is_node()) {
    if (const auto* sd = root->as_node().find("state_dict")) root = sd;
  }
  if (!root->is_node() || (!root->is_dict() && root->as_node().entries.empty()))
    throw FormatError(path + ": expected a state dict (a dict of tensors), found " + root->type_name());
  std::vector<TensorRecord> out;
  for (const auto& [k, v] : root->as_node().entries) {
    if (!k.is_str()) continue;
    TensorRecord r;
    if (torch_tensor(v, std::string(k.as_str()), path, r)) out.push_back(std::move(r));
  }
  return out;
}

ZipArchive::ZipArchive(const std::string& path) : path_(path) {
  int err = 0;
  z_ = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!z_) zip_failure(path, err);
}

ZipArchive::ZipArchive(std::string_view bytes, const std::string& name) : path_(name) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!src) {
    zip_error_fini(&error);
    throw FormatError(name + ": cannot read the archive's bytes");
  }
  z_ = zip_open_from_source(src, ZIP_RDONLY, &error);
  if (!z_) {
    const int code = zip_error_code_zip(&error);
    zip_source_free(src);
    zip_error_fini(&error);
    zip_failure(name, code);
  }
  zip_error_fini(&error);
}

ZipArchive::~ZipArchive() {
  if (z_) zip_discard(z_);
}

std::string ZipArchive::read(const std::string& name, uint64_t max_bytes) const {
  zip_int64_t idx = zip_name_locate(z_, name.c_str(), 0);
  if (idx < 0) throw FormatError(path_ + ": archive entry '" + name + "' is missing");
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z_, static_cast<zip_uint64_t>(idx), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
    throw FormatError(path_ + ": cannot stat archive entry '" + name + "'");
  if (st.size > max_bytes)
    throw FormatError(path_ + ": archive entry '" + name + "' claims " + std::to_string(st.size) + " bytes, more than " +
                      std::to_string(max_bytes) + " (corrupt archive?)");
  zip_file_t* f = zip_fopen_index(z_, static_cast<zip_uint64_t>(idx), 0);
  if (!f) throw FormatError(path_ + ": cannot open archive entry '" + name + "': " + zip_strerror(z_));
  // Read in pieces, so a size the archive only claims never becomes one huge allocation up front.
  std::string out;
  char buf[1 << 16];
  while (out.size() < st.size) {
    const zip_int64_t got = zip_fread(f, buf, std::min<zip_uint64_t>(sizeof buf, st.size - out.size()));
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  zip_fclose(f);
  if (out.size() != st.size) throw FormatError(path_ + ": archive entry '" + name + "' is truncated or corrupt");
  return out;
}

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> out;
  const zip_int64_t n = zip_get_num_entries(z_, 0);
  for (zip_int64_t i = 0; i < n && i < (1 << 20); ++i)
    if (const char* s = zip_get_name(z_, static_cast<zip_uint64_t>(i), 0)) out.emplace_back(s);
  return out;
}

std::string torch_archive_prefix(const ZipArchive& zip) {
  for (const auto& n : zip.names())
    if (n.size() > 8 && n.compare(n.size() - 8, 8, "data.pkl") == 0 && n.find('/') == n.size() - 9)
      return n.substr(0, n.size() - 8);
  throw FormatError(zip.path() + ": a zip archive without data.pkl is not a torch.save file");
}

}  // namespace ner4el::io
