// Streaming CSV/TSV reader over a memory-mapped file (internal).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/mapped_file.h"

namespace ner4el::io {

/// Reads records the way pandas writes them: fields separated by delim, a field in double quotes
/// may hold the delimiter, newlines and doubled quotes (""). With quoting off (TSV), a record is
/// one line and quotes are ordinary characters.
class CsvReader {
 public:
  /// @throws NotFound when the file cannot be opened.
  explicit CsvReader(const std::string& path, char delim = ',', bool quoting = true);

  /// Reads the next record into fields; false at the end of the file.
  /// @throws FormatError "file:line: unterminated quoted field" when a quote is never closed.
  bool next(std::vector<std::string>& fields);
  /// Line (1-based) on which the last record returned starts.
  std::size_t line() const { return record_line_; }
  uint64_t offset() const { return pos_; }
  uint64_t size() const { return file_.bytes().size(); }
  const std::string& path() const { return file_.path(); }

 private:
  MappedFile file_;
  char delim_;
  bool quoting_;
  uint64_t pos_ = 0;
  std::size_t line_ = 1, record_line_ = 0;
};

}  // namespace ner4el::io
