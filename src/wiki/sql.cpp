#include "wiki/sql.h"

#include <sys/stat.h>
#include <zlib.h>

#include <cstring>

#include "ner4el/error.h"

namespace ner4el::wiki {

size_t SqlRow::column(const std::string& name) const {
  for (size_t i = 0; columns && i < columns->size(); ++i)
    if ((*columns)[i] == name) return i;
  std::string have;
  for (size_t i = 0; columns && i < columns->size(); ++i) have += (i ? ", " : "") + (*columns)[i];
  throw FormatError(path + ": the table has no column '" + name + "' (its CREATE TABLE names: " + have + ")");
}

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

/// `name` at the start of s (after the keyword): the name, or "".
std::string quoted_name(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.front() != '`') return "";
  const size_t e = s.find('`', 1);
  return e == std::string_view::npos ? "" : std::string(s.substr(1, e - 1));
}

/// The column names of a CREATE TABLE statement: the lines that start with a `name`.
std::vector<std::string> create_table_columns(std::string_view stmt) {
  std::vector<std::string> cols;
  const size_t open = stmt.find('(');
  if (open == std::string_view::npos) return cols;
  for (size_t at = open + 1; at < stmt.size();) {
    size_t nl = stmt.find('\n', at);
    if (nl == std::string_view::npos) nl = stmt.size();
    std::string name = quoted_name(stmt.substr(at, nl - at));
    if (!name.empty()) cols.push_back(name);
    at = nl + 1;
  }
  return cols;
}

class Reader {
 public:
  Reader(const std::string& path, const std::string& table, const std::function<void(const SqlRow&)>& fn, const SqlLimits& limits)
      : path_(path), table_(table), fn_(fn), limits_(limits) {
    row_.path = path;
    row_.columns = &columns_;
  }

  void feed(const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i, ++at_) step(data[i]);
  }

  void finish() {
    if (mode_ != Mode::kTop || quote_) fail("the file ends inside a statement (a truncated download?)");
  }

 private:
  enum class Mode { kTop, kComment, kBetweenRows, kValue, kAfterValue };

  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(path_ + ": byte " + std::to_string(at_) + " of the SQL text: " + what);
  }

  void step(char c) {
    switch (mode_) {
      case Mode::kComment:
        if (c == '\n') mode_ = Mode::kTop;
        return;
      case Mode::kTop:
        return top(c);
      case Mode::kBetweenRows:
        if (std::isspace(static_cast<unsigned char>(c))) return;
        if (c == ',' && rows_seen_) return;
        if (c == ';') {
          mode_ = Mode::kTop;
          stmt_.clear();
          return;
        }
        if (c != '(') fail(std::string("expected '(' starting a row, found '") + c + "'");
        row_.values.clear();
        start_value();
        return;
      case Mode::kValue:
        return value(c);
      case Mode::kAfterValue:
        if (std::isspace(static_cast<unsigned char>(c))) return;
        if (c == ',') return start_value();
        if (c == ')') return end_row();
        fail(std::string("expected ',' or ')' after a value, found '") + c + "'");
    }
  }

  void top(char c) {
    if (quote_) {
      if (escape_) escape_ = false;
      else if (c == '\\') escape_ = true;
      else if (c == quote_) quote_ = 0;
      append_stmt(c);
      return;
    }
    if (c == '\'' || c == '"') {
      quote_ = c;
      append_stmt(c);
      return;
    }
    if (c == '-' && trim(stmt_) == "-") {  // a "-- comment" line
      stmt_.clear();
      mode_ = Mode::kComment;
      return;
    }
    if (c == '(' && starts_with(trim(stmt_), "INSERT INTO ")) {
      const std::string_view head = trim(stmt_);
      std::string_view rest = head.substr(12);
      const std::string name = quoted_name(rest);
      if (trim(rest.substr(rest.find('`', 1) + 1)) == "VALUES") {
        in_table_ = name == table_;
        if (in_table_ && columns_.empty()) fail("rows of `" + table_ + "` before the CREATE TABLE that names its columns");
        rows_seen_ = false;
        mode_ = Mode::kBetweenRows;
        step('(');
        return;
      }
    }
    if (c == ';') {
      const std::string_view s = trim(stmt_);
      if (starts_with(s, "CREATE TABLE ") && quoted_name(s.substr(13)) == table_) columns_ = create_table_columns(s);
      stmt_.clear();
      return;
    }
    append_stmt(c);
  }

  void append_stmt(char c) {
    if (stmt_.size() >= limits_.max_statement_bytes)
      fail("a statement longer than " + std::to_string(limits_.max_statement_bytes) + " bytes (not a MediaWiki SQL dump?)");
    stmt_ += c;
  }

  void start_value() {
    if (row_.values.size() >= limits_.max_columns) fail("a row of more than " + std::to_string(limits_.max_columns) + " values");
    row_.values.emplace_back();
    mode_ = Mode::kValue;
    quote_ = 0;
    escape_ = false;
    started_ = false;
  }

  void value(char c) {
    std::string& v = row_.values.back();
    if (quote_) {
      if (escape_) {
        escape_ = false;
        switch (c) {
          case '0': c = '\0'; break;
          case 'n': c = '\n'; break;
          case 'r': c = '\r'; break;
          case 't': c = '\t'; break;
          case 'b': c = '\b'; break;
          case 'Z': c = '\x1a'; break;
          default: break;  // \' \" \\ and the rest: the character itself
        }
      } else if (c == '\\') {
        escape_ = true;
        return;
      } else if (c == '\'') {
        quote_ = 0;
        mode_ = Mode::kAfterValue;
        return;
      }
      if (v.size() >= limits_.max_value_bytes) fail("a value longer than " + std::to_string(limits_.max_value_bytes) + " bytes");
      v += c;
      return;
    }
    if (!started_ && std::isspace(static_cast<unsigned char>(c))) return;
    if (!started_ && c == '\'') {
      quote_ = '\'';
      started_ = true;
      return;
    }
    if (c == ',' || c == ')') {
      if (!started_) fail("an empty value");
      if (v == "NULL") v.clear();
      if (c == ',') return start_value();
      return end_row();
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      mode_ = Mode::kAfterValue;
      if (v == "NULL") v.clear();
      return;
    }
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.'))
      fail(std::string("unexpected '") + c + "' in a value");
    started_ = true;
    if (v.size() >= 64) fail("a number longer than 64 characters");
    v += c;
  }

  void end_row() {
    rows_seen_ = true;
    mode_ = Mode::kBetweenRows;
    if (!in_table_) return;
    if (row_.values.size() != columns_.size())
      fail("a row of " + std::to_string(row_.values.size()) + " values in a table of " + std::to_string(columns_.size()) + " columns");
    fn_(row_);
  }

  std::string path_, table_;
  const std::function<void(const SqlRow&)>& fn_;
  SqlLimits limits_;
  std::vector<std::string> columns_;
  SqlRow row_;
  std::string stmt_;
  Mode mode_ = Mode::kTop;
  char quote_ = 0;
  bool escape_ = false, started_ = false, in_table_ = false, rows_seen_ = false;
  uint64_t at_ = 0;
};

}  // namespace

void read_sql_table(const std::string& path, const std::string& table, const std::function<void(const SqlRow&)>& fn,
                    const SqlLimits& limits) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw NotFound(path + ": no such file");
  if (!S_ISREG(st.st_mode)) throw NotFound(path + ": not a regular file");
  gzFile f = gzopen(path.c_str(), "rb");  // reads gzip, and plain text as it is
  if (!f) throw NotFound("cannot open " + path);
  struct Close {
    gzFile f;
    ~Close() { gzclose(f); }
  } closer{f};
  gzbuffer(f, 1 << 18);
  Reader r(path, table, fn, limits);
  std::vector<char> buf(1 << 20);
  for (;;) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      throw FormatError(path + ": corrupt or truncated gzip data (" + std::string(msg ? msg : "zlib error") + ")");
    }
    if (n == 0) break;
    r.feed(buf.data(), static_cast<size_t>(n));
  }
  int err = 0;
  const char* msg = gzerror(f, &err);
  if (err != Z_OK && err != Z_STREAM_END)
    throw FormatError(path + ": corrupt or truncated gzip data (" + std::string(msg ? msg : "zlib error") + ")");
  r.finish();
}

}  // namespace ner4el::wiki
