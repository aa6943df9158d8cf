// A Wikipedia XML dump (the importer's reader): the input as a plain or bzip2 file, planned into
// chunks and every chunk parsed, pages converted to text.
#include "fuzz_util.h"
#include "ner4el/error.h"
#include "wiki/dump.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  const std::string path = fuzz::write_input(data, size, ".xml");
  wiki::DumpLimits limits;
  limits.chunk_bytes = 512;  // many chunks even from a small input
  limits.max_page_bytes = 1 << 16;
  try {
    const wiki::DumpPlan plan = wiki::plan_dump(path, "", limits);
    for (size_t i = 0; i < plan.chunks.size() && i < 64; ++i) {
      try {
        wiki::read_chunk(plan, i, [&](wiki::Page&& p) { (void)wiki::to_plain_text(p.text, plan.site); }, limits);
      } catch (const Error&) {
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
