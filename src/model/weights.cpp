// Weight files as state dicts: torch.save zip archives (via the safe pickle reader) and safetensors.
#include <array>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "io/mapped_file.h"
#include "ner4el/files.h"
#include "io/pickle.h"
#include "io/weights_layout.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/torch/bert.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {

torch::Dtype torch_dtype(const std::string& name) {
  static const std::unordered_map<std::string, torch::Dtype> m{
      {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16}, {"F64", torch::kFloat64},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},     {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  return m.at(name);  // the records' dtypes are checked names (io::dtype_size)
}

torch::Tensor finish(torch::Tensor t, bool keep_half) {
  if (!keep_half && (t.scalar_type() == torch::kFloat16 || t.scalar_type() == torch::kBFloat16)) return t.to(torch::kFloat32);
  return t;
}

/// A torch.save zip archive: the records of its data.pkl (checked in io/weights_layout.cpp), their
/// storages read from data/<key> once each.
StateDict read_torch_zip(const std::string& path, bool keep_half) {
  io::ZipArchive zip(path);
  const std::string prefix = io::torch_archive_prefix(zip);
  auto doc = io::PickleDocument::load_bytes(zip.read(prefix + "data.pkl", 1u << 30), path + ":data.pkl");
  std::unordered_map<std::string, torch::Tensor> storages;
  StateDict out;
  for (const auto& r : io::torch_pickle_records(doc, path)) {
    const torch::Dtype dtype = torch_dtype(r.dtype);
    auto it = storages.find(r.storage);
    if (it == storages.end()) {
      const uint64_t need = static_cast<uint64_t>(r.storage_numel) * r.element_size;  // checked: no overflow
      std::string bytes = zip.read(prefix + "data/" + r.storage, need);
      if (bytes.size() < need)
        throw FormatError(path + ": tensor '" + r.name + "': storage " + r.storage + " holds " + std::to_string(bytes.size()) +
                          " bytes, " + std::to_string(need) + " expected (truncated file?)");
      auto t = torch::empty({r.storage_numel}, torch::TensorOptions().dtype(dtype));
      std::memcpy(t.data_ptr(), bytes.data(), need);
      it = storages.emplace(r.storage, t).first;
    }
    if (it->second.scalar_type() != dtype)
      throw FormatError(path + ": tensor '" + r.name + "': storage " + r.storage + " is read with two dtypes");
    if (it->second.numel() < r.storage_numel)
      throw FormatError(path + ": tensor '" + r.name + "': storage " + r.storage + " is given two sizes");
    out[r.name] = finish(it->second.as_strided(r.shape, r.stride, r.offset).contiguous(), keep_half);
  }
  return out;
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
  std::string_view data;
  StateDict out;
  for (const auto& r : io::safetensors_records(file.bytes(), path, &data)) {
    auto t = torch::empty(r.shape, torch::TensorOptions().dtype(torch_dtype(r.dtype)));
    std::memcpy(t.data_ptr(), data.data() + r.begin, r.end - r.begin);
    out[r.name] = finish(t, keep_half);
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
  if (std::memcmp(magic, "PK\x03\x04", 4) == 0) return read_torch_zip(path, keep_half_precision);
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
  OutputFile file(path);
  std::ostream& out = file.stream();
  uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& t : ordered) out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  file.commit();
}

}  // namespace ner4el
