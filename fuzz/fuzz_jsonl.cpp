// One line of a NER4EL JSON Lines data set (link, evaluate, train, the server's mentions).
#include <string_view>

#include "ner4el/dataset.h"
#include "ner4el/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  try {
    auto m = parse_mention(line, "input", 1, false);
    (void)m.mention.size();
  } catch (const Error&) {
  }
  return 0;
}
