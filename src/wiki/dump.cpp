#include "wiki/dump.h"

#include <bzlib.h>
#include <expat.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "ner4el/error.h"

namespace ner4el::wiki {

namespace {

class File {
 public:
  explicit File(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw NotFound("cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw NotFound(path + ": not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~File() { ::close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  uint64_t size() const { return size_; }
  /// Reads up to n bytes at offset; returns how many.
  size_t read(uint64_t offset, char* buf, size_t n) const {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, buf + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error("cannot read " + path_ + ": " + std::strerror(errno));
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    return got;
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

bool is_bz2(const File& f) {
  char head[4] = {};
  return f.read(0, head, 4) == 4 && std::memcmp(head, "BZh", 3) == 0 && head[3] >= '1' && head[3] <= '9';
}

/// Decompresses the bz2 streams in [begin, end) of the file into sink(data, n); sink returns false
/// to stop early. @throws FormatError for a corrupt or truncated stream.
void bunzip_range(const File& f, const std::string& path, uint64_t begin, uint64_t end,
                  const std::function<bool(const char*, size_t)>& sink) {
  std::vector<char> in(1 << 20), out(4 << 20);
  bz_stream bz{};
  auto where = [&](uint64_t at) { return path + " (bz2 stream data near byte " + std::to_string(at) + ")"; };
  if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) throw Error("bzip2: cannot initialise a decompressor");
  struct End {
    bz_stream* s;
    ~End() { BZ2_bzDecompressEnd(s); }
  } guard{&bz};
  uint64_t at = begin;
  bool in_stream = false;
  for (;;) {
    if (bz.avail_in == 0) {
      if (at >= end) break;
      const size_t n = f.read(at, in.data(), static_cast<size_t>(std::min<uint64_t>(in.size(), end - at)));
      if (n == 0) break;
      at += n;
      bz.next_in = in.data();
      bz.avail_in = static_cast<unsigned>(n);
    }
    bz.next_out = out.data();
    bz.avail_out = static_cast<unsigned>(out.size());
    in_stream = true;
    const int rc = BZ2_bzDecompress(&bz);
    if (rc != BZ_OK && rc != BZ_STREAM_END)
      throw FormatError(where(at - bz.avail_in) + ": corrupt bzip2 data (error " + std::to_string(rc) + ")");
    const size_t produced = out.size() - bz.avail_out;
    if (produced && !sink(out.data(), produced)) return;
    if (rc == BZ_STREAM_END) {  // a multistream file: the next stream follows
      in_stream = false;
      char* rest = bz.next_in;
      unsigned left = bz.avail_in;
      BZ2_bzDecompressEnd(&bz);
      bz = bz_stream{};
      if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) throw Error("bzip2: cannot initialise a decompressor");
      bz.next_in = rest;
      bz.avail_in = left;
      if (left == 0 && at >= end) break;
    }
  }
  if (in_stream) throw FormatError(where(at) + ": the bzip2 stream ends early (a truncated download?)");
}

/// The next chunk boundary of a plain XML file: the start of the first "<page>" at or after from.
uint64_t next_page_start(const File& f, uint64_t from) {
  std::vector<char> buf(1 << 20);
  while (from < f.size()) {
    const size_t n = f.read(from, buf.data(), buf.size());
    std::string_view v(buf.data(), n);
    size_t p = v.find("<page>");
    if (p != std::string_view::npos) return from + p;
    if (n < 6) break;
    from += n - 5;
  }
  return f.size();
}

/// Offsets of the bz2 streams: each starts with "BZh" + level + a block or end-of-stream magic.
std::vector<uint64_t> scan_streams(const File& f) {
  static const unsigned char block[6] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
  static const unsigned char eos[6] = {0x17, 0x72, 0x45, 0x38, 0x50, 0x90};
  std::vector<uint64_t> starts;
  std::vector<char> buf(16 << 20);
  for (uint64_t from = 0; from < f.size();) {
    const size_t n = f.read(from, buf.data(), buf.size());
    if (n < 10) break;
    for (size_t i = 0; i + 10 <= n; ++i) {
      const char* p = static_cast<const char*>(std::memchr(buf.data() + i, 'B', n - 10 - i + 1));
      if (!p) break;
      i = static_cast<size_t>(p - buf.data());
      if (p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9' &&
          (std::memcmp(p + 4, block, 6) == 0 || std::memcmp(p + 4, eos, 6) == 0))
        starts.push_back(from + i);
    }
    if (from + n >= f.size()) break;
    from += n - 9;
  }
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  return starts;
}

std::vector<uint64_t> index_offsets(const std::string& index) {
  File f(index);
  std::vector<uint64_t> offsets;
  std::string line;
  auto take = [&](const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (data[i] != '\n') {
        if (line.size() < 4096) line += data[i];
        continue;
      }
      const size_t colon = line.find(':');
      uint64_t v = 0;
      bool ok = colon != std::string::npos && colon > 0 && colon <= 19;
      for (size_t k = 0; ok && k < colon; ++k) {
        ok = line[k] >= '0' && line[k] <= '9';
        v = v * 10 + static_cast<uint64_t>(line[k] - '0');
      }
      if (!ok)
        throw FormatError(index + ": line " + std::to_string(offsets.size() + 1) + ": expected 'offset:page_id:title', found '" +
                          line.substr(0, 60) + "'");
      if (offsets.empty() || offsets.back() != v) offsets.push_back(v);
      line.clear();
    }
    return true;
  };
  if (is_bz2(f)) {
    bunzip_range(f, index, 0, f.size(), take);
  } else {
    std::vector<char> buf(1 << 20);
    for (uint64_t at = 0; at < f.size();) {
      size_t n = f.read(at, buf.data(), buf.size());
      take(buf.data(), n);
      at += n;
    }
  }
  std::sort(offsets.begin(), offsets.end());
  offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
  return offsets;
}

/// UTF-16 (by its byte-order mark) to UTF-8, in pieces of any size: a code unit or a surrogate pair
/// split between two pieces is carried over. Unpaired surrogates become U+FFFD.
class Utf16ToUtf8 {
 public:
  explicit Utf16ToUtf8(int order) : big_(order == 2) {}
  void add(const char* d, size_t n, std::string& out) {
    for (size_t i = 0; i < n; ++i) {
      pending_[have_++] = static_cast<unsigned char>(d[i]);
      if (have_ < 2) continue;
      have_ = 0;
      const uint32_t unit = big_ ? (pending_[0] << 8 | pending_[1]) : (pending_[1] << 8 | pending_[0]);
      if (first_) {
        first_ = false;
        if (unit == 0xFEFF) continue;  // the byte-order mark
      }
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (high_) put(0xFFFD, out);
        high_ = unit;
        continue;
      }
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        put(high_ ? 0x10000 + ((high_ - 0xD800) << 10) + (unit - 0xDC00) : 0xFFFD, out);
        high_ = 0;
        continue;
      }
      if (high_) put(0xFFFD, out), high_ = 0;
      put(unit, out);
    }
  }

 private:
  static void put(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool big_;
  bool first_ = true;
  unsigned char pending_[2] = {};
  int have_ = 0;
  uint32_t high_ = 0;
};

int byte_order_mark(std::string_view head) {
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0xFF && static_cast<unsigned char>(head[1]) == 0xFE) return 1;
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0xFE && static_cast<unsigned char>(head[1]) == 0xFF) return 2;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// XML

/// Strips what makes a chunk's text not a sequence of elements (the <mediawiki ...> start tag and
/// the </mediawiki> end tag; <?xml ...?> declarations) before expat sees it, in one pass over the
/// stream (however many there are), and bounds every piece of markup: a tag with its attributes, a
/// comment, a processing instruction or a CDATA section longer than kMaxMarkupBytes is an error
/// (expat would hold all of it in memory, and scan it again with every byte fed).
class ChunkFilter {
 public:
  static constexpr uint64_t kMaxMarkupBytes = 1 << 20;

  ChunkFilter(std::function<void(const char*, size_t)> out, std::string where) : out_(std::move(out)), where_(std::move(where)) {}
  void add(const char* data, size_t n) {
    for (size_t i = 0; i < n;) i = step(data, n, i);
    if (kept_.size() >= (1 << 16)) flush();
  }
  void finish() {
    if (state_ == kHead) keep(head_.data(), head_.size());  // an unfinished "<...": expat says what is wrong
    flush();
  }
  /// Whether the dump's end tag </mediawiki> went by.
  bool saw_end() const { return saw_end_; }

 private:
  enum State { kText, kHead, kTag, kQuoted, kComment, kPi, kCdata };

  /// Consumes bytes from data[i] on; returns where it stopped.
  size_t step(const char* d, size_t n, size_t i) {
    switch (state_) {
      case kText: {
        const void* lt = std::memchr(d + i, '<', n - i);
        const size_t e = lt ? static_cast<size_t>(static_cast<const char*>(lt) - d) : n;
        keep(d + i, e - i);
        offset_ += e - i;
        if (e == n) return n;
        state_ = kHead;
        head_ = "<";
        markup_ = 1;
        ++offset_;
        return e + 1;
      }
      case kHead:
        head_.push_back(d[i]);
        count();
        decide();
        return i + 1;
      case kTag:
      case kQuoted: {
        for (; i < n; ++i) {
          count();
          if (!drop_) kept_.push_back(d[i]);
          tag_byte(d[i]);
          if (state_ == kText) return i + 1;
        }
        return n;
      }
      default: {  // a comment, processing instruction or CDATA section: up to its closing sequence
        const char* close = state_ == kComment ? "-->" : state_ == kPi ? "?>" : "]]>";
        const size_t len = std::strlen(close);
        for (; i < n; ++i) {
          count();
          if (!drop_) kept_.push_back(d[i]);
          tail_.push_back(d[i]);
          if (tail_.size() > len) tail_.erase(0, tail_.size() - len);
          if (tail_ == close) {
            state_ = kText;
            tail_.clear();
            return i + 1;
          }
        }
        return n;
      }
    }
  }
  /// What the markup that starts with head_ is, once its first bytes say so.
  void decide() {
    static const struct {
      const char* start;
      State state;
      bool drop;
    } kinds[] = {{"<?xml", kPi, true},     {"<mediawiki", kTag, true}, {"</mediawiki>", kText, true},
                 {"<!--", kComment, false}, {"<![CDATA[", kCdata, false}, {"<?", kPi, false}};
    bool prefix = false;
    for (const auto& k : kinds) {
      if (head_ == k.start) {
        if (std::strcmp(k.start, "<?") == 0) continue;  // "<?xml" may follow: decided on a later byte
        if (k.state == kText) saw_end_ = true;  // </mediawiki>
        return enter(k.state, k.drop);
      }
      if (std::strncmp(k.start, head_.data(), head_.size()) == 0) prefix = true;
    }
    if (prefix) return;
    if (head_.rfind("<?", 0) == 0) return enter(kPi, false);  // another processing instruction
    // An ordinary tag: what has been read of it goes through the tag scanner (quotes, '>').
    state_ = kTag;
    drop_ = false;
    keep(head_.data(), head_.size());
    for (size_t i = 1; i < head_.size(); ++i) tag_byte(head_[i]);
  }
  /// One byte of a tag: quotes are followed, so a '>' inside one does not end it.
  void tag_byte(char c) {
    if (state_ == kQuoted) {
      if (c == quote_) state_ = kTag;
    } else if (c == '"' || c == '\'') {
      quote_ = c;
      state_ = kQuoted;
    } else if (c == '>') {
      state_ = kText;
    }
  }
  void enter(State s, bool drop) {
    state_ = s;
    drop_ = drop;
    if (!drop) keep(head_.data(), head_.size());
    // The head's last bytes may begin the closing sequence ("<??" then ">"), or be all of it ("<?>").
    tail_ = head_.substr(head_.size() > 2 ? head_.size() - 2 : 0);
    if (s == kPi && tail_ == "?>") state_ = kText;
  }
  void count() {
    ++offset_;
    if (++markup_ > kMaxMarkupBytes)
      throw FormatError(where_ + ": byte " + std::to_string(offset_) + " of the chunk's text: an XML tag, comment or declaration " +
                        "longer than " + std::to_string(kMaxMarkupBytes) + " bytes (a damaged dump?)");
  }
  void keep(const char* d, size_t n) { kept_.append(d, n); }
  void flush() {
    if (!kept_.empty()) out_(kept_.data(), kept_.size());
    kept_.clear();
  }

  std::function<void(const char*, size_t)> out_;
  std::string where_;
  State state_ = kText;
  bool drop_ = false, saw_end_ = false;
  char quote_ = '"';
  std::string head_, tail_, kept_;
  uint64_t markup_ = 0, offset_ = 0;
};

struct PageParser {
  enum Field { kNone, kTitle, kNs, kId, kText };
  const std::function<void(Page&&)>* fn = nullptr;
  const DumpLimits* limits = nullptr;
  std::string where;
  Page page;
  std::vector<std::string> path;
  Field field = kNone;
  bool have_id = false;
  std::string ns_text, id_text;
  std::string error;
  XML_Parser parser = nullptr;

  static void start(void* ud, const XML_Char* name, const XML_Char** atts) {
    auto* p = static_cast<PageParser*>(ud);
    if (p->path.size() >= 32) return p->fail("elements nested more than 32 deep (not a MediaWiki dump?)");
    p->path.emplace_back(name);
    const std::string& n = p->path.back();
    const std::string parent = p->path.size() >= 2 ? p->path[p->path.size() - 2] : "";
    p->field = kNone;
    if (n == "page") {
      p->page = Page{};
      p->have_id = false;
      p->ns_text.clear();
      p->id_text.clear();
    } else if (parent == "page" && n == "title") {
      p->field = kTitle;
    } else if (parent == "page" && n == "ns") {
      p->field = kNs;
    } else if (parent == "page" && n == "id" && !p->have_id) {
      p->field = kId;
    } else if (parent == "page" && n == "redirect") {
      for (int i = 0; atts[i]; i += 2)
        if (std::strcmp(atts[i], "title") == 0) p->page.redirect = atts[i + 1];
    } else if (parent == "revision" && n == "text") {
      p->field = kText;
      p->page.text.clear();  // the last revision's text wins
    }
  }
  static void end(void* ud, const XML_Char* name) {
    auto* p = static_cast<PageParser*>(ud);
    p->field = kNone;
    if (!p->error.empty() || p->path.empty()) return;  // stopped: nothing more is taken
    const std::string n = name;
    if (p->path.size() >= 2 && p->path[p->path.size() - 2] == "page" && n == "id") p->have_id = true;
    p->path.pop_back();
    if (n != "page") return;
    auto number = [&](const std::string& t, const char* what, int64_t& out) {
      std::string s = t;
      s.erase(0, s.find_first_not_of(" \n\t"));
      s.erase(s.find_last_not_of(" \n\t") + 1);
      char* e = nullptr;
      errno = 0;
      long long v = std::strtoll(s.c_str(), &e, 10);
      if (s.empty() || *e || errno) {
        p->fail(std::string("page '") + p->page.title + "': <" + what + "> is not an integer: '" + s.substr(0, 40) + "'");
        return false;
      }
      out = v;
      return true;
    };
    int64_t ns = 0;
    if (!number(p->ns_text, "ns", ns) || !number(p->id_text, "id", p->page.id)) return;
    p->page.ns = static_cast<int>(ns);
    (*p->fn)(std::move(p->page));
    p->page = Page{};
  }
  static void text(void* ud, const XML_Char* s, int len) {
    auto* p = static_cast<PageParser*>(ud);
    std::string* dst = p->field == kTitle ? &p->page.title
                       : p->field == kNs  ? &p->ns_text
                       : p->field == kId  ? &p->id_text
                       : p->field == kText ? &p->page.text
                                           : nullptr;
    if (!dst) return;
    const uint64_t cap = p->field == kText ? p->limits->max_page_bytes : 4096;
    if (dst->size() + static_cast<size_t>(len) > cap)
      return p->fail("page '" + p->page.title.substr(0, 200) + "': " + (p->field == kText ? "text" : "field") + " longer than " +
                     std::to_string(cap) + " bytes (a damaged dump?)");
    dst->append(s, static_cast<size_t>(len));
  }
  void fail(const std::string& message) {
    if (error.empty()) error = message;
    XML_StopParser(parser, XML_FALSE);
  }
};

SiteInfo parse_siteinfo(const std::string& xml, const std::string& path) {
  SiteInfo site = SiteInfo::english();  // English's canonical names work in every language
  const size_t b = xml.find("<siteinfo>"), e = xml.find("</siteinfo>");
  if (b == std::string::npos || e == std::string::npos || e < b) return site;
  struct State {
    SiteInfo* site;
    std::string text, key;
    bool in_ns = false, in_case = false, in_db = false;
  } st{&site, {}, {}};
  XML_Parser p = XML_ParserCreate("UTF-8");
  XML_SetUserData(p, &st);
  XML_SetElementHandler(
      p,
      [](void* ud, const XML_Char* name, const XML_Char** atts) {
        auto* s = static_cast<State*>(ud);
        s->text.clear();
        s->in_ns = std::strcmp(name, "namespace") == 0;
        s->in_case = std::strcmp(name, "case") == 0;
        s->in_db = std::strcmp(name, "dbname") == 0;
        s->key.clear();
        for (int i = 0; s->in_ns && atts[i]; i += 2)
          if (std::strcmp(atts[i], "key") == 0) s->key = atts[i + 1];
      },
      [](void* ud, const XML_Char*) {
        auto* s = static_cast<State*>(ud);
        if (s->in_ns && s->key != "0" && !s->text.empty()) {
          std::string n;
          for (char c : s->text) n += c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          // Non-ASCII names (Категория) are lower-cased by the link parser's ASCII rule too, so
          // they are compared as written after ASCII lower-casing.
          s->site->namespaces.insert(n);
          if (s->key == "6" || s->key == "-2" || s->key == "14") s->site->dropped_namespaces.insert(n);
        }
        if (s->in_case) s->site->first_letter_case = s->text == "first-letter";
        if (s->in_db) s->site->dbname = s->text;
        s->in_ns = s->in_case = s->in_db = false;
      });
  XML_SetCharacterDataHandler(p, [](void* ud, const XML_Char* s, int len) {
    auto* st = static_cast<State*>(ud);
    if (st->text.size() < 1024) st->text.append(s, static_cast<size_t>(len));
  });
  const std::string doc = xml.substr(b, e + 11 - b);
  const bool ok = XML_Parse(p, doc.data(), static_cast<int>(doc.size()), XML_TRUE) == XML_STATUS_OK;
  std::string err = ok ? "" : XML_ErrorString(XML_GetErrorCode(p));
  const auto line = XML_GetCurrentLineNumber(p);
  XML_ParserFree(p);
  if (!ok) throw FormatError(path + ": <siteinfo>, line " + std::to_string(line) + ": " + err);
  return site;
}

}  // namespace

DumpPlan plan_dump(const std::string& path, const std::string& index, const DumpLimits& limits) {
  File f(path);
  DumpPlan plan;
  plan.path = path;
  plan.size = f.size();
  plan.bz2 = is_bz2(f);
  // The head of the text: siteinfo.
  std::string head;
  if (plan.bz2) {
    bunzip_range(f, path, 0, f.size(), [&](const char* d, size_t n) {
      head.append(d, std::min<size_t>(n, (4 << 20) - head.size()));
      return head.size() < (4 << 20) && head.find("</siteinfo>") == std::string::npos;
    });
  } else {
    head.resize(static_cast<size_t>(std::min<uint64_t>(f.size(), 4 << 20)));
    head.resize(f.read(0, head.data(), head.size()));
  }
  plan.utf16 = byte_order_mark(head);
  if (plan.utf16) {
    std::string utf8;
    Utf16ToUtf8(plan.utf16).add(head.data(), head.size() & ~size_t{1}, utf8);
    head = std::move(utf8);
  }
  if (head.find("<mediawiki") == std::string::npos && head.find("<page>") == std::string::npos)
    throw FormatError(path + ": not a MediaWiki XML dump (no <mediawiki> or <page> in its first " + std::to_string(head.size()) +
                      " bytes of text)");
  plan.site = parse_siteinfo(head, path);
  std::vector<uint64_t> starts;
  if (plan.utf16) {
    starts = {0};  // one chunk: streams and <page> boundaries are found in UTF-8 only
  } else if (plan.bz2) {
    starts = index.empty() ? scan_streams(f) : index_offsets(index);
    if (starts.empty() || starts.front() != 0) starts.insert(starts.begin(), 0);
    for (uint64_t s : starts)
      if (s >= f.size()) throw FormatError(index + ": stream offset " + std::to_string(s) + " is past the end of " + path);
  } else {
    for (uint64_t at = 0; at < f.size();) {
      starts.push_back(at);
      at = next_page_start(f, at + std::max<uint64_t>(limits.chunk_bytes, 1));
    }
  }
  // Consecutive streams (or page runs) grouped into chunks of about chunk_bytes.
  for (size_t i = 0; i < starts.size();) {
    Chunk c{starts[i], 0};
    size_t j = i + 1;
    while (j < starts.size() && starts[j] - c.begin < limits.chunk_bytes) ++j;
    c.end = j < starts.size() ? starts[j] : f.size();
    plan.chunks.push_back(c);
    i = j;
  }
  return plan;
}

void read_chunk(const DumpPlan& plan, size_t chunk, const std::function<void(Page&&)>& fn, const DumpLimits& limits) {
  const Chunk c = plan.chunks.at(chunk);
  File f(plan.path);
  const std::string where = plan.path + " (bytes " + std::to_string(c.begin) + " to " + std::to_string(c.end) + ")";
  PageParser pp;
  pp.fn = &fn;
  pp.limits = &limits;
  pp.where = where;
  XML_Parser parser = XML_ParserCreate("UTF-8");
  pp.parser = parser;
  struct Free {
    XML_Parser p;
    ~Free() { XML_ParserFree(p); }
  } free_parser{parser};
  XML_SetUserData(parser, &pp);
  XML_SetElementHandler(parser, &PageParser::start, &PageParser::end);
  XML_SetCharacterDataHandler(parser, &PageParser::text);
  auto feed = [&](const char* d, size_t n, bool final) {
    if (XML_Parse(parser, d, static_cast<int>(n), final ? XML_TRUE : XML_FALSE) != XML_STATUS_OK) {
      if (!pp.error.empty()) throw FormatError(where + ": " + pp.error);
      throw FormatError(where + ": broken XML at line " + std::to_string(XML_GetCurrentLineNumber(parser)) + ", column " +
                        std::to_string(XML_GetCurrentColumnNumber(parser)) + " of the chunk's text: " +
                        XML_ErrorString(XML_GetErrorCode(parser)));
    }
  };
  feed("<chunk>", 7, false);
  ChunkFilter filter([&](const char* d, size_t n) {
    for (size_t at = 0; at < n; at += (1 << 24)) feed(d + at, std::min<size_t>(n - at, 1 << 24), false);
  }, where);
  std::unique_ptr<Utf16ToUtf8> utf16;
  std::string utf8;
  if (plan.utf16) utf16 = std::make_unique<Utf16ToUtf8>(plan.utf16);
  auto add = [&](const char* d, size_t n) {
    if (!utf16) return filter.add(d, n);
    utf8.clear();
    utf16->add(d, n, utf8);
    filter.add(utf8.data(), utf8.size());
  };
  if (plan.bz2) {
    bunzip_range(f, plan.path, c.begin, c.end, [&](const char* d, size_t n) {
      add(d, n);
      return true;
    });
  } else {
    std::vector<char> buf(4 << 20);
    for (uint64_t at = c.begin; at < c.end;) {
      const size_t n = f.read(at, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), c.end - at)));
      if (n == 0) break;
      add(buf.data(), n);
      at += n;
    }
  }
  filter.finish();
  feed("</chunk>", 8, true);
  // A dump cut at a page boundary (plain XML) or at a bz2 stream boundary (multistream) reads as
  // whole until here: only the missing end tag shows it.
  if (chunk + 1 == plan.chunks.size() && !filter.saw_end())
    throw FormatError(plan.path + ": ends without </mediawiki>, so the file is cut short (at a page or bz2 stream boundary, "
                      "where nothing else shows it); download it again");
}

}  // namespace ner4el::wiki
