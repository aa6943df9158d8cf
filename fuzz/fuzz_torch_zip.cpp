// A torch.save zip archive: libzip over the bytes, data.pkl through the pickle reader, the tensor
// records checked, and each record's storage read (bounded by what the record needs), as
// read_state_dict does before it makes tensors.
#include "fuzz_util.h"
#include "io/weights_layout.h"
#include "ner4el/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  try {
    io::ZipArchive zip(std::string_view(reinterpret_cast<const char*>(data), size), "input");
    const std::string prefix = io::torch_archive_prefix(zip);
    auto doc = io::PickleDocument::load_bytes(zip.read(prefix + "data.pkl", 1u << 24), "input:data.pkl");
    for (const auto& r : io::torch_pickle_records(doc, "input")) {
      const uint64_t need = static_cast<uint64_t>(r.storage_numel) * r.element_size;
      if (need <= (1u << 24)) (void)zip.read(prefix + "data/" + r.storage, need);
    }
  } catch (const Error&) {
  }
  return 0;
}
