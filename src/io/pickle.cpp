#include "io/pickle.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "io/mapped_file.h"
#include "ner4el/error.h"
#include "base/unicode.h"

namespace ner4el::io {

// ---------------------------------------------------------------------------------------------
// PickleValue

PickleValue PickleValue::str(std::string_view s, bool bytes) {
  PickleValue v;
  v.kind_ = bytes ? Kind::Bytes : Kind::Str;
  v.len_ = static_cast<uint32_t>(s.size());
  v.s_ = s.data();
  return v;
}

bool PickleValue::is_sequence() const {
  if (kind_ != Kind::Node) return false;
  auto t = node_->type;
  return t == PickleNode::Type::List || t == PickleNode::Type::Tuple || t == PickleNode::Type::Set;
}
bool PickleValue::is_dict() const { return kind_ == Kind::Node && node_->type == PickleNode::Type::Dict; }
bool PickleValue::is_object() const {
  return kind_ == Kind::Node &&
         (node_->type == PickleNode::Type::Instance || node_->type == PickleNode::Type::Global);
}

int64_t PickleValue::as_int() const {
  if (!is_int()) throw FormatError("pickle: expected an int, found " + type_name());
  return i_;
}
double PickleValue::as_float() const {
  if (kind_ == Kind::Float) return f_;
  if (is_int()) return static_cast<double>(i_);
  throw FormatError("pickle: expected a float, found " + type_name());
}
std::string_view PickleValue::as_str() const {
  if (kind_ != Kind::Str && kind_ != Kind::Bytes) throw FormatError("pickle: expected a str, found " + type_name());
  return {s_, len_};
}
PickleNode& PickleValue::as_node() const {
  if (kind_ != Kind::Node) throw FormatError("pickle: expected a container or object, found " + type_name());
  return *node_;
}

std::string PickleValue::type_name() const {
  switch (kind_) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Released: return "<released>";
    case Kind::Node:
      switch (node_->type) {
        case PickleNode::Type::List: return "list";
        case PickleNode::Type::Tuple: return "tuple";
        case PickleNode::Type::Dict: return "dict";
        case PickleNode::Type::Set: return "set";
        case PickleNode::Type::PersistentId: return "persistent id";
        default: return node_->qualified_name();
      }
  }
  return "?";
}

std::string PickleNode::qualified_name() const {
  // Iterative: a chain of REDUCEs (each instance the callable of the next) can be any length.
  const PickleNode* n = this;
  while (n->type == Type::Instance && n->callable.is_node()) n = &n->callable.as_node();
  return n->type == Type::Global ? n->module + "." + n->name : "";
}

const PickleValue* PickleNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k.is_str() && k.as_str() == key) return &v;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Storage and the unpickler

struct PickleDocument::Storage {
  std::unique_ptr<MappedFile> file;
  std::string bytes;
  std::deque<std::string> strings;  // owned text (decoded escapes); deque keeps addresses stable
  std::vector<std::unique_ptr<PickleNode>> nodes;
  std::vector<uint64_t> node_slot_free;
};

namespace {

using ItemCallback = std::function<void(const PickleValue&, const PickleValue&)>;

class Unpickler {
 public:
  Unpickler(std::string_view buf, std::string name, PickleDocument::Storage& st)
      : buf_(buf), name_(std::move(name)), st_(st) {}

  /// Streams the items of the root dict to cb instead of storing them.
  void set_stream(const ItemCallback* cb, MappedFile* file,
                  const std::function<void(uint64_t, uint64_t)>* progress, const std::unordered_set<uint64_t>* fetched) {
    stream_cb_ = cb;
    stream_file_ = file;
    progress_ = progress;
    fetched_ = fetched;
  }
  uint64_t streamed() const { return streamed_; }

  PickleValue run();

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(name_ + ": byte " + std::to_string(op_pos_) + ": " + what);
  }
  const char* need(size_t n) {
    if (pos_ + n > buf_.size() || pos_ + n < pos_)
      fail("truncated: the opcode needs " + std::to_string(n) + " more bytes, the file has " +
           std::to_string(buf_.size() - pos_));
    const char* p = buf_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8() { return static_cast<uint8_t>(*need(1)); }
  template <typename T>
  T le() {
    T v;
    std::memcpy(&v, need(sizeof(T)), sizeof(T));
    return v;
  }
  std::string_view line() {
    size_t end = buf_.find('\n', pos_);
    if (end == std::string_view::npos) fail("truncated: missing end of line");
    std::string_view s = buf_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  size_t checked_len(uint64_t n) {
    if (n > buf_.size() - pos_) fail("length " + std::to_string(n) + " runs past the end of the file");
    return static_cast<size_t>(n);
  }
  PickleValue own(std::string s) {
    st_.strings.push_back(std::move(s));
    return PickleValue::str(st_.strings.back());
  }
  PickleNode* new_node(PickleNode::Type t) {
    auto n = std::make_unique<PickleNode>();
    n->type = t;
    n->epoch = epoch_;
    PickleNode* raw = n.get();
    st_.nodes.push_back(std::move(n));
    slots_.emplace(raw, st_.nodes.size() - 1);
    return raw;
  }
  PickleValue pop() {
    if (stack_.size() <= floor()) fail("stack underflow (malformed pickle)");
    PickleValue v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PickleValue& top() {
    if (stack_.size() <= floor()) fail("stack underflow (malformed pickle)");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<PickleValue> pop_mark() {
    if (marks_.empty()) fail("MARK expected before this opcode");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PickleValue> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  // The memo is a map, as Python's: any index up to 2^32 costs one entry, never a table that long.
  void memo_put(uint64_t idx, const PickleValue& v) {
    if (idx > (1ull << 32)) fail("memo index " + std::to_string(idx) + " is implausibly large");
    memo_[idx] = v;
    if (v.is_node()) {
      PickleNode& n = v.as_node();
      if (fetched_ && fetched_->count(idx)) n.pinned = true;  // fetched again later: kept when streamed
      if (n.memo < 0) n.memo = static_cast<int64_t>(idx);
      else if (static_cast<uint64_t>(n.memo) != idx) extra_memo_.emplace(&n, idx);
    }
  }
  PickleValue memo_get(uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo index " + std::to_string(idx) + " was never stored");
    const PickleValue& v = it->second;
    // Streaming frees each delivered batch. An object made before the last batch may hold parts of
    // it (freed), so it is not used again: a clean error instead of a dangling reference.
    if (v.is_node() && v.as_node().epoch < epoch_ && &v.as_node() != stream_root_ && !v.as_node().pinned)
      fail("refers again to an object (memo " + std::to_string(idx) +
           ") made before entries that were already streamed; this pickle shares objects between dict entries");
    if (v.kind() == PickleValue::Kind::Released)
      fail("refers again to an object (memo " + std::to_string(idx) +
           ") that was already streamed; this pickle shares objects between dict entries");
    return v;
  }
  PickleValue make_tuple(std::vector<PickleValue> items) {
    PickleNode* n = new_node(PickleNode::Type::Tuple);
    n->items = std::move(items);
    return PickleValue::node(n);
  }
  PickleValue make_int_bytes(const char* p, size_t n);
  uint64_t parse_uint(std::string_view s, int base) {
    uint64_t v = 0;
    if (s.empty()) fail("empty number");
    for (char c : s) {
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
      if (d >= base) fail("'" + std::string(s) + "' is not a number");
      v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    return v;
  }
  PickleValue decode_raw_unicode_escape(std::string_view s);
  PickleValue decode_py_string(std::string_view s);
  void set_items(PickleValue target, std::vector<PickleValue>& kv);
  void release(const PickleValue& v, std::unordered_set<PickleNode*>& done);

  std::string_view buf_;
  std::string name_;
  PickleDocument::Storage& st_;
  size_t pos_ = 0, op_pos_ = 0;
  std::vector<PickleValue> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleValue> memo_;
  std::unordered_multimap<PickleNode*, uint64_t> extra_memo_;  ///< memo slots beyond a node's first
  std::unordered_map<PickleNode*, size_t> slots_;
  const ItemCallback* stream_cb_ = nullptr;
  MappedFile* stream_file_ = nullptr;
  const std::function<void(uint64_t, uint64_t)>* progress_ = nullptr;
  const std::unordered_set<uint64_t>* fetched_ = nullptr;  ///< memo indices some GET fetches
  PickleNode* stream_root_ = nullptr;
  uint64_t streamed_ = 0;
  uint32_t epoch_ = 0;  ///< streamed batches so far
};

PickleValue Unpickler::make_int_bytes(const char* p, size_t n) {
  if (n == 0) return PickleValue::integer(0);
  // Little-endian two's complement. Wider than 8 bytes is fine when the extra bytes only extend the
  // sign; otherwise the value needs more than 64 bits, which nothing here can hold.
  const bool neg = static_cast<uint8_t>(p[n - 1]) & 0x80;
  for (size_t i = 8; i < n; ++i)
    if (static_cast<uint8_t>(p[i]) != (neg ? 0xFF : 0x00)) fail("an integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
  if (n > 8 && ((static_cast<uint8_t>(p[7]) & 0x80) != 0) != neg) fail("an integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
  const size_t m = std::min<size_t>(n, 8);
  uint64_t u = 0;
  for (size_t i = 0; i < m; ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  if (m < 8 && neg) u |= ~0ull << (8 * m);  // sign-extend
  return PickleValue::integer(static_cast<int64_t>(u));
}

namespace {
std::string_view trim_ascii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}
}  // namespace

// Python's int(text, 0), as protocol 0's INT and LONG use it: optional sign, 0x/0o/0b prefixes,
// underscores between digits, no leading zeros on a decimal; the whole text must be the number.
static std::optional<int64_t> parse_python_int(std::string_view text) {
  std::string_view s = trim_ascii(text);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'O' || s[1] == 'b' || s[1] == 'B')) {
    base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
    s.remove_prefix(2);
    if (!s.empty() && s[0] == '_') s.remove_prefix(1);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
  unsigned __int128 v = 0;
  bool nonzero_seen = false;
  char prev = 0;
  for (char c : s) {
    if (c == '_') {
      if (prev == '_') return std::nullopt;
      prev = c;
      continue;
    }
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
    if (d >= base) return std::nullopt;
    if (d != 0) nonzero_seen = true;
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (v > (static_cast<unsigned __int128>(1) << 63)) return std::nullopt;  // past int64
    prev = c;
  }
  if (base == 10 && nonzero_seen && s[0] == '0') return std::nullopt;  // "012" is not Python
  if (!neg && v > static_cast<unsigned __int128>(INT64_MAX)) return std::nullopt;
  return neg ? static_cast<int64_t>(-static_cast<__int128>(v)) : static_cast<int64_t>(v);
}

PickleValue Unpickler::decode_raw_unicode_escape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
      size_t len = s[i + 1] == 'u' ? 4 : 8;
      if (i + 2 + len > s.size()) fail("bad \\u escape in UNICODE opcode");
      char32_t cp = static_cast<char32_t>(parse_uint(s.substr(i + 2, len), 16));
      text::append_utf8(out, cp);
      i += 1 + len;
    } else {
      text::append_utf8(out, c);  // latin-1
    }
  }
  return own(std::move(out));
}

PickleValue Unpickler::decode_py_string(std::string_view s) {
  if (s.size() < 2 || (s.front() != '\'' && s.front() != '"') || s.back() != s.front())
    fail("STRING argument is not quoted");
  s = s.substr(1, s.size() - 2);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'x':
        if (i + 2 >= s.size()) fail("bad \\x escape in STRING opcode");
        out.push_back(static_cast<char>(parse_uint(s.substr(i + 1, 2), 16)));
        i += 2;
        break;
      default: out.push_back(e);
    }
  }
  return own(std::move(out));
}

void Unpickler::release(const PickleValue& v, std::unordered_set<PickleNode*>& done) {
  // With a stack of its own, not recursion: nesting depth is the file's to choose.
  std::vector<const PickleValue*> todo{&v};
  while (!todo.empty()) {
    const PickleValue* at = todo.back();
    todo.pop_back();
    if (!at->is_node()) continue;
    PickleNode* n = &at->as_node();
    // A pinned node is referenced again later (memo GET, DUP): it and what it holds stay.
    if (n == stream_root_ || n->pinned || !done.insert(n).second) continue;
    for (const auto& c : n->items) todo.push_back(&c);
    for (const auto& [k, c] : n->entries) {
      todo.push_back(&k);
      todo.push_back(&c);
    }
    todo.push_back(&n->args);
    todo.push_back(&n->state);
  }
}

void Unpickler::set_items(PickleValue target, std::vector<PickleValue>& kv) {
  if (kv.size() % 2) fail("SETITEMS with an odd number of stack items");
  PickleNode& n = target.as_node();
  if (n.type != PickleNode::Type::Dict && n.type != PickleNode::Type::Instance)
    fail("SETITEM on a " + target.type_name());
  if (&n == stream_root_) {
    for (size_t i = 0; i < kv.size(); i += 2) (*stream_cb_)(kv[i], kv[i + 1]);
    streamed_ += kv.size() / 2;
    // Free what was delivered; the memo forgets it so a later reference is a clean error.
    std::unordered_set<PickleNode*> done;
    for (const auto& v : kv) release(v, done);
    for (PickleNode* d : done) {
      // Every memo slot that names it (a node may be stored under several) now says so.
      if (d->memo >= 0) {
        auto m = memo_.find(static_cast<uint64_t>(d->memo));
        if (m != memo_.end()) m->second = PickleValue::released();
      }
      auto [first, last] = extra_memo_.equal_range(d);
      for (auto e = first; e != last; ++e) {
        auto m = memo_.find(e->second);
        if (m != memo_.end()) m->second = PickleValue::released();
      }
      extra_memo_.erase(d);
      auto it = slots_.find(d);
      st_.nodes[it->second].reset();
      slots_.erase(it);
    }
    ++epoch_;
    if (stream_file_) stream_file_->release_before(pos_);
    if (progress_ && *progress_) (*progress_)(pos_, buf_.size());
    return;
  }
  for (size_t i = 0; i < kv.size(); i += 2) n.entries.emplace_back(kv[i], kv[i + 1]);
}

PickleValue Unpickler::run() {
  while (true) {
    op_pos_ = pos_;
    uint8_t op = u8();
    switch (op) {
      case 0x80: {  // PROTO
        uint8_t proto = u8();
        if (proto > 5) fail("pickle protocol " + std::to_string(proto) + " is newer than 5, the newest supported");
        break;
      }
      case 0x95: (void)le<uint64_t>(); break;  // FRAME: only a read-ahead hint
      case '.': {                              // STOP
        if (stack_.size() != 1 || !marks_.empty()) fail("STOP with " + std::to_string(stack_.size()) + " values on the stack");
        return stack_.back();
      }
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case '0':  // POP; at a MARK (nothing above it) it discards the mark, as pickle.py does: protocol
                 // 0 pickles a recursive tuple as MARK ... POP POP GET
        if (!marks_.empty() && stack_.size() == floor()) pop_mark();
        else pop();
        break;
      case '1': pop_mark(); break;                        // POP_MARK
      case '2':  // DUP: a second reference without the memo, so never freed when streamed
        if (top().is_node()) top().as_node().pinned = true;
        stack_.push_back(top());
        break;
      case 'N': stack_.push_back(PickleValue::none()); break;
      case 0x88: stack_.push_back(PickleValue::boolean(true)); break;
      case 0x89: stack_.push_back(PickleValue::boolean(false)); break;
      case 'I': {  // INT (text); "01"/"00" are True/False
        std::string_view s = line();
        if (s == "01" || s == "00") {
          stack_.push_back(PickleValue::boolean(s == "01"));
        } else {
          // As CPython's _pickle: C's strtol with base 0 first (so "012" is octal 10), and when that
          // does not take the whole line, Python's int(text, 0) ("0b101", "1_000").
          const std::string text(s);
          errno = 0;
          char* end = nullptr;
          const long long c = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 0);
          std::optional<int64_t> v;
          if (!text.empty() && errno == 0 && end == text.c_str() + text.size()) v = c;
          else if (errno != ERANGE) v = parse_python_int(s);
          if (!v) fail("INT argument '" + text.substr(0, 40) + "' is not a 64-bit integer");
          stack_.push_back(PickleValue::integer(*v));
        }
        break;
      }
      case 'J': stack_.push_back(PickleValue::integer(le<int32_t>())); break;
      case 'K': stack_.push_back(PickleValue::integer(u8())); break;
      case 'M': stack_.push_back(PickleValue::integer(le<uint16_t>())); break;
      case 'L': {  // LONG (text, trailing 'L')
        std::string s(line());
        if (!s.empty() && s.back() == 'L') s.pop_back();
        auto v = parse_python_int(s);
        if (!v) fail("LONG argument '" + s.substr(0, 40) + "' is not a 64-bit integer");
        stack_.push_back(PickleValue::integer(*v));
        break;
      }
      case 0x8a: {  // LONG1
        size_t n = u8();
        stack_.push_back(make_int_bytes(need(n), n));
        break;
      }
      case 0x8b: {  // LONG4
        int32_t n = le<int32_t>();
        if (n < 0) fail("LONG4 with negative length");
        size_t len = checked_len(static_cast<uint64_t>(n));
        stack_.push_back(make_int_bytes(need(len), len));
        break;
      }
      case 'F': {
        // Python's float(text): the whole text; subnormals, inf and nan included; a finite text too large
        // for a double is an error, as CPython's OverflowError.
        std::string s(trim_ascii(line()));
        char* end = nullptr;
        errno = 0;
        const double d = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size()) fail("FLOAT argument '" + s.substr(0, 40) + "' is not a number");
        if (errno == ERANGE && std::isinf(d)) fail("FLOAT argument '" + s.substr(0, 40) + "' is out of range");  // as CPython
        stack_.push_back(PickleValue::real(d));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        const char* p = need(8);
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(p[i]);
        double d;
        std::memcpy(&d, &u, 8);
        stack_.push_back(PickleValue::real(d));
        break;
      }
      case 'S': stack_.push_back(decode_py_string(line())); break;
      case 'T': {  // BINSTRING
        int32_t n = le<int32_t>();
        if (n < 0) fail("BINSTRING with negative length");
        size_t len = checked_len(static_cast<uint64_t>(n));
        stack_.push_back(PickleValue::str({need(len), len}));
        break;
      }
      case 'U': {  // SHORT_BINSTRING
        size_t n = u8();
        stack_.push_back(PickleValue::str({need(n), n}));
        break;
      }
      case 'V': stack_.push_back(decode_raw_unicode_escape(line())); break;
      case 'X': {  // BINUNICODE
        size_t n = checked_len(le<uint32_t>());
        stack_.push_back(PickleValue::str({need(n), n}));
        break;
      }
      case 0x8c: {  // SHORT_BINUNICODE
        size_t n = u8();
        stack_.push_back(PickleValue::str({need(n), n}));
        break;
      }
      case 0x8d: {  // BINUNICODE8
        size_t n = checked_len(le<uint64_t>());
        if (n > UINT32_MAX) fail("string over 4 GiB");
        stack_.push_back(PickleValue::str({need(n), n}));
        break;
      }
      case 'B': {  // BINBYTES
        size_t n = checked_len(le<uint32_t>());
        stack_.push_back(PickleValue::str({need(n), n}, true));
        break;
      }
      case 'C': {  // SHORT_BINBYTES
        size_t n = u8();
        stack_.push_back(PickleValue::str({need(n), n}, true));
        break;
      }
      case 0x8e:    // BINBYTES8
      case 0x96: {  // BYTEARRAY8
        size_t n = checked_len(le<uint64_t>());
        if (n > UINT32_MAX) fail("bytes over 4 GiB");
        stack_.push_back(PickleValue::str({need(n), n}, true));
        break;
      }
      case ']': stack_.push_back(PickleValue::node(new_node(PickleNode::Type::List))); break;
      case ')': stack_.push_back(make_tuple({})); break;
      case '}': {
        PickleNode* n = new_node(PickleNode::Type::Dict);
        if (stream_cb_ && !stream_root_ && stack_.empty() && marks_.empty()) stream_root_ = n;
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 0x8f: stack_.push_back(PickleValue::node(new_node(PickleNode::Type::Set))); break;
      case 'l': {  // LIST
        auto items = pop_mark();
        PickleNode* n = new_node(PickleNode::Type::List);
        n->items = std::move(items);
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 't': stack_.push_back(make_tuple(pop_mark())); break;
      case 0x85: {
        auto a = pop();
        stack_.push_back(make_tuple({a}));
        break;
      }
      case 0x86: {
        auto b = pop();
        auto a = pop();
        stack_.push_back(make_tuple({a, b}));
        break;
      }
      case 0x87: {
        auto c = pop();
        auto b = pop();
        auto a = pop();
        stack_.push_back(make_tuple({a, b, c}));
        break;
      }
      case 'd': {  // DICT
        auto kv = pop_mark();
        PickleNode* n = new_node(PickleNode::Type::Dict);
        if (stream_cb_ && !stream_root_ && stack_.empty() && marks_.empty()) stream_root_ = n;
        stack_.push_back(PickleValue::node(n));
        set_items(stack_.back(), kv);
        break;
      }
      case 0x91: {  // FROZENSET
        auto items = pop_mark();
        PickleNode* n = new_node(PickleNode::Type::Set);
        n->items = std::move(items);
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 'a': {  // APPEND
        auto v = pop();
        PickleNode& n = top().as_node();
        n.items.push_back(v);
        break;
      }
      case 'e':     // APPENDS
      case 0x90: {  // ADDITEMS
        auto items = pop_mark();
        PickleNode& n = top().as_node();
        n.items.insert(n.items.end(), items.begin(), items.end());
        break;
      }
      case 's': {  // SETITEM
        auto v = pop();
        auto k = pop();
        std::vector<PickleValue> kv{k, v};
        set_items(top(), kv);
        break;
      }
      case 'u': {  // SETITEMS
        auto kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case 'g': stack_.push_back(memo_get(parse_uint(line(), 10))); break;
      case 'h': stack_.push_back(memo_get(u8())); break;
      case 'j': stack_.push_back(memo_get(le<uint32_t>())); break;
      case 'p': memo_put(parse_uint(line(), 10), top()); break;
      case 'q': memo_put(u8(), top()); break;
      case 'r': memo_put(le<uint32_t>(), top()); break;
      case 0x94: memo_put(memo_.size(), top()); break;  // MEMOIZE
      case 'c': {                                       // GLOBAL
        PickleNode* n = new_node(PickleNode::Type::Global);
        n->module = std::string(line());
        n->name = std::string(line());
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        auto name = pop();
        auto module = pop();
        if (!name.is_str() || !module.is_str()) fail("STACK_GLOBAL needs two strings");
        PickleNode* n = new_node(PickleNode::Type::Global);
        n->module = std::string(module.as_str());
        n->name = std::string(name.as_str());
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 'R':     // REDUCE: recorded, never called
      case 0x81: {  // NEWOBJ
        auto args = pop();
        auto callable = pop();
        PickleNode* n = new_node(PickleNode::Type::Instance);
        n->callable = callable;
        n->args = args;
        n->newobj = op == 0x81;
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 0x92: {  // NEWOBJ_EX
        auto kwargs = pop();
        auto args = pop();
        auto cls = pop();
        PickleNode* n = new_node(PickleNode::Type::Instance);
        n->callable = cls;
        n->args = args;
        n->state = kwargs;
        n->newobj = true;
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 'i': {  // INST
        PickleNode* g = new_node(PickleNode::Type::Global);
        g->module = std::string(line());
        g->name = std::string(line());
        PickleNode* n = new_node(PickleNode::Type::Instance);
        n->callable = PickleValue::node(g);
        n->args = make_tuple(pop_mark());
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 'o': {  // OBJ
        auto items = pop_mark();
        if (items.empty()) fail("OBJ without a class");
        PickleNode* n = new_node(PickleNode::Type::Instance);
        n->callable = items[0];
        n->args = make_tuple(std::vector<PickleValue>(items.begin() + 1, items.end()));
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 'b': {  // BUILD: the state is recorded, __setstate__ is never called
        auto state = pop();
        PickleNode& n = top().as_node();
        n.state = state;
        break;
      }
      case 'P':     // PERSID
      case 'Q': {   // BINPERSID
        PickleValue pid = op == 'P' ? own(std::string(line())) : pop();
        PickleNode* n = new_node(PickleNode::Type::PersistentId);
        n->items = {pid};
        stack_.push_back(PickleValue::node(n));
        break;
      }
      case 0x82: case 0x83: case 0x84:
        fail("EXT opcodes (copyreg extension registry) are not supported");
      case 0x97: case 0x98:
        fail("out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported");
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("unknown opcode ") + hex + " (not a pickle, or a corrupt one)");
      }
    }
  }
}

}  // namespace

// PickleDocument ---------------------------------------------------------------------------------

PickleDocument::PickleDocument() : storage_(std::make_unique<Storage>()) {}
PickleDocument::~PickleDocument() = default;
PickleDocument::PickleDocument(PickleDocument&&) noexcept = default;
PickleDocument& PickleDocument::operator=(PickleDocument&&) noexcept = default;

PickleDocument PickleDocument::load_file(const std::string& path) {
  PickleDocument doc;
  doc.storage_->file = std::make_unique<MappedFile>(path);
  Unpickler u(doc.storage_->file->bytes(), path, *doc.storage_);
  doc.root_ = u.run();
  return doc;
}

PickleDocument PickleDocument::load_bytes(std::string bytes, const std::string& name) {
  PickleDocument doc;
  doc.storage_->bytes = std::move(bytes);
  Unpickler u(doc.storage_->bytes, name, *doc.storage_);
  doc.root_ = u.run();
  return doc;
}

namespace {

/// The memo indices that some GET opcode fetches, found by one pass over the opcodes that builds no
/// value. Streaming keeps the objects stored under them (a dict entry may share a list with another
/// far away); everything else is freed once delivered. A pickle this scan cannot follow is left to
/// the reader, which reports the error.
std::unordered_set<uint64_t> fetched_memo_indices(std::string_view b) {
  std::unordered_set<uint64_t> fetched;
  size_t pos = 0;
  auto need = [&](uint64_t n) { return n <= b.size() - pos; };
  auto le = [&](int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(b[pos + i])) << (8 * i);
    pos += bytes;
    return v;
  };
  auto skip_line = [&]() {
    const size_t nl = b.find('\n', pos);
    if (nl == std::string_view::npos) return false;
    pos = nl + 1;
    return true;
  };
  auto line_number = [&](uint64_t& v) {
    const size_t nl = b.find('\n', pos);
    if (nl == std::string_view::npos) return false;
    v = 0;
    for (size_t i = pos; i < nl && i < pos + 12; ++i)
      if (b[i] >= '0' && b[i] <= '9') v = v * 10 + static_cast<uint64_t>(b[i] - '0');
    pos = nl + 1;
    return true;
  };
  while (pos < b.size()) {
    const unsigned char op = static_cast<unsigned char>(b[pos++]);
    uint64_t n = 0;
    switch (op) {
      case 'h': if (!need(1)) return fetched; fetched.insert(le(1)); break;
      case 'j': if (!need(4)) return fetched; fetched.insert(le(4)); break;
      case 'g': if (!line_number(n)) return fetched; fetched.insert(n); break;
      case 'q': case 'K': case 0x80: case 0x82: if (!need(1)) return fetched; le(1); break;
      case 'M': case 0x83: if (!need(2)) return fetched; le(2); break;
      case 'r': case 'J': case 0x84: if (!need(4)) return fetched; le(4); break;
      case 'G': case 0x95: if (!need(8)) return fetched; le(8); break;
      case 0x8a: case 'U': case 0x8c: case 'C':  // a 1-byte length, then that many bytes
        if (!need(1)) return fetched;
        n = le(1);
        if (!need(n)) return fetched;
        pos += n;
        break;
      case 0x8b: case 'T': case 'X': case 'B':  // a 4-byte length
        if (!need(4)) return fetched;
        n = le(4);
        if (!need(n)) return fetched;
        pos += n;
        break;
      case 0x8d: case 0x8e: case 0x96:  // an 8-byte length
        if (!need(8)) return fetched;
        n = le(8);
        if (!need(n)) return fetched;
        pos += n;
        break;
      case 'I': case 'L': case 'p': case 'F': case 'S': case 'V': case 'P':
        if (!skip_line()) return fetched;
        break;
      case 'c': case 'i':  // two lines: module, name
        if (!skip_line() || !skip_line()) return fetched;
        break;
      case '.': return fetched;
      default: break;  // no argument (or unknown: the reader says so)
    }
  }
  return fetched;
}

}  // namespace

uint64_t stream_pickle_dict(const std::string& path, const ItemCallback& on_item,
                            const std::function<void(uint64_t, uint64_t)>& progress) {
  PickleDocument::Storage st;
  st.file = std::make_unique<MappedFile>(path);
  const auto fetched = fetched_memo_indices(st.file->bytes());
  st.file->drop_pages();  // the scan read every page; streaming reads them again in order
  Unpickler u(st.file->bytes(), path, st);
  u.set_stream(&on_item, st.file.get(), &progress, &fetched);
  PickleValue root = u.run();
  if (!root.is_dict() && !(root.is_object() && !root.as_node().entries.empty()))
    throw FormatError(path + ": expected a pickled dict, found " + root.type_name());
  // Items not streamed (a dict built by the protocol-0 DICT opcode, or an OrderedDict) come now.
  for (const auto& [k, v] : root.as_node().entries) on_item(k, v);
  return u.streamed() + root.as_node().entries.size();
}

}  // namespace ner4el::io
