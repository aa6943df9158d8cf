// Weights files as hostile inputs, read without libtorch (io/weights_layout.h): torch.save archives
// that CPython writes with crafted tensor records, and safetensors headers. Every one is refused
// with the file, the tensor and what is wrong; none reaches an allocation or a read out of bounds.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "io/index_layout.h"
#include "io/mapped_file.h"
#include "io/weights_layout.h"
#include "ner4el/error.h"
#include "test_util.h"

namespace ner4el {
namespace {

// Writes torch.save-style archives, one per (path, records); each data.pkl holds one tensor record
// per (name, numel, offset, size, stride, key), pickled by CPython with torch's real rebuild
// function and storage class (one Python run for all of them: importing torch is slow).
void write_archives(const std::string& script_path, const std::string& jobs) {
  const std::string script = R"(
import collections, io, pickle, sys, zipfile, torch
jobs = eval(open(sys.argv[1]).read())
class Ref:
    def __init__(self, key, numel): self.key, self.numel = key, numel
class T:
    def __init__(self, ref, offset, size, stride): self.a = (ref, offset, size, stride)
    def __reduce__(self): return (torch._utils._rebuild_tensor_v2, self.a + (False, collections.OrderedDict()))
class P(pickle.Pickler):
    def persistent_id(self, obj):
        return ('storage', torch.FloatStorage, obj.key, 'cpu', obj.numel) if isinstance(obj, Ref) else None
for path, records in jobs:
    sd = collections.OrderedDict((name, T(Ref(key, numel), off, size, stride)) for name, numel, off, size, stride, key in records)
    buf = io.BytesIO(); P(buf, protocol=2).dump(sd)
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('archive/data.pkl', buf.getvalue())
        z.writestr('archive/data/0', b'\0' * 64)
)";
  test::write_file(script_path, script);
  test::write_file(script_path + ".jobs", jobs);
  ASSERT_EQ(test::run(std::string(NER4EL_PYTHON) + " " + script_path + " " + script_path + ".jobs"), 0) << jobs;
}

std::string torch_error(const std::string& path) {
  try {
    io::ZipArchive zip(path);
    const std::string prefix = io::torch_archive_prefix(zip);
    auto doc = io::PickleDocument::load_bytes(zip.read(prefix + "data.pkl"), path);
    io::torch_pickle_records(doc, path);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(WeightsLayout, CraftedTorchRecordsAreRefused) {
  test::TempDir dir;
  const std::string p = dir.file("w.pt");
  const std::pair<const char*, const char*> cases[] = {
      // A view whose element count or last element overflows 64 bits, or reaches past the storage.
      {"[('t', 16, 0, (2**62, 4), (4, 1), '0')]", "tensor 't': view"},
      {"[('t', 16, 0, (4, 4), (2**62, 1), '0')]", "tensor 't': view"},
      {"[('t', 16, 2**63 - 1, (2, 1), (1, 1), '0')]", "tensor 't': view"},
      {"[('t', 16, 1, (4, 4), (4, 1), '0')]", "reaches past its storage of 16 elements"},
      {"[('t', 16, -1, (1,), (1,), '0')]", "tensor 't': view"},
      {"[('t', 16, 0, (-1,), (1,), '0')]", "negative size or stride"},
      {"[('t', 16, 0, (4,), (1, 1), '0')]", "size and stride differ in rank"},
      {"[('t', 16, 0, tuple([1] * 17), tuple([1] * 17), '0')]", "at most 16 ints"},
      // A storage size that is no size, or whose bytes overflow.
      {"[('t', -1, 0, (0,), (1,), '0')]", "storage of -1 elements is not a size"},
      {"[('t', 2**62, 0, (1,), (1,), '0')]", "is not a size"},
      // A storage key that would name another path in the archive.
      {"[('t', 16, 0, (1,), (1,), '../0')]", "is not a plain name"},
      {"[('t', 16, 0, (1,), (1,), '')]", "is not a plain name"},
  };
  std::string jobs = "[('" + p + "', [('ok', 16, 0, (4, 4), (4, 1), '0')])";
  for (size_t i = 0; i < std::size(cases); ++i)
    jobs += ", ('" + dir.file("w" + std::to_string(i) + ".pt") + "', " + cases[i].first + ")";
  write_archives(dir.file("write.py"), jobs + "]");
  {
    io::ZipArchive zip(p);
    auto doc = io::PickleDocument::load_bytes(zip.read(io::torch_archive_prefix(zip) + "data.pkl"), p);
    auto records = io::torch_pickle_records(doc, p);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].name, "ok");
    EXPECT_EQ(records[0].dtype, "F32");
    EXPECT_EQ(records[0].shape, (std::vector<int64_t>{4, 4}));
    EXPECT_EQ(records[0].storage_numel, 16);
  }
  for (size_t i = 0; i < std::size(cases); ++i) {
    const std::string path = dir.file("w" + std::to_string(i) + ".pt");
    const std::string err = torch_error(path);
    EXPECT_NE(err.find(cases[i].second), std::string::npos) << cases[i].first << " -> " << err;
    EXPECT_NE(err.find(path), std::string::npos) << err;
  }
  // Not an archive at all.
  test::write_file(p, "PK\x03\x04 not really a zip");
  EXPECT_NE(torch_error(p).find("not a readable zip archive"), std::string::npos);
}

TEST(WeightsLayout, SafetensorsHeadersAreChecked) {
  auto header = [](const std::string& json, size_t data_bytes) {
    std::string b(8, '\0');
    const uint64_t n = json.size();
    std::memcpy(b.data(), &n, 8);
    return b + json + std::string(data_bytes, '\0');
  };
  std::string_view data;
  auto ok = io::safetensors_records(header(R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})", 24), "s", &data);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(data.size(), 24u);
  const std::pair<std::string, const char*> cases[] = {
      {R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 24]}})", "the tensor's size overflows"},
      {R"({"w": {"dtype": "F32", "shape": [9223372036854775807], "data_offsets": [0, 24]}})", "expected non-negative integers"},
      {R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 25]}})", "data_offsets out of the file's data"},
      {R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [8, 0]}})", "data_offsets out of the file's data"},
      {R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 24]}})", "shape needs 16 bytes, data_offsets give 24"},
      {R"({"w": {"dtype": 5, "shape": [2, 3], "data_offsets": [0, 24]}})", "field 'dtype': expected a string"},
      {R"({"w": {"dtype": "Q7", "shape": [2, 3], "data_offsets": [0, 24]}})", "unsupported dtype Q7"},
      {R"({"w": {"dtype": "F32", "shape": "2x3", "data_offsets": [0, 24]}})", "field 'shape'"},
      {R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": {"a": 1}}})", "field 'data_offsets'"},
      {R"({"w": [1, 2]})", "needs dtype, shape and data_offsets"},
      {R"([1, 2])", "not a JSON object"},
      {std::string(200, '[') + std::string(200, ']'), "nested deeper than 128"},
  };
  for (const auto& [json, expect] : cases) {
    try {
      io::safetensors_records(header(json, 24), "s.safetensors", &data);
      ADD_FAILURE() << json;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << json << " -> " << e.what();
    }
  }
  // A header length past the file.
  std::string b = header("{}", 0);
  b[7] = '\x7f';
  EXPECT_THROW(io::safetensors_records(b, "s", &data), FormatError);
}

TEST(IndexLayout, CraftedHeadersAreRefused) {
  auto file = [](const std::string& json, size_t body) {
    std::string b(io::kIndexMagic, 8);
    const uint32_t version = 1, n = static_cast<uint32_t>(json.size());
    b.append(reinterpret_cast<const char*>(&version), 4);
    b.append(reinterpret_cast<const char*>(&n), 4);
    return b + json + std::string(body, '\0');
  };
  const std::string good = R"({"fingerprint": "f", "dim": 2, "dtype": "f32", "count": 2, "ids_offset": 100, "vectors_offset": 116})";
  auto l = io::index_layout(file(good, 200), "ix", 1);
  EXPECT_EQ(l.count, 2u);
  EXPECT_EQ(l.dim, 2);
  const std::pair<std::string, const char*> cases[] = {
      {R"({"fingerprint": "f", "dim": 2, "dtype": "f32", "count": 2305843009213693952, "ids_offset": 100, "vectors_offset": 116})", "run past the end"},
      {R"({"fingerprint": "f", "dim": 2, "dtype": "f32", "count": 2, "ids_offset": 18446744073709551600, "vectors_offset": 116})", "run past the end"},
      {R"({"fingerprint": "f", "dim": 0, "dtype": "f32", "count": 2, "ids_offset": 100, "vectors_offset": 116})", "is not a vector size"},
      {R"({"fingerprint": "f", "dim": -3, "dtype": "f32", "count": 2, "ids_offset": 100, "vectors_offset": 116})", "field 'dim': expected a size"},
      {R"({"fingerprint": 7, "dim": 2, "dtype": "f32", "count": 2, "ids_offset": 100, "vectors_offset": 116})", "field 'fingerprint'"},
      {R"({"fingerprint": "f", "dim": 2, "dtype": "f8", "count": 2, "ids_offset": 100, "vectors_offset": 116})", "field 'dtype'"},
      {R"({"fingerprint": "f", "dim": 2, "dtype": "f32", "ids_offset": 100, "vectors_offset": 116})", "field 'count' is missing"},
      {R"([])", "field 'fingerprint' is missing"},
      {std::string(300, '['), "nested deeper than 128"},
  };
  for (const auto& [json, expect] : cases) {
    try {
      io::index_layout(file(json, 200), "ix", 1);
      ADD_FAILURE() << json;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << json << " -> " << e.what();
    }
  }
  std::string b = file(good, 200);
  b[15] = '\x7f';  // header length past the file
  EXPECT_THROW(io::index_layout(b, "ix", 1), FormatError);
  b = file(good, 200);
  b[8] = 9;  // a newer format
  EXPECT_THROW(io::index_layout(b, "ix", 1), FormatError);
}

}  // namespace
}  // namespace ner4el
