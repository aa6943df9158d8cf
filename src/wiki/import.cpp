// The Wikipedia importer: a pages-articles dump (and optionally its SQL tables) into a KB and
// training mentions.
//
// Stage 1, in parallel over the dump's chunks (resumable: one set of files per chunk, renamed into
// place, then a done marker with the chunk's counts): each page of the main namespace becomes a
// record (article: id, title, first paragraph, class; redirect: title, target; disambiguation
// page: title), each link of an article a record (target, anchor text) and, when asked, a mention
// (target, anchor, contexts).
// Stage 2, one thread: the titles and redirects are read into sorted hash tables (16 bytes a title);
// the links are resolved against them, counted and turned into alias records that are sorted in
// bounded memory and spilled as sorted runs, then merged; the entities, the aliases and the
// mentions are written. Nothing proportional to the number of links is ever held in memory.
#include "ner4el/wikipedia.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "kb/alias_hash.h"
#include "ner4el/files.h"
#include "kb/writer.h"
#include "ner4el/error.h"
#include "ner4el/text.h"
#include "wiki/dump.h"
#include "wiki/sql.h"
#include "wiki/wikitext.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {

constexpr int kWorkFormat = 1;
constexpr int kMaxRedirectHops = 8;

// ---------------------------------------------------------------------------------------------
// Record files: [u32 length][fields], written to NAME.tmp and renamed; read with every length
// checked against the file.

class RecordOut {
 public:
  explicit RecordOut(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (!f_) throw Error("cannot write " + tmp_ + ": " + std::strerror(errno));
  }
  ~RecordOut() {
    if (f_) {
      std::fclose(f_);
      std::remove(tmp_.c_str());
    }
  }
  RecordOut(const RecordOut&) = delete;
  RecordOut& operator=(const RecordOut&) = delete;

  RecordOut& u8(uint8_t v) { return raw(&v, 1); }
  RecordOut& i64(int64_t v) { return raw(&v, 8); }
  RecordOut& str(std::string_view s) {
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(s.size(), 0xFFFFFFFFu));
    raw(&n, 4);
    return raw(s.data(), n);
  }
  void end() {
    const uint32_t n = static_cast<uint32_t>(rec_.size());
    put(&n, 4);
    put(rec_.data(), rec_.size());
    rec_.clear();
  }
  void commit() {
    if (std::fflush(f_) != 0 || std::ferror(f_)) throw Error("cannot write " + tmp_ + ": " + std::strerror(errno));
    std::fclose(f_);
    f_ = nullptr;
    fs::rename(tmp_, path_);
  }

 private:
  RecordOut& raw(const void* p, size_t n) {
    rec_.append(static_cast<const char*>(p), n);
    return *this;
  }
  void put(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) throw Error("cannot write " + tmp_ + " (disk full?): " + std::strerror(errno));
  }
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  std::string rec_;
};

class RecordIn {
 public:
  explicit RecordIn(std::string path) : path_(std::move(path)) {
    f_ = std::fopen(path_.c_str(), "rb");
    if (!f_) throw NotFound("cannot open " + path_);
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  }
  ~RecordIn() { std::fclose(f_); }
  RecordIn(const RecordIn&) = delete;
  RecordIn& operator=(const RecordIn&) = delete;

  bool next() {
    uint32_t n;
    const size_t got = std::fread(&n, 1, 4, f_);
    if (got == 0) return false;
    if (got != 4 || n > (256u << 20)) bad("a record's length");
    rec_.resize(n);
    if (std::fread(rec_.data(), 1, n, f_) != n) bad("a record cut short");
    at_ = 0;
    return true;
  }
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  int64_t i64() {
    int64_t v;
    std::memcpy(&v, take(8), 8);
    return v;
  }
  std::string_view str() {
    uint32_t n;
    std::memcpy(&n, take(4), 4);
    return {take(n), n};
  }

 private:
  const char* take(size_t n) {
    if (n > rec_.size() - at_) bad("a field past the end of its record");
    const char* p = rec_.data() + at_;
    at_ += n;
    return p;
  }
  [[noreturn]] void bad(const char* what) const {
    throw FormatError(path_ + ": damaged work file (" + what + "); delete the work directory to start over");
  }
  std::string path_;
  FILE* f_;
  std::string rec_;
  size_t at_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Titles

/// 64 bits of a title (the KB's alias hash): the title tables hold these, not the titles.
uint64_t title_hash(std::string_view s) { return kb::alias_hash(s); }

std::string target_title(std::string_view target, const wiki::SiteInfo& site) {
  const size_t hash = target.find('#');
  return wiki::normalise_title(target.substr(0, hash), site);
}

/// "Paris (mythology)" -> "Paris"; "" when the title has no trailing qualifier.
std::string without_qualifier(const std::string& title) {
  if (title.size() < 4 || title.back() != ')') return "";
  const size_t open = title.rfind(" (");
  if (open == std::string::npos || open == 0) return "";
  return title.substr(0, open);
}

/// A disambiguation page by its wikitext and title (without page_props): __DISAMBIG__, the
/// English templates ({{disambiguation}}, {{dab}}, {{hndis}}, {{geodis}}, "... disambiguation"),
/// a title ending in "(disambiguation)".
bool looks_like_disambiguation(std::string_view text, const std::string& title) {
  if (title.size() > 17 && title.compare(title.size() - 17, 17, "(disambiguation)") == 0) return true;
  if (text.find("__DISAMBIG__") != std::string_view::npos) return true;
  for (size_t p = text.find("{{"); p != std::string_view::npos; p = text.find("{{", p + 2)) {
    size_t e = p + 2;
    while (e < text.size() && e - p < 64 && text[e] != '|' && text[e] != '}' && text[e] != '\n') ++e;
    std::string name;
    for (char c : text.substr(p + 2, e - p - 2)) name += c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    if (name == "disambiguation" || name == "disambig" || name == "dab" || name == "disamb" || name == "hndis" ||
        name == "geodis" || name == "numberdis" || name == "letter-numbercombdisambig" ||
        (name.size() > 15 && name.compare(name.size() - 15, 15, " disambiguation") == 0))
      return true;
  }
  return false;
}

/// The last n words before `end` and the first n words after `begin` of text, new lines as spaces.
std::string words_before(std::string_view text, size_t end, int n) {
  size_t b = end;
  int words = 0;
  while (b > 0) {
    while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\n')) --b;
    if (b == 0 || words == n) break;
    while (b > 0 && text[b - 1] != ' ' && text[b - 1] != '\n') --b;
    ++words;
  }
  std::string s(text.substr(b, end - b));
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s.substr(std::min(s.size(), s.find_first_not_of(' ')));
}
std::string words_after(std::string_view text, size_t begin, int n) {
  size_t e = begin;
  int words = 0;
  while (e < text.size()) {
    while (e < text.size() && (text[e] == ' ' || text[e] == '\n')) ++e;
    if (e == text.size() || words == n) break;
    while (e < text.size() && text[e] != ' ' && text[e] != '\n') ++e;
    ++words;
  }
  std::string s(text.substr(begin, e - begin));
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s.substr(std::min(s.size(), s.find_first_not_of(' ')));
}

/// A JSON string literal of valid UTF-8 text (the article texts are: expat checks the dump's).
void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

enum PageKind : uint8_t { kArticle = 0, kRedirect = 1, kDisambiguation = 2 };
enum LinkKind : uint8_t { kAnchor = 0, kListed = 1 };

struct ChunkCounts {
  uint64_t pages = 0, other = 0, articles = 0, described = 0, redirects = 0, disambiguation = 0, links = 0;
  void add(const ChunkCounts& c) {
    pages += c.pages, other += c.other, articles += c.articles, described += c.described, redirects += c.redirects,
        disambiguation += c.disambiguation, links += c.links;
  }
  nlohmann::json json() const {
    return {{"pages", pages}, {"other", other}, {"articles", articles}, {"described", described}, {"redirects", redirects},
            {"disambiguation", disambiguation}, {"links", links}};
  }
  static ChunkCounts from(const nlohmann::json& j) {
    ChunkCounts c;
    c.pages = j.at("pages"), c.other = j.at("other"), c.articles = j.at("articles"), c.described = j.at("described");
    c.redirects = j.at("redirects"), c.disambiguation = j.at("disambiguation"), c.links = j.at("links");
    return c;
  }
};

struct Work {
  fs::path dir;
  std::string chunk(size_t i, const char* what) const {
    char name[64];
    std::snprintf(name, sizeof name, "chunk-%06zu.%s", i, what);
    return (dir / name).string();
  }
};

/// Stage 1 for one chunk: its pages, links (and mentions) files, then its done marker.
ChunkCounts parse_chunk(const wiki::DumpPlan& plan, size_t i, const Work& work, const WikipediaBuildOptions& opt,
                        const std::unordered_set<int64_t>& disambiguation_ids, const wiki::DumpLimits& limits) {
  const wiki::SiteInfo& site = plan.site;
  RecordOut pages(work.chunk(i, "pages")), links(work.chunk(i, "links"));
  std::unique_ptr<RecordOut> mentions;
  if (!opt.mentions.empty()) mentions = std::make_unique<RecordOut>(work.chunk(i, "mentions"));
  ChunkCounts n;
  wiki::read_chunk(
      plan, i,
      [&](wiki::Page&& p) {
        ++n.pages;
        if (p.ns != 0) {
          ++n.other;
          return;
        }
        const std::string title = wiki::normalise_title(p.title, site);
        if (title.empty()) return;
        if (!p.redirect.empty()) {
          ++n.redirects;
          pages.u8(kRedirect).i64(p.id).str(title).str(target_title(p.redirect, site)).end();
          return;
        }
        const bool dab = disambiguation_ids.count(p.id) || (disambiguation_ids.empty() && looks_like_disambiguation(p.text, title));
        wiki::PlainText text = wiki::to_plain_text(p.text, site);
        if (dab) {
          ++n.disambiguation;
          pages.u8(kDisambiguation).i64(p.id).str(title).end();
          std::string base = without_qualifier(title);
          if (base.empty()) base = title;
          for (const auto& l : text.links) links.u8(kListed).str(target_title(l.target, site)).str(base).end();
          return;
        }
        ++n.articles;
        const std::string description = wiki::first_paragraph(text);
        std::string cls;
        if (!description.empty()) {
          ++n.described;
          if (opt.kb.typer) {
            Entity e;
            e.id = p.id;
            e.title = title;
            e.description = description;
            cls = opt.kb.typer(e);
          }
        }
        pages.u8(kArticle).i64(p.id).str(title).str(description).str(cls).end();
        for (const auto& l : text.links) {
          ++n.links;
          const std::string target = target_title(l.target, site);
          const std::string_view anchor(text.text.data() + l.begin, l.end - l.begin);
          links.u8(kAnchor).str(target).str(anchor).end();
          if (mentions) {  // the JSON line but its gold title, which stage 2 resolves and appends
            std::string line = "{\"left_context\":";
            append_json_string(line, words_before(text.text, l.begin, opt.context_words));
            line += ",\"mention\":";
            append_json_string(line, anchor);
            line += ",\"right_context\":";
            append_json_string(line, words_after(text.text, l.end, opt.context_words));
            mentions->str(target).str(line).end();
          }
        }
      },
      limits);
  pages.commit();
  links.commit();
  if (mentions) mentions->commit();
  OutputFile done(work.chunk(i, "done"));
  done.stream() << n.json().dump() << "\n";
  done.commit();
  return n;
}

// ---------------------------------------------------------------------------------------------
// Alias records sorted in bounded memory: (key, id, anchor count), spilled as sorted runs.

class AliasSorter {
 public:
  AliasSorter(fs::path dir, uint64_t budget) : dir_(std::move(dir)), budget_(std::max<uint64_t>(budget, 1 << 20)) {}
  ~AliasSorter() {
    std::error_code ec;
    for (const auto& r : runs_) fs::remove(r, ec);
  }

  void add(const std::string& key, int64_t id, uint32_t count) {
    if (key.empty()) return;
    bytes_ += key.capacity() + sizeof(Rec) + 16;
    buf_.push_back({key, id, count});
    if (bytes_ >= budget_) spill();
  }
  size_t runs() const { return runs_.size(); }

  /// Calls fn(key, [(id, anchor count)...] in id order) once per key, in key order.
  void merge(const std::function<void(const std::string&, const std::vector<std::pair<int64_t, uint64_t>>&)>& fn) {
    std::string key;
    std::vector<std::pair<int64_t, uint64_t>> ids;
    auto take = [&](const std::string& k, int64_t id, uint64_t count) {
      if (k != key) {
        if (!ids.empty()) fn(key, ids);
        key = k;
        ids.clear();
      }
      if (!ids.empty() && ids.back().first == id) ids.back().second += count;
      else ids.emplace_back(id, count);
    };
    if (runs_.empty()) {  // everything fitted: no file
      sort_buffer();
      for (const auto& r : buf_) take(r.key, r.id, r.count);
    } else {
      if (!buf_.empty()) spill();
      struct Head {
        std::string key;
        int64_t id;
        uint64_t count;
        size_t run;
        bool operator>(const Head& o) const { return key != o.key ? key > o.key : id > o.id; }
      };
      std::vector<std::unique_ptr<RecordIn>> in;
      std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heap;
      auto pull = [&](size_t r) {
        if (!in[r]->next()) return;
        std::string k(in[r]->str());
        const int64_t id = in[r]->i64();
        const uint64_t count = static_cast<uint64_t>(in[r]->i64());
        heap.push({std::move(k), id, count, r});
      };
      for (size_t r = 0; r < runs_.size(); ++r) {
        in.push_back(std::make_unique<RecordIn>(runs_[r]));
        pull(r);
      }
      while (!heap.empty()) {
        Head h = heap.top();
        heap.pop();
        take(h.key, h.id, h.count);
        pull(h.run);
      }
    }
    if (!ids.empty()) fn(key, ids);
  }

 private:
  struct Rec {
    std::string key;
    int64_t id;
    uint32_t count;
  };
  void sort_buffer() {
    std::sort(buf_.begin(), buf_.end(), [](const Rec& a, const Rec& b) { return a.key != b.key ? a.key < b.key : a.id < b.id; });
  }
  void spill() {
    sort_buffer();
    const std::string path = (dir_ / ("aliases-run-" + std::to_string(runs_.size()))).string();
    RecordOut out(path);
    for (size_t i = 0; i < buf_.size();) {  // equal (key, id) records summed as they go out
      size_t j = i;
      uint64_t count = 0;
      while (j < buf_.size() && buf_[j].key == buf_[i].key && buf_[j].id == buf_[i].id) count += buf_[j++].count;
      out.str(buf_[i].key).i64(buf_[i].id).i64(static_cast<int64_t>(count)).end();
      i = j;
    }
    out.commit();
    runs_.push_back(path);
    buf_.clear();
    buf_.shrink_to_fit();
    bytes_ = 0;
  }
  fs::path dir_;
  uint64_t budget_;
  uint64_t bytes_ = 0;
  std::vector<Rec> buf_;
  std::vector<std::string> runs_;
};

std::string alias_key(std::string_view surface) { return lower_case(valid_utf8(surface)); }

/// Title hash -> entity id, for the articles and the redirects that reach one.
class TitleTable {
 public:
  void add(uint64_t hash, int64_t id) { entries_.emplace_back(hash, id); }
  void seal() { std::sort(entries_.begin(), entries_.end()); }
  int64_t find(uint64_t hash) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), std::make_pair(hash, INT64_MIN));
    return it != entries_.end() && it->first == hash ? it->second : -1;
  }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<std::pair<uint64_t, int64_t>> entries_;
};

/// Entity id -> title, for the mentions' gold titles.
class TitleArena {
 public:
  void add(int64_t id, std::string_view title) {
    index_.push_back({id, static_cast<uint64_t>(text_.size()), static_cast<uint32_t>(title.size())});
    text_.append(title);
  }
  void seal() {
    std::sort(index_.begin(), index_.end(), [](const Slot& a, const Slot& b) { return a.id < b.id; });
  }
  std::string_view find(int64_t id) const {
    auto it = std::lower_bound(index_.begin(), index_.end(), id, [](const Slot& s, int64_t v) { return s.id < v; });
    if (it == index_.end() || it->id != id) return {};
    return std::string_view(text_).substr(it->at, it->size);
  }

 private:
  struct Slot {
    int64_t id;
    uint64_t at;
    uint32_t size;
  };
  std::vector<Slot> index_;
  std::string text_;
};

void check_work_dir(const fs::path& dir) {
  if (!fs::exists(dir)) return;
  if (!fs::is_directory(dir)) throw InvalidArgument(dir.string() + " exists and is not a directory; choose another --work-dir");
  if (fs::exists(dir / "plan.json")) return;
  if (fs::directory_iterator(dir) != fs::directory_iterator())
    throw InvalidArgument(dir.string() + " exists, is not empty and is not a work directory of 'kb build --from wikipedia'; "
                          "it is left as it is (choose another --work-dir)");
}

/// The files a build keeps in its work directory (and their temporaries): the only ones it removes.
bool is_work_file(const std::string& name) {
  return name.rfind("chunk-", 0) == 0 || name.rfind("aliases-run-", 0) == 0 || name == "plan.json" || name == "plan.json.tmp";
}

/// Removes the build's own files from its work directory, then the directory if nothing else is
/// in it. @return false when it was left because it holds other files (the user's).
bool remove_work_files(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (is_work_file(e.path().filename().string())) fs::remove(e.path(), ec);
  if (fs::is_empty(dir, ec)) return fs::remove(dir, ec);
  return !fs::exists(dir, ec);
}

/// The work directory must be neither the KB's folder nor inside it, nor hold it: the KB replaces
/// its folder at the end, and the build removes its work directory.
void check_work_dir_apart(const fs::path& work, const std::string& out_dir) {
  const fs::path w = fs::weakly_canonical(fs::absolute(work)), o = fs::weakly_canonical(fs::absolute(out_dir));
  auto within = [](const fs::path& inner, const fs::path& outer) {
    auto [a, b] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
    return a == outer.end();
  };
  if (within(w, o) || within(o, w))
    throw InvalidArgument("--work-dir " + work.string() + " and the output " + out_dir +
                          (w == o ? " are the same folder" : " are inside one another") +
                          "; the KB replaces its folder and the work directory is removed at the end: choose another --work-dir");
}

/// What the chunk files depend on; a work directory made for another plan is emptied of our files.
nlohmann::json plan_key(const WikipediaBuildOptions& o, const wiki::DumpPlan& plan) {
  auto identity = [](const std::string& p) -> nlohmann::json {
    if (p.empty()) return nullptr;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return nullptr;
    return {{"path", fs::absolute(p).string()}, {"size", st.st_size}, {"mtime", st.st_mtim.tv_sec}};
  };
  nlohmann::json chunks = nlohmann::json::array();
  for (const auto& c : plan.chunks) chunks.push_back({c.begin, c.end});
  return {{"format", kWorkFormat},          {"dump", identity(o.dump)},
          {"page_props", identity(o.page_props_sql)}, {"chunks", chunks},
          {"mentions", !o.mentions.empty()}, {"context_words", o.context_words},
          {"typed", static_cast<bool>(o.kb.typer)}};
}

void prepare_work_dir(const Work& work, const nlohmann::json& key) {
  const fs::path plan = work.dir / "plan.json";
  bool same = false;
  if (fs::exists(plan)) {
    std::ifstream in(plan);
    try {
      same = nlohmann::json::parse(in) == key;
    } catch (const nlohmann::json::exception&) {
      same = false;
    }
  }
  if (!same) {  // our files only: chunk-*, aliases-run-*, plan.json
    for (const auto& e : fs::directory_iterator(work.dir))
      if (is_work_file(e.path().filename().string())) fs::remove(e.path());
    OutputFile out(plan.string());
    out.stream() << key.dump() << "\n";
    out.commit();
  }
  for (const auto& e : fs::directory_iterator(work.dir)) {  // what a killed run left half-written
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) fs::remove(e.path());
    if (name.rfind("aliases-run-", 0) == 0) fs::remove(e.path());
  }
}

}  // namespace

void read_wikipedia_pages(const std::string& dump, const std::string& multistream_index,
                          const std::function<void(const WikipediaPage&)>& fn) {
  const wiki::DumpPlan plan = wiki::plan_dump(dump, multistream_index);
  const wiki::SiteInfo& site = plan.site;
  for (size_t i = 0; i < plan.chunks.size(); ++i)
    wiki::read_chunk(plan, i, [&](wiki::Page&& p) {
      WikipediaPage out;
      out.id = p.id;
      out.ns = p.ns;
      out.title = wiki::normalise_title(p.title, site);
      if (!p.redirect.empty()) out.redirect = target_title(p.redirect, site);
      if (p.ns == 0 && out.redirect.empty()) {
        out.disambiguation = looks_like_disambiguation(p.text, out.title);
        wiki::PlainText text = wiki::to_plain_text(p.text, site);
        out.description = wiki::first_paragraph(text);
        for (auto& l : text.links) out.links.push_back({l.begin, l.end, target_title(l.target, site)});
        out.text = std::move(text.text);
      }
      fn(out);
    });
}

namespace {

/// One build of build_wikipedia_kb, cut at its stages; each stage's state is a member the later
/// stages read (names kept from the stages' text: opt, plan, work, titles, sorter, writer, ...).
struct WikipediaBuild {
  const WikipediaBuildOptions& opt;
  const std::string& out_dir;
  const ProgressFn& progress;
  WikipediaBuildReport rep;
  wiki::DumpLimits limits;
  uint64_t threads_wanted = 1;
  wiki::DumpPlan plan;
  Work work;
  std::unordered_set<int64_t> disambiguation_ids;
  TitleTable titles;        ///< title hash -> article id (redirects resolved)
  TitleArena names;         ///< article id -> title
  std::vector<int64_t> article_ids;  ///< ascending
  std::optional<AliasSorter> sorter;
  std::vector<uint32_t> inlinks;  ///< by index_of(article id)
  std::optional<kb::Writer> writer;

  WikipediaBuild(const WikipediaBuildOptions& o, const std::string& out) : opt(o), out_dir(out), progress(o.kb.progress) {}
  static void check_options(const WikipediaBuildOptions& opt, const std::string& out_dir);
  void plan_chunks();
  void read_page_props();
  void parse_chunks();
  void resolve_titles();
  void count_links();
  void write_entities();
  void write_aliases();
  void write_mentions();
  WikipediaBuildReport finish();
  size_t index_of(int64_t id) const {
    return static_cast<size_t>(std::lower_bound(article_ids.begin(), article_ids.end(), id) - article_ids.begin());
  }
};

void WikipediaBuild::check_options(const WikipediaBuildOptions& opt, const std::string& out_dir) {
  if (opt.dump.empty()) throw InvalidArgument("a Wikipedia build needs the pages-articles dump");
  if (opt.context_words < 0 || opt.context_words > 10000) throw InvalidArgument("context words: expected 0 to 10000");
  if (opt.chunk_bytes == 0) throw InvalidArgument("chunk size: expected at least one byte");
  if (opt.max_page_bytes == 0) throw InvalidArgument("page size limit: expected at least one byte");
  if (opt.sort_memory_mib == 0 || opt.sort_memory_mib > (1 << 20)) throw InvalidArgument("sort memory: expected 1 MiB to 1 TiB");
  for (const std::string* p : {&opt.dump, &opt.multistream_index, &opt.redirect_sql, &opt.page_props_sql, &opt.types})
    if (!p->empty() && !fs::is_regular_file(*p)) throw NotFound(*p + ": no such file");
  kb::Writer::check_output(out_dir, opt.kb);  // now, not after the hours of the first stage
  if (!opt.mentions.empty() && fs::is_directory(opt.mentions)) throw InvalidArgument("mentions output " + opt.mentions + " is a directory");
  if (!opt.mentions.empty() && fs::exists(opt.mentions) && !opt.kb.overwrite)
    throw InvalidArgument(opt.mentions + " already exists; choose another file or pass --force to replace it");
}

void WikipediaBuild::plan_chunks() {
  // At least about 8 chunks a thread where the file allows it, so every core has work to the end.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  threads_wanted = opt.threads > 0 ? static_cast<uint64_t>(opt.threads) : cores;
  struct stat dump_stat {};
  const uint64_t dump_size = ::stat(opt.dump.c_str(), &dump_stat) == 0 ? static_cast<uint64_t>(dump_stat.st_size) : 0;
  limits.chunk_bytes = std::max<uint64_t>(1, std::min<uint64_t>(opt.chunk_bytes, std::max<uint64_t>(256 << 10, dump_size / (threads_wanted * 8))));
  limits.max_page_bytes = opt.max_page_bytes;
  plan = wiki::plan_dump(opt.dump, opt.multistream_index, limits);
  rep.site = plan.site.dbname;
  if (!opt.lang.empty() && !plan.site.dbname.empty() && plan.site.dbname.rfind(opt.lang, 0) != 0)
    throw InvalidArgument(opt.dump + " is the dump of " + plan.site.dbname + ", not of the language '" + opt.lang + "' asked for");
  rep.chunks = plan.chunks.size();

  work.dir = opt.work_dir.empty() ? fs::path(out_dir + ".work") : fs::path(opt.work_dir);
  check_work_dir_apart(work.dir, out_dir);
  check_work_dir(work.dir);
  if (!opt.mentions.empty()) remove_stale_temporaries(opt.mentions);  // a killed run's half-written mentions
  fs::create_directories(work.dir);
  prepare_work_dir(work, plan_key(opt, plan));

}

void WikipediaBuild::read_page_props() {
  // page_props first: the parser threads need to know the disambiguation pages.
  if (!opt.page_props_sql.empty()) {
    if (progress) progress("page_props", 0, 0);
    wiki::read_sql_table(opt.page_props_sql, "page_props", [&](const wiki::SqlRow& r) {
      if (r.values[r.column("pp_propname")] == "disambiguation")
        disambiguation_ids.insert(std::strtoll(r.values[r.column("pp_page")].c_str(), nullptr, 10));
    });
    if (disambiguation_ids.empty())
      rep.kb.warnings.push_back(opt.page_props_sql + " marks no page as 'disambiguation'; disambiguation pages are then found "
                                "by their templates");
  }

}

void WikipediaBuild::parse_chunks() {
  // Stage 1: the chunks, in parallel; those a killed run finished are kept.
  ChunkCounts totals;
  std::vector<size_t> todo;
  uint64_t bytes_total = 0, bytes_done = 0;
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    bytes_total += plan.chunks[i].end - plan.chunks[i].begin;
    const std::string done = work.chunk(i, "done");
    if (fs::exists(done)) {
      std::ifstream in(done);
      try {
        totals.add(ChunkCounts::from(nlohmann::json::parse(in)));
        ++rep.chunks_resumed;
        bytes_done += plan.chunks[i].end - plan.chunks[i].begin;
        continue;
      } catch (const nlohmann::json::exception&) {
        fs::remove(done);  // torn: parsed again
      }
    }
    todo.push_back(i);
  }
  {
    const size_t threads = std::min<size_t>(todo.size(), threads_wanted);
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::exception_ptr error;
    auto worker = [&] {
      for (;;) {
        const size_t k = next.fetch_add(1);
        if (k >= todo.size() || stop) return;
        const size_t i = todo[k];
        try {
          ChunkCounts c = parse_chunk(plan, i, work, opt, disambiguation_ids, limits);
          std::lock_guard<std::mutex> lock(mu);
          totals.add(c);
          bytes_done += plan.chunks[i].end - plan.chunks[i].begin;
          if (progress) progress("parsing dump", bytes_done, bytes_total);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          if (!error) error = std::current_exception();
          stop = true;
          return;
        }
      }
    };
    if (progress) progress("parsing dump", bytes_done, bytes_total);
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    if (threads > 0) worker();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
  }
  rep.pages = totals.pages;
  rep.other_namespaces = totals.other;
  rep.articles = totals.articles;
  rep.described = totals.described;
  rep.redirects = totals.redirects;
  rep.disambiguation_pages = totals.disambiguation;
  rep.links = totals.links;

}

void WikipediaBuild::resolve_titles() {
  // Stage 2a: titles. Redirect targets by page id from the SQL table override the XML's.
  std::unordered_map<int64_t, uint64_t> sql_targets;
  if (!opt.redirect_sql.empty()) {
    if (progress) progress("redirect table", 0, 0);
    wiki::read_sql_table(opt.redirect_sql, "redirect", [&](const wiki::SqlRow& r) {
      const size_t from = r.column("rd_from"), ns = r.column("rd_namespace"), title = r.column("rd_title");
      const size_t interwiki = r.column("rd_interwiki");
      if (r.values[ns] != "0" || !r.values[interwiki].empty()) return;
      sql_targets[std::strtoll(r.values[from].c_str(), nullptr, 10)] = title_hash(wiki::normalise_title(r.values[title], plan.site));
    });
  }
  struct Redirect {
    uint64_t from, to;
  };
  std::vector<Redirect> redirects;
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    RecordIn in(work.chunk(i, "pages"));
    while (in.next()) {
      const uint8_t kind = in.u8();
      const int64_t id = in.i64();
      const std::string_view title = in.str();
      if (kind == kArticle) {
        titles.add(title_hash(title), id);
        names.add(id, title);
        article_ids.push_back(id);
      } else if (kind == kRedirect) {
        auto sql = sql_targets.find(id);
        const uint64_t to = sql != sql_targets.end() ? sql->second : title_hash(in.str());
        redirects.push_back({title_hash(title), to});
      }
    }
    if (progress) progress("titles", i + 1, plan.chunks.size());
  }
  sql_targets = {};
  titles.seal();
  names.seal();
  std::sort(article_ids.begin(), article_ids.end());
  {
    std::sort(redirects.begin(), redirects.end(), [](const Redirect& a, const Redirect& b) { return a.from < b.from; });
    auto next_hop = [&](uint64_t h) -> const Redirect* {
      auto it = std::lower_bound(redirects.begin(), redirects.end(), h, [](const Redirect& r, uint64_t v) { return r.from < v; });
      return it != redirects.end() && it->from == h ? &*it : nullptr;
    };
    std::vector<std::pair<uint64_t, int64_t>> resolved;
    for (const Redirect& r : redirects) {
      if (titles.find(r.from) >= 0) continue;  // a title that is an article too: the article wins
      uint64_t h = r.to;
      int64_t id = -1;
      for (int hop = 0; hop < kMaxRedirectHops; ++hop) {  // chains followed, cycles broken
        id = titles.find(h);
        if (id >= 0) break;
        const Redirect* next = next_hop(h);
        if (!next) break;
        h = next->to;
        if (hop + 1 == kMaxRedirectHops) ++rep.redirect_cycles;
      }
      if (id >= 0) resolved.emplace_back(r.from, id);
    }
    rep.redirects_resolved = resolved.size();
    for (const auto& [h, id] : resolved) titles.add(h, id);
    titles.seal();
    redirects = {};
  }

}

void WikipediaBuild::count_links() {
  // Stage 2b: links -> in-link counts and alias records.
  sorter.emplace(work.dir, opt.sort_memory_mib << 20);
  inlinks.assign(article_ids.size(), 0);
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    RecordIn in(work.chunk(i, "links"));
    while (in.next()) {
      const uint8_t kind = in.u8();
      const int64_t id = titles.find(title_hash(in.str()));
      const std::string_view alias = in.str();
      if (id < 0) continue;
      if (kind == kAnchor) {
        ++rep.links_resolved;
        ++inlinks[index_of(id)];
      }
      sorter->add(alias_key(alias), id, kind == kAnchor ? 1 : 0);
    }
    if (progress) progress("links", i + 1, plan.chunks.size());
  }

}

void WikipediaBuild::write_entities() {
  // Stage 2c: the entities, and the titles' aliases.
  KbBuildOptions kb_options = opt.kb;
  kb_options.typer = nullptr;  // typed on the parser threads already
  writer.emplace(out_dir, kb_options);
  if (!opt.types.empty()) kb::read_types_file(*writer, opt.types, progress);
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    RecordIn in(work.chunk(i, "pages"));
    while (in.next()) {
      const uint8_t kind = in.u8();
      const int64_t page = in.i64();
      const std::string title(in.str());
      if (kind == kRedirect) {
        const int64_t id = titles.find(title_hash(title));
        if (id >= 0 && id != page) sorter->add(alias_key(title), id, 0);
        continue;
      }
      if (kind != kArticle) continue;
      const std::string_view description = in.str();
      const std::string_view cls = in.str();
      if (titles.find(title_hash(title)) != page) continue;  // a duplicate title: the first article read keeps it
      writer->set_title(page, title);
      writer->set_count(page, inlinks[index_of(page)]);
      writer->set_class_if_missing(page, cls);
      if (!description.empty()) writer->add_entity(page, description);
      sorter->add(alias_key(title), page, 0);
      if (const std::string base = without_qualifier(title); !base.empty()) sorter->add(alias_key(base), page, 0);
    }
    if (progress) progress("entities", i + 1, plan.chunks.size());
  }
  inlinks = {};

}

void WikipediaBuild::write_aliases() {
  // Stage 2d: the aliases, merged from the sorted runs.
  rep.sort_runs = sorter->runs();
  uint64_t keys = 0;
  sorter->merge([&](const std::string& key, const std::vector<std::pair<int64_t, uint64_t>>& ids) {
    std::vector<int64_t> list;
    std::vector<std::pair<int64_t, uint64_t>> anchors;
    list.reserve(ids.size());
    for (const auto& [id, count] : ids) {
      list.push_back(id);
      if (count) anchors.emplace_back(id, count);
    }
    writer->add_alias(key, list);
    if (!anchors.empty()) writer->add_alias_links(key, anchors);
    if (progress && (++keys & 0xFFFF) == 0) progress("aliases", keys, 0);
  });

}

void WikipediaBuild::write_mentions() {
  // Stage 2e: the mentions, with the gold titles the KB uses, written whole or not at all.
  if (opt.mentions.empty()) return;
  {
    const std::string tmp = opt.mentions + ".tmp-" + std::to_string(::getpid());
    try {
      std::ofstream out(tmp, std::ios::binary);
      if (!out) throw Error("cannot write " + tmp);
      for (size_t i = 0; i < plan.chunks.size(); ++i) {
        RecordIn in(work.chunk(i, "mentions"));
        std::string line;
        while (in.next()) {
          const int64_t id = titles.find(title_hash(in.str()));
          if (id < 0) continue;
          line = in.str();
          line += ",\"output\":";
          append_json_string(line, names.find(id));
          line += "}\n";
          out << line;
          ++rep.mentions;
        }
        if (progress) progress("mentions", i + 1, plan.chunks.size());
      }
      out.close();
      if (!out) throw Error("cannot write " + tmp + " (disk full?)");
      fs::rename(tmp, opt.mentions);
    } catch (...) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw;
    }
  }

}

WikipediaBuildReport WikipediaBuild::finish() {
  std::vector<std::string> warnings = std::move(rep.kb.warnings);
  rep.kb = writer->finish(fs::path(opt.dump).filename().string());
  rep.kb.warnings.insert(rep.kb.warnings.begin(), warnings.begin(), warnings.end());
  if (!opt.keep_work && !remove_work_files(work.dir))
    rep.kb.warnings.push_back("the work directory " + work.dir.string() +
                              " holds files the build did not make; its own files are removed, the rest is left as it is");
  return rep;
}

}  // namespace

WikipediaBuildReport build_wikipedia_kb(const WikipediaBuildOptions& opt, const std::string& out_dir) {
  WikipediaBuild::check_options(opt, out_dir);
  WikipediaBuild b(opt, out_dir);
  b.plan_chunks();        // the dump's chunks, the work directory
  b.read_page_props();    // disambiguation pages, before the parser threads need them
  b.parse_chunks();       // stage 1: every chunk in parallel, resumable
  b.resolve_titles();     // stage 2a: titles and redirects
  b.count_links();        // stage 2b: in-link counts, alias records
  b.write_entities();     // stage 2c: entities and the titles' aliases
  b.write_aliases();      // stage 2d: aliases merged from the sorted runs
  b.write_mentions();     // stage 2e: mentions with their gold titles
  return b.finish();
}

}  // namespace ner4el
