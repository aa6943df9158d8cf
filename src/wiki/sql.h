// Reading the rows of a MediaWiki SQL table dump (redirect.sql.gz, page_props.sql.gz): the
// mysqldump text Wikimedia publishes, gzip-compressed or plain (internal; the Wikipedia importer).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ner4el::wiki {

struct SqlLimits {
  size_t max_value_bytes = 1 << 20;    ///< one value (a title is at most 255 bytes in MediaWiki)
  size_t max_columns = 64;             ///< values in one row
  size_t max_statement_bytes = 1 << 20;  ///< a statement other than INSERT's rows (CREATE TABLE, SET, ...)
};

/// The columns of the table, from its CREATE TABLE statement (empty until that is read).
struct SqlRow {
  const std::vector<std::string>* columns = nullptr;
  std::vector<std::string> values;  ///< as text, unescaped; NULL as ""
  /// Index of a column by name. @throws FormatError naming the file when the table has no such column.
  size_t column(const std::string& name) const;
  std::string path;
};

/// Calls fn for each row that the INSERT INTO `table` statements of the file hold (other tables'
/// rows are skipped). @throws NotFound; FormatError naming the file, the byte of the decompressed
/// text and what is wrong (a truncated or corrupt gzip stream, a broken statement, a value over
/// the limits, rows before the CREATE TABLE that names their columns).
void read_sql_table(const std::string& path, const std::string& table, const std::function<void(const SqlRow&)>& fn,
                    const SqlLimits& limits = {});

}  // namespace ner4el::wiki
