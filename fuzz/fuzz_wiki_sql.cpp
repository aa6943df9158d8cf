// The MediaWiki SQL table reader (redirect.sql.gz, page_props.sql.gz), on plain text and on gzip.
#include "fuzz_util.h"
#include "ner4el/error.h"
#include "wiki/sql.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  const std::string path = fuzz::write_input(data, size, ".sql");
  wiki::SqlLimits limits;
  limits.max_statement_bytes = 1 << 16;
  limits.max_value_bytes = 1 << 12;
  try {
    wiki::read_sql_table(path, "redirect", [](const wiki::SqlRow& r) {
      if (r.values.size() != r.columns->size()) __builtin_trap();
      (void)r.column("rd_title");
    }, limits);
  } catch (const Error&) {
  }
  return 0;
}
