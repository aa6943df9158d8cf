// The CSV/TSV reader (descriptions.csv, counts.csv and the TSV sources of kb build).
#include "fuzz_util.h"
#include "io/csv.h"
#include "ner4el/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  const std::string path = fuzz::write_input(data, size, ".csv");
  for (bool quoting : {true, false}) {
    try {
      io::CsvReader r(path, quoting ? ',' : '\t', quoting);
      std::vector<std::string> fields;
      while (r.next(fields)) (void)r.line();
    } catch (const Error&) {
    }
  }
  return 0;
}
