// Weight files as state dicts: torch.save zip archives (via the safe pickle reader) and safetensors.
#include <array>
#include <zip.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "io/mapped_file.h"
#include "io/pickle.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/torch/bert.h"

namespace ner4el {

namespace fs = std::filesystem;
using io::PickleNode;
using io::PickleValue;

namespace {

struct ZipArchive {
  zip_t* z = nullptr;
  std::string path;
  explicit ZipArchive(const std::string& p) : path(p) {
    int err = 0;
    z = zip_open(p.c_str(), ZIP_RDONLY, &err);
    if (!z) {
      zip_error_t e;
      zip_error_init_with_code(&e, err);
      std::string msg = zip_error_strerror(&e);
      zip_error_fini(&e);
      throw FormatError(p + ": not a readable zip archive (" + msg + ")");
    }
  }
  ~ZipArchive() {
    if (z) zip_discard(z);
  }
  std::string read(const std::string& name) const {
    zip_int64_t idx = zip_name_locate(z, name.c_str(), 0);
    if (idx < 0) throw FormatError(path + ": archive entry '" + name + "' is missing");
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(idx), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      throw FormatError(path + ": cannot stat archive entry '" + name + "'");
    std::string out(st.size, '\0');
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(idx), 0);
    if (!f) throw FormatError(path + ": cannot open archive entry '" + name + "': " + zip_strerror(z));
    zip_int64_t got = zip_fread(f, out.data(), st.size);
    zip_fclose(f);
    if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
      throw FormatError(path + ": archive entry '" + name + "' is truncated or corrupt");
    return out;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n; ++i) out.emplace_back(zip_get_name(z, static_cast<zip_uint64_t>(i), 0));
    return out;
  }
};

torch::Dtype storage_dtype(const std::string& cls, const std::string& where) {
  static const std::unordered_map<std::string, torch::Dtype> m{
      {"FloatStorage", torch::kFloat32}, {"HalfStorage", torch::kFloat16}, {"BFloat16Storage", torch::kBFloat16},
      {"DoubleStorage", torch::kFloat64}, {"LongStorage", torch::kInt64},  {"IntStorage", torch::kInt32},
      {"ShortStorage", torch::kInt16},   {"CharStorage", torch::kInt8},    {"ByteStorage", torch::kUInt8},
      {"BoolStorage", torch::kBool}};
  auto dot = cls.rfind('.');
  auto it = m.find(dot == std::string::npos ? cls : cls.substr(dot + 1));
  if (it == m.end()) throw FormatError(where + ": unsupported storage type " + cls);
  return it->second;
}

std::vector<int64_t> int_tuple(const PickleValue& v, const std::string& where) {
  if (!v.is_sequence()) throw FormatError(where + ": expected a tuple of ints, found " + v.type_name());
  std::vector<int64_t> out;
  for (const auto& x : v.as_node().items) out.push_back(x.as_int());
  return out;
}

class TorchZipReader {
 public:
  TorchZipReader(const std::string& path, bool keep_half) : zip_(path), keep_half_(keep_half) {
    for (const auto& n : zip_.names()) {
      if (n.size() >= 8 && n.compare(n.size() - 8, 8, "data.pkl") == 0 && n.find('/') == n.size() - 9) {
        prefix_ = n.substr(0, n.size() - 8);
        break;
      }
    }
    if (prefix_.empty()) throw FormatError(path + ": a zip archive without data.pkl is not a torch.save file");
    doc_ = std::make_unique<io::PickleDocument>(io::PickleDocument::load_bytes(zip_.read(prefix_ + "data.pkl"), path + ":data.pkl"));
  }

  StateDict state_dict() {
    const PickleValue* root = &doc_->root();
    // A Lightning checkpoint (a dict with "state_dict") or a bare state dict (dict / OrderedDict).
    if (root->is_node()) {
      if (const auto* sd = root->as_node().find("state_dict")) root = sd;
    }
    if (!root->is_node() || (!root->is_dict() && root->as_node().entries.empty()))
      throw FormatError(zip_.path + ": expected a state dict (a dict of tensors), found " + root->type_name());
    StateDict out;
    for (const auto& [k, v] : root->as_node().entries) {
      if (!k.is_str()) continue;
      std::string key(k.as_str());
      if (auto t = tensor(v, key); t.defined()) out[key] = t;
    }
    return out;
  }

 private:
  // A tensor is torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...), possibly wrapped
  // in _rebuild_parameter. Anything else (ints, hyper-parameter objects) is not a tensor: skipped.
  torch::Tensor tensor(const PickleValue& v, const std::string& key) {
    if (!v.is_object()) return {};
    const PickleNode& n = v.as_node();
    const std::string fn = n.qualified_name();
    const std::string where = zip_.path + ": tensor '" + key + "'";
    if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
      if (!n.args.is_sequence() || n.args.as_node().items.empty()) throw FormatError(where + ": malformed parameter");
      return tensor(n.args.as_node().items[0], key);
    }
    if (fn != "torch._utils._rebuild_tensor_v2" && fn != "torch._utils._rebuild_tensor") return {};
    if (!n.args.is_sequence() || n.args.as_node().items.size() < 4) throw FormatError(where + ": malformed tensor record");
    const auto& a = n.args.as_node().items;
    const PickleValue& pid_node = a[0];
    if (!pid_node.is_node() || pid_node.as_node().type != PickleNode::Type::PersistentId)
      throw FormatError(where + ": storage is not a persistent id");
    const PickleValue& pid = pid_node.as_node().items.at(0);
    if (!pid.is_sequence() || pid.as_node().items.size() < 5) throw FormatError(where + ": malformed storage id");
    const auto& p = pid.as_node().items;
    const std::string storage_cls = p[1].is_node() ? p[1].as_node().qualified_name() : "";
    const std::string storage_key(p[2].as_str());
    const int64_t numel = p[4].as_int();
    const torch::Dtype dtype = storage_dtype(storage_cls, where);
    const int64_t offset = a[1].as_int();
    const auto size = int_tuple(a[2], where), stride = int_tuple(a[3], where);
    if (size.size() != stride.size()) throw FormatError(where + ": size and stride differ in rank");
    // Bounds: the last element the view touches must lie inside the storage.
    int64_t last = offset, elements = 1;
    for (size_t i = 0; i < size.size(); ++i) {
      if (size[i] < 0 || stride[i] < 0) throw FormatError(where + ": negative size or stride");
      elements *= size[i];
      if (size[i] > 0) last += (size[i] - 1) * stride[i];
    }
    if (offset < 0 || (elements > 0 && last >= numel))
      throw FormatError(where + ": view (offset " + std::to_string(offset) + ") reaches element " + std::to_string(last) +
                        " of a storage of " + std::to_string(numel));
    torch::Tensor storage = this->storage(storage_key, dtype, numel, where);
    auto t = storage.as_strided(size, stride, offset).contiguous();
    if (!keep_half_ && (dtype == torch::kFloat16 || dtype == torch::kBFloat16)) t = t.to(torch::kFloat32);
    return t;
  }

  torch::Tensor storage(const std::string& key, torch::Dtype dtype, int64_t numel, const std::string& where) {
    auto it = storages_.find(key);
    if (it != storages_.end()) return it->second;
    std::string bytes = zip_.read(prefix_ + "data/" + key);
    const size_t need = static_cast<size_t>(numel) * torch::elementSize(dtype);
    if (bytes.size() < need)
      throw FormatError(where + ": storage " + key + " holds " + std::to_string(bytes.size()) + " bytes, " +
                        std::to_string(need) + " expected (truncated file?)");
    auto t = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
    std::memcpy(t.data_ptr(), bytes.data(), need);
    storages_.emplace(key, t);
    return t;
  }

  ZipArchive zip_;
  bool keep_half_;
  std::string prefix_;
  std::unique_ptr<io::PickleDocument> doc_;
  std::unordered_map<std::string, torch::Tensor> storages_;
};

torch::Dtype safetensors_dtype(const std::string& s, const std::string& where) {
  static const std::unordered_map<std::string, torch::Dtype> m{
      {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16}, {"F64", torch::kFloat64},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},     {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  auto it = m.find(s);
  if (it == m.end()) throw FormatError(where + ": unsupported dtype " + s);
  return it->second;
}

const char* safetensors_name(torch::Dtype d) {
  switch (d) {
    case torch::kFloat32: return "F32";
    case torch::kFloat16: return "F16";
    case torch::kBFloat16: return "BF16";
    case torch::kFloat64: return "F64";
    case torch::kInt64: return "I64";
    case torch::kInt32: return "I32";
    case torch::kUInt8: return "U8";
    case torch::kBool: return "BOOL";
    default: throw InvalidArgument("safetensors: unsupported dtype");
  }
}

StateDict read_safetensors(const std::string& path, bool keep_half) {
  io::MappedFile file(path);
  std::string_view b = file.bytes();
  if (b.size() < 8) throw FormatError(path + ": too short for safetensors (" + std::to_string(b.size()) + " bytes)");
  uint64_t n;
  std::memcpy(&n, b.data(), 8);
  if (n > b.size() - 8 || n > (100u << 20))
    throw FormatError(path + ": safetensors header of " + std::to_string(n) + " bytes runs past the file (" +
                      std::to_string(b.size()) + " bytes)");
  nlohmann::json h;
  check_json_depth(b.substr(8, n), path + ": safetensors header");
  try {
    h = nlohmann::json::parse(b.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(path + ": safetensors header is not valid JSON: " + e.what());
  }
  const std::string_view data = b.substr(8 + n);
  StateDict out;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string where = path + ": tensor '" + it.key() + "'";
    const auto& e = it.value();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw FormatError(where + ": header entry needs dtype, shape and data_offsets");
    // Each field type-checked (a wrong JSON type is the file's error, named, not a library's).
    if (!e["dtype"].is_string()) throw FormatError(where + ": field 'dtype': expected a string");
    const auto& jshape = e["shape"];
    if (!jshape.is_array() || jshape.size() > 16) throw FormatError(where + ": field 'shape': expected an array of at most 16 sizes");
    std::vector<int64_t> shape;
    for (const auto& d : jshape) {
      if (!d.is_number_unsigned()) throw FormatError(where + ": field 'shape': expected non-negative integers");
      shape.push_back(d.get<int64_t>());
    }
    const auto& joff = e["data_offsets"];
    if (!joff.is_array() || joff.size() != 2 || !joff[0].is_number_unsigned() || !joff[1].is_number_unsigned())
      throw FormatError(where + ": field 'data_offsets': expected [begin, end]");
    const std::array<uint64_t, 2> off{joff[0].get<uint64_t>(), joff[1].get<uint64_t>()};
    torch::Dtype dtype = safetensors_dtype(e["dtype"].get<std::string>(), where);
    if (off[0] > off[1] || off[1] > data.size())
      throw FormatError(where + ": data_offsets out of the file's data (" + std::to_string(data.size()) + " bytes)");
    uint64_t bytes = torch::elementSize(dtype);
    for (int64_t d : shape)
      if (d < 0 || __builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
        throw FormatError(where + ": field 'shape': the tensor's size overflows");
    if (bytes != off[1] - off[0])
      throw FormatError(where + ": shape needs " + std::to_string(bytes) + " bytes, data_offsets give " +
                        std::to_string(off[1] - off[0]));
    auto t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
    std::memcpy(t.data_ptr(), data.data() + off[0], off[1] - off[0]);
    if (!keep_half && (dtype == torch::kFloat16 || dtype == torch::kBFloat16)) t = t.to(torch::kFloat32);
    out[it.key()] = t;
  }
  return out;
}

}  // namespace

StateDict read_state_dict(const std::string& path, bool keep_half_precision) {
  if (!fs::is_regular_file(path)) throw NotFound(path + ": no such weights file");
  char magic[4] = {0, 0, 0, 0};
  {
    std::ifstream in(path, std::ios::binary);
    in.read(magic, 4);
  }
  if (fs::path(path).extension() == ".safetensors") return read_safetensors(path, keep_half_precision);
  if (std::memcmp(magic, "PK\x03\x04", 4) == 0) return TorchZipReader(path, keep_half_precision).state_dict();
  if (static_cast<unsigned char>(magic[0]) == 0x80)
    throw FormatError(path + ": this is torch.save's legacy (pre-1.6, non-zip) format, which is not supported; "
                      "re-save it with torch.save(torch.load(f), f) in PyTorch 1.6 or later");
  throw FormatError(path + ": not a torch.save zip archive or a .safetensors file");
}

void write_safetensors(const std::string& path, const StateDict& tensors, const std::map<std::string, std::string>& metadata) {
  nlohmann::json h;
  h["__metadata__"] = metadata;
  uint64_t off = 0;
  std::vector<torch::Tensor> ordered;
  for (const auto& [k, v] : tensors) {
    auto t = v.contiguous().cpu();
    uint64_t n = static_cast<uint64_t>(t.numel()) * t.element_size();
    h[k] = {{"dtype", safetensors_name(t.scalar_type())}, {"shape", t.sizes().vec()}, {"data_offsets", {off, off + n}}};
    off += n;
    ordered.push_back(t);
  }
  std::string header = h.dump();
  // Pad with spaces so the data starts 64-byte aligned (memory-mappable); readers ignore the spaces.
  header.append((64 - (8 + header.size()) % 64) % 64, ' ');
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw Error("cannot write " + tmp);
    uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& t : ordered) out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    if (!out) throw Error("write to " + tmp + " failed (disk full?)");
  }
  fs::rename(tmp, path);
}

}  // namespace ner4el
