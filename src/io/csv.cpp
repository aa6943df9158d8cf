#include "io/csv.h"

#include "ner4el/error.h"

namespace ner4el::io {

CsvReader::CsvReader(const std::string& path, char delim, bool quoting)
    : file_(path), delim_(delim), quoting_(quoting) {
  // A UTF-8 byte-order mark is not part of the first field.
  if (file_.bytes().substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool CsvReader::next(std::vector<std::string>& fields) {
  std::string_view b = file_.bytes();
  fields.clear();
  // Skip blank lines between records.
  while (pos_ < b.size() && (b[pos_] == '\n' || b[pos_] == '\r')) {
    if (b[pos_] == '\n') ++line_;
    ++pos_;
  }
  if (pos_ >= b.size()) return false;
  record_line_ = line_;
  std::string field;
  while (true) {
    if (quoting_ && pos_ < b.size() && b[pos_] == '"') {
      ++pos_;
      while (true) {
        size_t q = b.find('"', pos_);
        if (q == std::string_view::npos)
          throw FormatError(location(file_.path(), record_line_) + ": unterminated quoted field");
        for (size_t i = pos_; i < q; ++i) line_ += b[i] == '\n';
        field.append(b.substr(pos_, q - pos_));
        pos_ = q + 1;
        if (pos_ < b.size() && b[pos_] == '"') {  // "" is a literal quote
          field.push_back('"');
          ++pos_;
          continue;
        }
        break;
      }
      // Anything up to the delimiter after a closing quote is kept, as pandas does.
    }
    size_t end = pos_;
    while (end < b.size() && b[end] != delim_ && b[end] != '\n') ++end;
    field.append(b.substr(pos_, end - pos_));
    pos_ = end;
    if (pos_ < b.size() && b[pos_] == delim_) {
      fields.push_back(std::move(field));
      field.clear();
      ++pos_;
      continue;
    }
    if (!field.empty() && field.back() == '\r') field.pop_back();
    fields.push_back(std::move(field));
    if (pos_ < b.size()) {  // newline
      ++pos_;
      ++line_;
    }
    return true;
  }
}

}  // namespace ner4el::io
