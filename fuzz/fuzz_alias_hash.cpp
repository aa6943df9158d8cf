// A corrupt aliases.hash (the KB's memory-mapped alias table) under look-ups.
#include "fuzz_util.h"
#include "kb/alias_hash.h"
#include "ner4el/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  try {
    kb::AliasHash h(fuzz::write_input(data, size, ".hash"));
    for (const char* key : {"paris", "lutetia", "", "a", "new york"}) (void)h.find(key);
  } catch (const Error&) {
  }
  return 0;
}
