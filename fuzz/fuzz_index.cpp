// An entity index file ('ner4el index'): its header checked, then every id and vector it claims read
// (EntityIndex::open maps the file and reads them the same way).
#include <cstring>

#include "fuzz_util.h"
#include "io/index_layout.h"
#include "ner4el/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  try {
    const std::string_view file(reinterpret_cast<const char*>(data), size);
    const auto l = io::index_layout(file, "input", 1);
    int64_t id = 0;
    for (size_t i = 0; i < l.count; ++i) std::memcpy(&id, file.data() + l.ids_offset + i * 8, 8);
    const size_t elt = l.fp16 ? 2 : 4;
    if (l.count > 0) {
      unsigned char last;
      std::memcpy(&last, file.data() + l.vectors_offset + l.count * static_cast<size_t>(l.dim) * elt - 1, 1);
      (void)last;
    }
    (void)id;
  } catch (const Error&) {
  }
  return 0;
}
