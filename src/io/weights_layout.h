// Where the tensors of a weights file are, read and checked without libtorch (so the fuzz targets
// reach every check): safetensors headers, torch.save zip archives (their data.pkl through the safe
// pickle reader), and the zip archives themselves. src/model/weights.cpp turns the records into
// tensors; every size, offset and view here is bounds- and overflow-checked first.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/pickle.h"

struct zip;  // libzip's archive

namespace ner4el::io {

/// One tensor of a weights file.
struct TensorRecord {
  std::string name;
  std::string dtype;  ///< safetensors' names: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL
  size_t element_size = 0;
  std::vector<int64_t> shape;
  // safetensors: the tensor's bytes are [begin, end) of the data after the header.
  uint64_t begin = 0, end = 0;
  // torch.save: a strided view (in elements) of storage `storage` (data/<storage> in the archive),
  // which holds storage_numel elements; every element the view reaches is inside it.
  std::vector<int64_t> stride;
  int64_t offset = 0;
  std::string storage;
  int64_t storage_numel = 0;
};

/// Bytes per element of a safetensors dtype name. @throws FormatError "WHERE: unsupported dtype X".
size_t dtype_size(const std::string& dtype, const std::string& where);

/// The tensors of a safetensors file (its whole bytes); data receives the bytes after the header.
/// @throws FormatError naming the file, the tensor and the field.
std::vector<TensorRecord> safetensors_records(std::string_view file, const std::string& path, std::string_view* data);

/// The tensors of a torch.save data.pkl: a state dict, or a Lightning checkpoint's "state_dict".
/// Entries that are not tensors (hyper-parameters, counters) are skipped.
std::vector<TensorRecord> torch_pickle_records(const PickleDocument& doc, const std::string& path);

/// A zip archive, read-only, from a file or from bytes (libzip).
class ZipArchive {
 public:
  explicit ZipArchive(const std::string& path);
  /// bytes must outlive the archive; name is used in messages.
  ZipArchive(std::string_view bytes, const std::string& name);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;
  /// An entry's bytes; at most max_bytes. @throws FormatError (missing, corrupt, too large).
  std::string read(const std::string& entry, uint64_t max_bytes = uint64_t{1} << 36) const;
  std::vector<std::string> names() const;
  const std::string& path() const { return path_; }

 private:
  ::zip* z_ = nullptr;
  std::string path_;
};

/// The archive's "<prefix>/data.pkl" prefix (torch.save puts everything under one folder).
/// @throws FormatError when there is none (not a torch.save file).
std::string torch_archive_prefix(const ZipArchive& zip);

}  // namespace ner4el::io
