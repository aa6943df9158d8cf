// The pickle reader, whole-document and streaming (kb build reads alias tables that way).
#include "fuzz_util.h"
#include "io/pickle.h"
#include "ner4el/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  try {
    auto doc = io::PickleDocument::load_bytes(std::string(reinterpret_cast<const char*>(data), size), "input");
    (void)doc.root().type_name();
  } catch (const Error&) {
  }
  try {
    size_t n = 0;
    io::stream_pickle_dict(fuzz::write_input(data, size, ".pkl"), [&](const io::PickleValue& k, const io::PickleValue& v) {
      n += k.type_name().size() + v.type_name().size();
      if (v.is_node()) n += v.as_node().items.size();
    });
  } catch (const Error&) {
  }
  return 0;
}
