// Import of the released resources (or a user's own files) into a KB directory.
#include <cerrno>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "io/csv.h"
#include "io/pickle.h"
#include "kb/alias_hash.h"
#include "kb/lmdb.h"
#include "kb/records.h"
#include "kb/writer.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/files.h"
#include "ner4el/json.h"
#include "ner4el/kb.h"
#include "ner4el/text.h"

namespace ner4el {

namespace fs = std::filesystem;
using io::PickleValue;

namespace {

std::string ext_of(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}
bool is_pickle(const std::string& e) { return e == ".pickle" || e == ".pkl"; }

[[noreturn]] void bad_ext(const std::string& what, const std::string& path, const std::string& allowed) {
  throw InvalidArgument(what + " file " + path + ": unknown extension '" + ext_of(path) + "' (expected " + allowed + ")");
}

bool parse_int(std::string_view s, int64_t& out) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc() && p == s.data() + s.size()) return true;
  // pandas may write integral counts as floats ("12.0").
  double d;
  auto [q, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec2 != std::errc() || q != s.data() + s.size() || d != static_cast<double>(static_cast<int64_t>(d))) return false;
  out = static_cast<int64_t>(d);
  return true;
}

int64_t require_int(std::string_view s, const std::string& file, size_t line, const std::string& field) {
  int64_t v;
  if (!parse_int(s, v)) throw FormatError(location(file, line, field) + ": expected an integer, found '" + std::string(s.substr(0, 40)) + "'");
  return v;
}

int64_t pickle_id(const PickleValue& v, const std::string& file, const std::string& what) {
  if (v.is_int()) return v.as_int();
  if (v.is_str()) {
    int64_t id;
    if (parse_int(v.as_str(), id)) return id;
  }
  throw FormatError(file + ": " + what + ": expected an integer id, found " + v.type_name() +
                    (v.is_str() ? " '" + std::string(v.as_str().substr(0, 40)) + "'" : ""));
}

nlohmann::json parse_json_line(const std::string& line, const std::string& file, size_t n) {
  auto j = parse_json(line, location(file, n));
  if (!j.is_object()) throw FormatError(location(file, n) + ": expected a JSON object, found " + j.type_name());
  return j;
}

int64_t json_int(const nlohmann::json& j, const char* field, const std::string& file, size_t n) {
  auto it = j.find(field);
  if (it == j.end()) throw FormatError(location(file, n, field) + ": missing (expected an integer)");
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return require_int(it->get<std::string>(), file, n, field);
  throw FormatError(location(file, n, field) + ": expected an integer, found " + it->type_name());
}

std::string json_str(const nlohmann::json& j, const char* field, const std::string& file, size_t n) {
  auto it = j.find(field);
  if (it == j.end()) throw FormatError(location(file, n, field) + ": missing (expected a string)");
  if (!it->is_string()) throw FormatError(location(file, n, field) + ": expected a string, found " + it->type_name());
  return it->get<std::string>();
}

/// Calls fn(line, number) for each non-empty line of a JSON Lines file.
template <typename Fn>
void for_each_line(const std::string& path, Fn fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFound("cannot open " + path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    fn(line, n);
  }
}

/// Column index by the first matching name in the header, or throws naming the file.
size_t column(const std::vector<std::string>& header, std::initializer_list<const char*> names, const std::string& file) {
  for (const char* name : names)
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
  std::string want, have;
  for (const char* name : names) want += std::string(want.empty() ? "" : " or ") + name;
  for (const auto& h : header) have += (have.empty() ? "" : ",") + h;
  throw FormatError(location(file, 1) + ": header has no column " + want + " (found: " + have + ")");
}

/// Reads "id -> value" pairs from CSV (with header), TSV (optional header) or JSON Lines.
template <typename Fn>
void read_pairs(const std::string& path, std::initializer_list<const char*> id_cols,
                std::initializer_list<const char*> value_cols, const char* json_id, const char* json_value,
                const ProgressFn& progress, std::string_view stage, Fn fn) {
  const std::string e = ext_of(path);
  if (e == ".jsonl") {
    for_each_line(path, [&](const std::string& line, size_t n) {
      auto j = parse_json_line(line, path, n);
      auto it = j.find(json_value);
      if (it == j.end()) throw FormatError(location(path, n, json_value) + ": missing");
      std::string value = it->is_string() ? it->get<std::string>() : it->dump();
      fn(json_int(j, json_id, path, n), value, n);
    });
    return;
  }
  const bool csv = e == ".csv";
  io::CsvReader r(path, csv ? ',' : '\t', csv);
  std::vector<std::string> f;
  size_t id_col = 0, val_col = 1;
  bool first = true;
  uint64_t rows = 0;
  while (r.next(f)) {
    if (first) {
      first = false;
      if (csv) {
        id_col = column(f, id_cols, path);
        val_col = column(f, value_cols, path);
        continue;
      }
      int64_t dummy;
      if (f.empty() || !parse_int(f[0], dummy)) continue;  // a TSV header line
    }
    if (f.size() <= std::max(id_col, val_col))
      throw FormatError(location(path, r.line()) + ": expected at least " + std::to_string(std::max(id_col, val_col) + 1) +
                        " fields, found " + std::to_string(f.size()));
    fn(require_int(f[id_col], path, r.line(), csv ? *id_cols.begin() : "id"), f[val_col], r.line());
    if (progress && (++rows & 0xFFFF) == 0) progress(stage, r.offset(), r.size());
  }
  if (progress) progress(stage, r.size(), r.size());
}

struct Meta {
  int64_t count = 0;
  int32_t cls = -1;
  bool has_desc = false;
  bool written = false;
  std::string title;
  uint64_t title_seq = 0;  ///< order in which titles were read (the release's last-wins needs it)
};

class Builder {
 public:
  Builder(const std::string& dir, const KbBuildOptions& opt) : opt_(opt) {
    kb::check(mdb_env_create(&env_), "LMDB");
    mdb_env_set_maxdbs(env_, 8);
    kb::check(mdb_env_set_mapsize(env_, static_cast<size_t>(opt.map_size_gib) << 30), "LMDB map size");
    kb::check(mdb_env_open(env_, dir.c_str(), MDB_NOSYNC, 0644), "cannot create LMDB environment in " + dir);
    txn_ = std::make_unique<kb::Txn>(env_, false);
    auto open = [&](const char* name, unsigned flags, MDB_dbi& dbi) {
      kb::check(mdb_dbi_open(txn_->get(), name, flags | MDB_CREATE, &dbi), std::string("LMDB table ") + name);
    };
    open("meta", 0, meta_db_);
    open("entities", MDB_INTEGERKEY, ent_db_);
    open("aliases", 0, alias_db_);
    open("titles", 0, title_db_);
    open("lists", 0, list_db_);
    open("release_aliases", 0, raw_db_);
    open("release_titles", 0, release_title_db_);
    open("anchors", 0, anchor_db_);
  }
  ~Builder() {
    txn_.reset();
    if (env_) mdb_env_close(env_);
  }

  /// Writes a compacted copy (B-trees rewritten in key order, pages full) into the empty dir:
  /// random-order inserts leave pages half full, and a look-up then touches more memory.
  void compact_to(const std::string& dir) {
    kb::check(mdb_env_copy2(env_, dir.c_str(), MDB_CP_COMPACT), "cannot write the compacted knowledge base to " + dir);
  }

  /// Writes aliases.hash (kb/alias_hash.h) from the finished aliases table.
  void write_alias_hash(const std::string& path, uint64_t aliases) {
    kb::Txn txn(env_, true);
    MDB_cursor* cur = nullptr;
    kb::check(mdb_cursor_open(txn.get(), alias_db_, &cur), "LMDB cursor");
    kb::AliasHashWriter w(path, aliases);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      std::vector<int64_t> ids(v.mv_size / sizeof(int64_t));
      std::memcpy(ids.data(), v.mv_data, ids.size() * sizeof(int64_t));
      w.add(kb::view(k), ids.data(), ids.size());
    }
    mdb_cursor_close(cur);
    w.write();
  }

  int32_t class_id(const std::string& name) {
    if (name.empty()) return -1;
    auto it = class_ids_.find(name);
    if (it != class_ids_.end()) return it->second;
    int32_t id = static_cast<int32_t>(classes_.size());
    classes_.push_back(name);
    class_ids_.emplace(name, id);
    return id;
  }

  void put(MDB_dbi db, std::string_view key, std::string_view value) {
    MDB_val k = kb::val(key), v = kb::val(value);
    kb::check(mdb_put(txn_->get(), db, &k, &v, 0), "LMDB write");
    if (++pending_ >= 50000) {  // bounded transactions: LMDB holds a transaction's dirty pages in memory
      txn_->commit();
      txn_ = std::make_unique<kb::Txn>(env_, false);
      pending_ = 0;
    }
  }

  /// Text as it is stored: invalid UTF-8 bytes replaced by U+FFFD (counted), once, here where text
  /// enters the KB, so every reader of the KB (CLI, server, Python) gets valid text.
  std::string clean(std::string_view text) {
    std::string v = valid_utf8(text);
    if (v.size() != text.size() || v != text) ++replaced_;
    return v;
  }

  void write_entity(int64_t id, Meta& m, std::string_view desc_in) {
    const std::string desc = clean(desc_in);
    uint64_t key = static_cast<uint64_t>(id);
    if (opt_.typer && m.cls < 0) {
      Entity e;
      e.id = id;
      e.title = m.title;
      e.description = std::string(desc);
      m.cls = class_id(opt_.typer(e));
    }
    put(ent_db_, {reinterpret_cast<const char*>(&key), sizeof key},
        kb::encode_entity(m.count, m.cls, m.has_desc, m.title, desc));
    m.written = true;
  }

  void set_title(int64_t id, std::string title) {
    Meta& m = meta_[id];
    m.title = clean(title);
    m.title_seq = ++title_seq_;
  }

  /// Adds ids to an alias, keeping only described entities, ordered by decreasing count.
  void add_alias(const std::string& surface_in, const std::vector<int64_t>& ids, KbBuildReport& rep) {
    const std::string surface = clean(surface_in);
    std::string key = lower_case(surface);
    if (key.empty()) return;
    if (key.size() > kb::kMaxKey) {
      ++rep.skipped_long_aliases;
      return;
    }
    add_raw_alias(key, surface == key, ids);
    std::vector<int64_t> list;
    std::string_view existing;
    if (txn_->get(alias_db_, key, existing)) {
      list.resize(existing.size() / sizeof(int64_t));
      std::memcpy(list.data(), existing.data(), existing.size());
    } else {
      ++rep.aliases;
    }
    const size_t before = list.size();
    for (int64_t id : ids) {
      auto it = meta_.find(id);
      if (it == meta_.end() || !it->second.has_desc) {
        ++rep.dropped_alias_links;
        continue;
      }
      if (std::find(list.begin(), list.end(), id) != list.end()) continue;
      list.push_back(id);
      ++rep.alias_links;
    }
    if (before > 0 && list.size() == before) return;
    // Stable: equal counts keep the alias table's order, as Python's sorted(reverse=True) does.
    std::stable_sort(list.begin(), list.end(), [&](int64_t a, int64_t b) { return meta_[a].count > meta_[b].count; });
    put(alias_db_, key, {reinterpret_cast<const char*>(list.data()), list.size() * sizeof(int64_t)});
  }

  /// The anchors table: alias -> (id, link count) pairs of 16 bytes, most linked first.
  void add_anchor_links(std::string_view alias_in, std::vector<std::pair<int64_t, uint64_t>> links) {
    std::string key = lower_case(clean(alias_in));
    if (key.empty() || key.size() > kb::kMaxKey || links.empty()) return;
    std::stable_sort(links.begin(), links.end(), [](auto& a, auto& b) { return a.second > b.second; });
    std::string v(links.size() * 16, '\0');
    for (size_t i = 0; i < links.size(); ++i) {
      std::memcpy(v.data() + 16 * i, &links[i].first, 8);
      std::memcpy(v.data() + 16 * i + 8, &links[i].second, 8);
    }
    put(anchor_db_, key, v);
  }

  /// The release's view of the alias table (records.h, release_aliases): kept for every key while
  /// building, then pruned by prune_raw_aliases() where it equals the sane view.
  void add_raw_alias(const std::string& key, bool exact, const std::vector<int64_t>& ids) {
    kb::RawAliasRecord r;
    std::string_view existing;
    if (txn_->get(raw_db_, key, existing)) r = kb::decode_raw_alias(existing);
    for (int64_t id : ids) {
      auto it = meta_.find(id);
      if (it == meta_.end() || !it->second.has_desc) continue;
      r.merged.push_back(id);
      if (exact) r.exact.push_back(id);
    }
    r.has_exact |= exact;
    put(raw_db_, key, kb::encode_raw_alias(r));
  }

  /// Drops the release records that say nothing the sane alias table does not: one lower-case
  /// surface form, no repeated id, already in count order. In chunks, so no write transaction grows
  /// without bound at release scale.
  void prune_raw_aliases() {
    std::string from;
    bool first = true;
    for (;;) {
      std::vector<std::string> redundant;
      bool more = false;
      {
        MDB_cursor* cur = nullptr;
        kb::check(mdb_cursor_open(txn_->get(), raw_db_, &cur), "LMDB cursor");
        MDB_val k = kb::val(from), v;
        int rc = mdb_cursor_get(cur, &k, &v, first ? MDB_FIRST : MDB_SET_RANGE);
        for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
          if (redundant.size() >= 100000) {
            more = true;
            from = std::string(kb::view(k));
            break;
          }
          auto r = kb::decode_raw_alias(kb::view(v));
          std::string_view sane;
          const bool has_sane = txn_->get(alias_db_, kb::view(k), sane);
          if (has_sane && r.has_exact && r.exact == r.merged && r.merged.size() * sizeof(int64_t) == sane.size() &&
              std::memcmp(r.merged.data(), sane.data(), sane.size()) == 0)
            redundant.emplace_back(kb::view(k));
        }
        mdb_cursor_close(cur);
      }
      first = false;
      for (const auto& key : redundant) {
        MDB_val k = kb::val(key);
        kb::check(mdb_del(txn_->get(), raw_db_, &k, nullptr), "LMDB delete");
      }
      txn_->commit();
      txn_ = std::make_unique<kb::Txn>(env_, false);
      pending_ = 0;
      if (!more) break;
    }
  }

  /// The title table: a title shared by several ids goes to the highest count (then the first read)
  /// in titles, and to the last read in release_titles (the release's reversed dict).
  void put_title(int64_t id, const Meta& m, KbBuildReport& rep) {
    MDB_val k = kb::val(m.title), v{sizeof id, const_cast<int64_t*>(&id)};
    int rc = mdb_put(txn_->get(), title_db_, &k, &v, MDB_NOOVERWRITE);
    if (rc != MDB_KEYEXIST) return kb::check(rc, "LMDB write");
    int64_t other;
    std::memcpy(&other, v.mv_data, sizeof other);
    const Meta& o = meta_.at(other);
    const bool better = m.count > o.count || (m.count == o.count && m.title_seq < o.title_seq);
    if (better) put(title_db_, m.title, {reinterpret_cast<const char*>(&id), sizeof id});
    int64_t last = other;
    std::string_view cur;
    if (txn_->get(release_title_db_, m.title, cur)) std::memcpy(&last, cur.data(), sizeof last);
    if (m.title_seq > meta_.at(last).title_seq) last = id;
    put(release_title_db_, m.title, {reinterpret_cast<const char*>(&last), sizeof last});
    if (rep.warnings.size() < 10)
      rep.warnings.push_back("title '" + m.title + "' names several entities; kept " + std::to_string(better ? id : other) +
                             " (highest count; --release-compat takes the last one read)");
  }

  void finish(KbBuildReport& rep, const std::string& built_from) {
    prune_raw_aliases();
    if (replaced_)
      rep.warnings.push_back(std::to_string(replaced_) + " title(s), description(s) or alias(es) held invalid UTF-8; the bad "
                             "bytes were replaced by U+FFFD");
    std::vector<int64_t> described;
    std::vector<std::vector<int64_t>> by_class(classes_.size());
    std::vector<uint64_t> class_counts(classes_.size());
    uint64_t progress_n = 0;
    for (auto& [id, m] : meta_) {
      if (!m.written) write_entity(id, m, "");
      if (!m.title.empty() && m.title.size() <= kb::kMaxKey) put_title(id, m, rep);
      if (m.cls >= 0) ++class_counts[m.cls];
      if (m.has_desc) {
        described.push_back(id);
        if (m.cls >= 0) by_class[m.cls].push_back(id);
      }
      if (opt_.progress && (++progress_n & 0xFFFF) == 0) opt_.progress("entities", progress_n, meta_.size());
    }
    auto put_list = [&](const std::string& key, std::vector<int64_t>& ids) {
      std::sort(ids.begin(), ids.end());
      put(list_db_, key, {reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(int64_t)});
    };
    put_list("described", described);
    for (size_t c = 0; c < by_class.size(); ++c) put_list("class/" + std::to_string(c), by_class[c]);
    rep.entities = meta_.size();
    rep.described = described.size();
    nlohmann::json info{{"format_version", kKbFormatVersion},
                        {"entities", rep.entities},
                        {"entities_with_description", rep.described},
                        {"aliases", rep.aliases},
                        {"built_from", built_from}};
    info["classes"] = nlohmann::json::array();
    for (size_t c = 0; c < classes_.size(); ++c) info["classes"].push_back({classes_[c], class_counts[c]});
    put(meta_db_, "info", info.dump());
    txn_->commit();
    txn_.reset();
    kb::check(mdb_env_sync(env_, 1), "LMDB sync");
  }

  std::unordered_map<int64_t, Meta> meta_;

 private:
  const KbBuildOptions& opt_;
  MDB_env* env_ = nullptr;
  std::unique_ptr<kb::Txn> txn_;
  MDB_dbi meta_db_{}, ent_db_{}, alias_db_{}, title_db_{}, list_db_{}, raw_db_{}, release_title_db_{}, anchor_db_{};
  size_t pending_ = 0;
  uint64_t title_seq_ = 0;
  uint64_t replaced_ = 0;  ///< text fields whose invalid UTF-8 was replaced
  std::vector<std::string> classes_;
  std::unordered_map<std::string, int32_t> class_ids_;
};

void read_types(kb::Writer& w, const std::string& path, const ProgressFn& progress) {
  if (is_pickle(ext_of(path))) {
    io::stream_pickle_dict(
        path,
        [&](const PickleValue& k, const PickleValue& v) {
          int64_t id = pickle_id(k, path, "key");
          if (!v.is_str()) throw FormatError(path + ": class of id " + std::to_string(id) + ": expected a str, found " + v.type_name());
          w.set_class(id, v.as_str());
        },
        [&](uint64_t d, uint64_t t) { if (progress) progress("types", d, t); });
    return;
  }
  if (ext_of(path) == ".csv") bad_ext("types", path, ".pickle, .pkl, .tsv or .jsonl");
  read_pairs(path, {"id"}, {"class"}, "id", "class", progress, "types",
             [&](int64_t id, const std::string& cls, size_t) { w.set_class(id, cls); });
}

void read_titles(kb::Writer& w, const std::string& path, const ProgressFn& progress) {
  if (is_pickle(ext_of(path))) {
    io::stream_pickle_dict(
        path,
        [&](const PickleValue& k, const PickleValue& v) {
          int64_t id = pickle_id(k, path, "key");
          if (!v.is_str()) throw FormatError(path + ": title of id " + std::to_string(id) + ": expected a str, found " + v.type_name());
          w.set_title(id, v.as_str());
        },
        [&](uint64_t d, uint64_t t) { if (progress) progress("titles", d, t); });
    return;
  }
  if (ext_of(path) == ".csv") bad_ext("titles", path, ".pickle, .pkl, .tsv or .jsonl");
  read_pairs(path, {"id"}, {"title"}, "id", "title", progress, "titles",
             [&](int64_t id, const std::string& t, size_t) { w.set_title(id, t); });
}

void read_aliases(kb::Writer& b, const std::string& path, const ProgressFn& progress) {
  const std::string e = ext_of(path);
  std::vector<int64_t> ids;
  if (is_pickle(e)) {
    io::stream_pickle_dict(
        path,
        [&](const PickleValue& k, const PickleValue& v) {
          if (!k.is_str()) throw FormatError(path + ": alias key: expected a str, found " + k.type_name());
          ids.clear();
          if (v.is_int()) {
            ids.push_back(v.as_int());
          } else if (v.is_sequence()) {
            for (const auto& x : v.as_node().items) ids.push_back(pickle_id(x, path, "alias '" + std::string(k.as_str()) + "'"));
          } else {
            throw FormatError(path + ": alias '" + std::string(k.as_str()) + "': expected a list of ids, found " + v.type_name());
          }
          b.add_alias(k.as_str(), ids);
        },
        [&](uint64_t d, uint64_t t) { if (progress) progress("aliases", d, t); });
    return;
  }
  if (e == ".jsonl") {
    for_each_line(path, [&](const std::string& line, size_t n) {
      auto j = parse_json_line(line, path, n);
      std::string alias = json_str(j, "alias", path, n);
      auto it = j.find("ids");
      if (it == j.end() || !it->is_array()) throw FormatError(location(path, n, "ids") + ": missing or not an array of ids");
      ids.clear();
      for (const auto& x : *it) {
        if (!x.is_number_integer()) throw FormatError(location(path, n, "ids") + ": expected integers, found " + x.type_name());
        ids.push_back(x.get<int64_t>());
      }
      b.add_alias(alias, ids);
    });
    return;
  }
  if (e != ".tsv") bad_ext("aliases", path, ".pickle, .pkl, .tsv or .jsonl");
  io::CsvReader r(path, '\t', false);
  std::vector<std::string> f;
  while (r.next(f)) {
    if (f.size() < 2) throw FormatError(location(path, r.line()) + ": expected 'alias<TAB>id[,id...]', found one field");
    ids.clear();
    for (size_t i = 1; i < f.size(); ++i) {
      std::string_view s = f[i];
      size_t start = 0;
      while (start <= s.size()) {
        size_t comma = s.find(',', start);
        std::string_view part = s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        int64_t id;
        if (!parse_int(part, id)) {
          if (r.line() == 1 && ids.empty()) goto next_record;  // header line
          throw FormatError(location(path, r.line(), "ids") + ": expected an integer, found '" + std::string(part) + "'");
        }
        ids.push_back(id);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    }
    b.add_alias(f[0], ids);
  next_record:;
  }
}

void read_counts(kb::Writer& w, const std::string& path, const ProgressFn& progress) {
  read_pairs(path, {"page_id", "id"}, {"counts", "count"}, "id", "count", progress, "counts",
             [&](int64_t id, const std::string& c, size_t line) { w.set_count(id, require_int(c, path, line, "counts")); });
}

void read_descriptions(kb::Writer& w, const std::string& path, const ProgressFn& progress) {
  read_pairs(path, {"text_id", "page_id", "id"}, {"text", "description"}, "id", "text", progress, "descriptions",
             [&](int64_t id, const std::string& text, size_t) { w.add_entity(id, text); });
}

/// A whole KB in JSON Lines; its aliases are added once every entity is in (deferred).
void read_entities(kb::Writer& w, const std::string& path, std::vector<std::pair<std::string, int64_t>>& deferred) {
  for_each_line(path, [&](const std::string& line, size_t n) {
    auto j = parse_json_line(line, path, n);
    int64_t id = json_int(j, "id", path, n);
    if (j.contains("title")) w.set_title(id, json_str(j, "title", path, n));
    if (j.contains("count")) w.set_count(id, json_int(j, "count", path, n));
    if (j.contains("class") && !j["class"].is_null()) w.set_class(id, json_str(j, "class", path, n));
    if (auto a = j.find("aliases"); a != j.end()) {
      if (!a->is_array()) throw FormatError(location(path, n, "aliases") + ": expected an array of strings");
      for (const auto& s : *a) {
        if (!s.is_string()) throw FormatError(location(path, n, "aliases") + ": expected strings, found " + s.type_name());
        deferred.emplace_back(s.get<std::string>(), id);
      }
    }
    if (j.contains("description") && !j["description"].is_null()) w.add_entity(id, json_str(j, "description", path, n));
  });
}

}  // namespace

const std::vector<KbSourceFormat>& kb_source_formats() {
  static const std::vector<KbSourceFormat> formats = {
      {&KbSources::types, "types", "NER classes: id -> class", ".pickle/.pkl (dict str(id) -> class, the release's id2ner), .tsv (id TAB class), .jsonl {\"id\",\"class\"}"},
      {&KbSources::titles, "titles", "page titles: id -> title", ".pickle/.pkl (dict int -> str), .tsv (id TAB title), .jsonl {\"id\",\"title\"}"},
      {&KbSources::counts, "counts", "link counts: id -> count", ".csv (page_id,counts), .tsv (id TAB count), .jsonl {\"id\",\"count\"}"},
      {&KbSources::entities, "entities", "a whole KB in one file (fields other than id optional)",
       ".jsonl {\"id\",\"title\",\"description\",\"count\",\"class\",\"aliases\":[...]}"},
      {&KbSources::descriptions, "descriptions", "entity descriptions: id -> text", ".csv (text_id,text), .tsv (id TAB text), .jsonl {\"id\",\"text\"}"},
      {&KbSources::aliases, "aliases", "alias table: alias -> candidate ids",
       ".pickle/.pkl (dict str -> list[int]), .tsv (alias TAB id[,id...]), .jsonl {\"alias\",\"ids\"}"},
  };
  return formats;
}

namespace kb {

namespace {
}  // namespace

struct Writer::Impl {
  fs::path out, tmp, compact;
  KbBuildOptions options;
  std::unique_ptr<Builder> builder;
  KbBuildReport report;
  bool finished = false;
};

void Writer::check_output(const std::string& out_dir, const KbBuildOptions& options) {
  const fs::path out(out_dir);
  if (fs::exists(out) && !options.overwrite)
    throw InvalidArgument(out_dir + " already exists; choose another directory or pass --force to replace it");
  if (fs::exists(out) && !fs::is_regular_file(out / "data.mdb"))
    throw InvalidArgument(out_dir + " exists and is not a knowledge base; it is left as it is (choose another directory)");
}

Writer::Writer(const std::string& out_dir, const KbBuildOptions& options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.options = options;
  m.out = out_dir;
  check_output(out_dir, options);
  remove_stale_temporaries(m.out);
  m.tmp = m.out.string() + ".tmp-" + std::to_string(::getpid());
  m.compact = m.out.string() + ".tmp-" + std::to_string(::getpid()) + "-compact";
  fs::remove_all(m.tmp);
  fs::remove_all(m.compact);
  fs::create_directories(m.tmp);
  fs::create_directories(m.compact);
  m.builder = std::make_unique<Builder>(m.tmp.string(), m.options);
}

Writer::~Writer() {
  if (impl_->finished) return;
  impl_->builder.reset();
  std::error_code ec;
  fs::remove_all(impl_->tmp, ec);
  fs::remove_all(impl_->compact, ec);
}

void Writer::set_title(int64_t id, std::string_view title) { impl_->builder->set_title(id, std::string(title)); }
void Writer::set_count(int64_t id, int64_t count) { impl_->builder->meta_[id].count = count; }
void Writer::set_class(int64_t id, std::string_view cls) {
  impl_->builder->meta_[id].cls = impl_->builder->class_id(std::string(cls));
}
void Writer::set_class_if_missing(int64_t id, std::string_view cls) {
  if (cls.empty()) return;
  Meta& m = impl_->builder->meta_[id];
  if (m.cls < 0) m.cls = impl_->builder->class_id(std::string(cls));
}
void read_types_file(Writer& writer, const std::string& path, const ProgressFn& progress) {
  if (!fs::is_regular_file(path)) throw NotFound(path + ": no such file");
  read_types(writer, path, progress);
}
void Writer::add_entity(int64_t id, std::string_view description) {
  Meta& m = impl_->builder->meta_[id];
  m.has_desc = true;
  impl_->builder->write_entity(id, m, description);
}
void Writer::add_alias(std::string_view surface, const std::vector<int64_t>& ids) {
  impl_->builder->add_alias(std::string(surface), ids, impl_->report);
}
void Writer::add_alias_links(std::string_view alias, const std::vector<std::pair<int64_t, uint64_t>>& links) {
  impl_->builder->add_anchor_links(alias, links);
}

KbBuildReport Writer::finish(const std::string& built_from) {
  Impl& m = *impl_;
  m.builder->finish(m.report, built_from);
  if (m.options.progress) m.options.progress("compacting", 0, 0);
  m.builder->compact_to(m.compact.string());
  m.builder->write_alias_hash((m.compact / "aliases.hash").string(), m.report.aliases);
  m.builder.reset();
  fs::remove_all(m.tmp);
  if (fs::exists(m.out)) {  // the old KB goes only once the new one is in place
    const fs::path old = m.out.string() + ".old-" + std::to_string(::getpid());
    fs::rename(m.out, old);
    fs::rename(m.compact, m.out);
    fs::remove_all(old);
  } else {
    fs::rename(m.compact, m.out);
  }
  m.finished = true;
  return m.report;
}

}  // namespace kb

KbBuildReport build_knowledge_base(const KbSources& src, const std::string& out_dir, const KbBuildOptions& opt) {
  if (src.entities.empty() && (src.descriptions.empty() || src.aliases.empty()))
    throw InvalidArgument("a knowledge base needs --entities, or at least --aliases and --descriptions");
  // One reader per source, in the order the writer needs: what describes entities (small, into
  // memory), then the entities and their descriptions (straight into the store), then aliases.
  std::vector<std::pair<std::string, int64_t>> deferred;
  const std::vector<std::pair<const std::string*, std::function<void(kb::Writer&, const std::string&)>>> readers = {
      {&src.types, [&](kb::Writer& w, const std::string& p) { read_types(w, p, opt.progress); }},
      {&src.titles, [&](kb::Writer& w, const std::string& p) { read_titles(w, p, opt.progress); }},
      {&src.counts, [&](kb::Writer& w, const std::string& p) { read_counts(w, p, opt.progress); }},
      {&src.entities, [&](kb::Writer& w, const std::string& p) { read_entities(w, p, deferred); }},
      {&src.descriptions, [&](kb::Writer& w, const std::string& p) { read_descriptions(w, p, opt.progress); }},
      {&src.aliases,
       [&](kb::Writer& w, const std::string& p) {
         for (const auto& [alias, id] : deferred) w.add_alias(alias, {id});
         deferred.clear();
         read_aliases(w, p, opt.progress);
       }},
  };
  for (const auto& [path, read] : readers)
    if (!path->empty() && !fs::is_regular_file(*path)) throw NotFound(*path + ": no such file");
  kb::Writer writer(out_dir, opt);
  std::string from;
  for (const auto& [path, read] : readers)
    if (!path->empty()) {
      read(writer, *path);
      from += (from.empty() ? "" : " ") + fs::path(*path).filename().string();
    }
  for (const auto& [alias, id] : deferred) writer.add_alias(alias, {id});
  return writer.finish(from);
}

}  // namespace ner4el
