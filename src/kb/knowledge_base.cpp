#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kb/alias_hash.h"
#include "kb/lmdb.h"
#include "kb/lmdb_verify.h"
#include "io/map_guard.h"
#include "kb/records.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/json.h"
#include "ner4el/kb.h"
#include "ner4el/text.h"

namespace ner4el {

namespace fs = std::filesystem;

struct KnowledgeBase::Impl {
  // Read transactions are recycled (reset/renew) instead of begun afresh for every look-up:
  // beginning one allocates, and a look-up is otherwise a few hundred nanoseconds.
  class PooledTxn {
   public:
    explicit PooledTxn(Impl& impl) : impl_(impl) {
      {
        std::lock_guard<std::mutex> lock(impl_.pool_mutex);
        if (!impl_.pool.empty()) {
          txn_ = impl_.pool.back();
          impl_.pool.pop_back();
        }
      }
      int rc = MDB_SUCCESS;
      if (txn_) {
        impl_.guard([&] { rc = mdb_txn_renew(txn_); });
        kb::check(rc, "LMDB renew");
      } else {
        impl_.guard([&] { rc = mdb_txn_begin(impl_.env, nullptr, MDB_RDONLY, &txn_); });
        kb::check(rc, "LMDB read transaction");
      }
    }
    ~PooledTxn() {
      mdb_txn_reset(txn_);
      std::lock_guard<std::mutex> lock(impl_.pool_mutex);
      impl_.pool.push_back(txn_);
    }
    bool get(MDB_dbi db, std::string_view key, std::string_view& out) const {
      return impl_.get(txn_, db, key, out);
    }

   private:
    Impl& impl_;
    MDB_txn* txn_ = nullptr;
  };
  std::mutex pool_mutex;
  std::vector<MDB_txn*> pool;

  MDB_env* env = nullptr;
  MDB_dbi meta{}, entities{}, aliases{}, titles{}, lists{}, raw_aliases{}, release_titles{}, anchors{};
  bool release_views = false;
  bool has_anchors = false;  ///< the anchors table (KBs built since the Wikipedia importer)
  MDB_txn* pin = nullptr;  // long-lived read transaction: keeps the id lists below valid
  KbInfo info;
  std::unique_ptr<kb::AliasHash> alias_hash;  // format version 2; version 1 KBs use the B-tree
  std::span<const int64_t> described;
  std::vector<std::span<const int64_t>> by_class;
  std::vector<std::vector<int64_t>> unaligned_copies;  // only when LMDB gave misaligned lists
  ~Impl() {
    for (MDB_txn* t : pool) mdb_txn_abort(t);
    if (pin) mdb_txn_abort(pin);
    if (env) mdb_env_close(env);
  }
  // The map (io/map_guard.h): LMDB calls run guarded, and what they return must lie in the file.
  io::FaultHandlers fault_handlers;  ///< while this KB is open (before the map it guards)
  const char* map = nullptr;
  size_t map_size = 0, readable = 0;
  std::string corrupt;  ///< the message of a corrupt KB
  /// Runs an LMDB call under the map's guard (when the map is known).
  template <class F>
  void guard(F&& f) const {
    if (map) io::guarded(map, map_size, corrupt, f);
    else f();
  }
  bool get(MDB_txn* txn, MDB_dbi db, std::string_view key, std::string_view& out) const {
    MDB_val k = kb::val(key), v{};
    int rc = MDB_SUCCESS;
    guard([&] { rc = mdb_get(txn, db, &k, &v); });
    if (rc == MDB_NOTFOUND) return false;
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND) throw FormatError(corrupt + " (" + mdb_strerror(rc) + ")");
    kb::check(rc, "LMDB read");
    const char* p = static_cast<const char*>(v.mv_data);
    if (map && (!p || p < map || v.mv_size > readable || static_cast<size_t>(p - map) > readable - v.mv_size))
      throw FormatError(corrupt + " (a value lies outside data.mdb)");
    out = kb::view(v);
    return true;
  }
  std::span<const int64_t> list(const std::string& key) {
    std::string_view v;
    if (!get(pin, lists, key, v)) return {};
    const size_t n = v.size() / sizeof(int64_t);
    if (n == 0) return {};
    if (reinterpret_cast<uintptr_t>(v.data()) % alignof(int64_t) != 0) {
      auto& copy = unaligned_copies.emplace_back(n);
      std::memcpy(copy.data(), v.data(), n * sizeof(int64_t));
      return copy;
    }
    return {reinterpret_cast<const int64_t*>(v.data()), n};
  }
};

KnowledgeBase::KnowledgeBase(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KnowledgeBase::~KnowledgeBase() = default;
KnowledgeBase::KnowledgeBase(KnowledgeBase&&) noexcept = default;
KnowledgeBase& KnowledgeBase::operator=(KnowledgeBase&&) noexcept = default;

namespace {
/// The address ranges where this process maps the file (from /proc/self/maps, by device and inode).
struct Mapping {
  uintptr_t lo = 0, hi = 0;
  bool operator==(const Mapping&) const = default;
};
std::vector<Mapping> mappings_of(const fs::path& file) {
  std::vector<Mapping> out;
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long lo = 0, hi = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu", &lo, &hi, perms, &offset, &major, &minor, &inode) != 7) continue;
    if (inode == st.st_ino && makedev(major, minor) == st.st_dev && offset == 0) out.push_back({lo, hi});
  }
  return out;
}
/// The mapping of the file that is new since `before` (should another thread have mapped the same
/// file meanwhile, the span of both); {0, 0} when it cannot be told (no /proc): then nothing is
/// guarded or checked.
struct NewMapping {
  uintptr_t lo = 0, hi = 0;
  int count = 0;
};
NewMapping new_mapping(const fs::path& file, const std::vector<Mapping>& before) {
  NewMapping out;
  for (const auto& m : mappings_of(file))
    if (std::find(before.begin(), before.end(), m) == before.end()) {
      out.lo = out.count ? std::min(out.lo, m.lo) : m.lo;
      out.hi = std::max(out.hi, m.hi);
      ++out.count;
    }
  return out;
}

}  // namespace

KnowledgeBase KnowledgeBase::open(const std::string& dir) {
  if (!fs::exists(fs::path(dir) / "data.mdb"))
    throw NotFound(dir + ": no knowledge base here (expected data.mdb; build one with 'ner4el kb build')");
  // LMDB maps data.mdb and trusts it: a truncated file faults (SIGBUS) on the first read past its
  // end, so its meta pages are checked first.
  const kb::LmdbMeta lmdb_meta = kb::check_lmdb_meta((fs::path(dir) / "data.mdb").string(), dir);
  auto impl = std::make_unique<Impl>();
  const std::vector<Mapping> maps_before = mappings_of(fs::path(dir) / "data.mdb");
  kb::check(mdb_env_create(&impl->env), "LMDB");
  mdb_env_set_maxdbs(impl->env, 8);
  mdb_env_set_maxreaders(impl->env, 1024);
  // Read-only and lock-free: a KB is immutable once built, so readers need no lock file and the
  // directory may be read-only. NOTLS lets a thread use transactions begun on another.
  int rc = mdb_env_open(impl->env, dir.c_str(), MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS | MDB_NORDAHEAD, 0644);
  if (rc != MDB_SUCCESS) throw FormatError(dir + ": cannot open the knowledge base: " + mdb_strerror(rc));
  // LMDB does not say where it mapped the file: the mapping of data.mdb that opening it added.
  const NewMapping mapped = new_mapping(fs::path(dir) / "data.mdb", maps_before);
  impl->map = reinterpret_cast<const char*>(mapped.lo);
  impl->map_size = mapped.hi - mapped.lo;
  // Values must lie in the file's bytes; with two new maps (another thread opened the same file),
  // anywhere in their span.
  impl->readable = mapped.count == 1 ? std::min<size_t>(fs::file_size(fs::path(dir) / "data.mdb"), impl->map_size) : impl->map_size;
  impl->corrupt = dir + ": corrupt knowledge base (data.mdb); rebuild it with 'ner4el kb build'";
  // LMDB trusts every page it reads; a crafted page can send it past the file (the guard turns that
  // into an error) or round a loop for minutes. So the pages are checked first (kb/lmdb_verify.h):
  // always for a KB of up to 256 MiB (milliseconds), for a bigger one with NER4EL_KB_VERIFY=1
  // (NER4EL_KB_VERIFY=0: never, leaving only the fault guard; for tests of the guard).
  const char* verify = std::getenv("NER4EL_KB_VERIFY");
  const bool walk = verify && *verify ? std::string(verify) != "0" : impl->readable <= (size_t{256} << 20);
  if (impl->map && walk) {
    impl->guard([&] { kb::verify_lmdb_pages(impl->map, lmdb_meta, dir); });
    // The walk touched every page; let them go (they stay in the page cache, LMDB maps them again).
    ::madvise(const_cast<char*>(impl->map), impl->readable, MADV_DONTNEED);
  }
  // Table handles opened in a transaction become shared only when it commits.
  MDB_txn* setup = nullptr;
  impl->guard([&] { rc = mdb_txn_begin(impl->env, nullptr, MDB_RDONLY, &setup); });
  kb::check(rc, dir);
  auto open_db = [&](const char* name, unsigned flags, MDB_dbi& dbi) {
    int r = mdb_dbi_open(setup, name, flags, &dbi);
    if (r != MDB_SUCCESS)
      throw FormatError(dir + ": the knowledge base has no '" + name + "' table (" + mdb_strerror(r) +
                        "); rebuild it with 'ner4el kb build'");
  };
  try {
    impl->guard([&] {
      open_db("meta", 0, impl->meta);
      open_db("entities", MDB_INTEGERKEY, impl->entities);
      open_db("aliases", 0, impl->aliases);
      open_db("titles", 0, impl->titles);
      open_db("lists", 0, impl->lists);
      // Format 3 tables: absent from older KBs (then --release-compat asks for a rebuild).
      impl->release_views = mdb_dbi_open(setup, "release_aliases", 0, &impl->raw_aliases) == MDB_SUCCESS &&
                            mdb_dbi_open(setup, "release_titles", 0, &impl->release_titles) == MDB_SUCCESS;
      impl->has_anchors = mdb_dbi_open(setup, "anchors", 0, &impl->anchors) == MDB_SUCCESS;
    });
  } catch (...) {
    mdb_txn_abort(setup);
    throw;
  }
  impl->guard([&] { rc = mdb_txn_commit(setup); });
  kb::check(rc, dir);
  impl->guard([&] { rc = mdb_txn_begin(impl->env, nullptr, MDB_RDONLY, &impl->pin); });
  kb::check(rc, dir);
  std::string_view info_text;
  if (!impl->get(impl->pin, impl->meta, "info", info_text)) throw FormatError(dir + ": knowledge base without 'info' record");
  nlohmann::json j = parse_json(info_text, dir + ": corrupt 'info' record");
  KbInfo& info = impl->info;
  // The info record's fields, each type-checked: a wrong type is a corrupt KB, named, not a crash.
  try {
    if (!j.is_object()) throw FormatError(dir + ": corrupt 'info' record (not an object)");
    info.format_version = j.value("format_version", 0u);
    if (info.format_version > kKbFormatVersion)
      throw FormatError(dir + ": knowledge base format version " + std::to_string(info.format_version) +
                        ", this build of ner4el reads versions up to " + std::to_string(kKbFormatVersion) +
                        "; upgrade ner4el or rebuild the KB with this version");
    if (info.format_version == 0) throw FormatError(dir + ": 'info' record has no format_version");
    info.entities = j.value("entities", 0ull);
    info.entities_with_description = j.value("entities_with_description", 0ull);
    info.aliases = j.value("aliases", 0ull);
    info.built_from = j.value("built_from", "");
    const auto classes = j.value("classes", nlohmann::json::array());
    if (classes.size() > 100000) throw FormatError(dir + ": corrupt 'info' record (field 'classes': too many)");
    for (const auto& c : classes) info.classes.emplace_back(c.at(0).get<std::string>(), c.at(1).get<uint64_t>());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(dir + ": corrupt 'info' record (" + e.what() + "); rebuild it with 'ner4el kb build'");
  }
  if (info.format_version >= 2) {
    const fs::path hash = fs::path(dir) / "aliases.hash";
    if (!fs::exists(hash)) throw FormatError(dir + ": aliases.hash is missing; rebuild the KB with 'ner4el kb build'");
    impl->alias_hash = std::make_unique<kb::AliasHash>(hash.string());
  }
  impl->release_views &= info.format_version >= 3;
  impl->described = impl->list("described");
  for (size_t c = 0; c < info.classes.size(); ++c) impl->by_class.push_back(impl->list("class/" + std::to_string(c)));
  return KnowledgeBase(std::move(impl));
}

const KbInfo& KnowledgeBase::info() const { return impl_->info; }

std::optional<KnowledgeBase::Brief> KnowledgeBase::brief(int64_t id) const {
  Impl::PooledTxn txn(*impl_);
  uint64_t key = static_cast<uint64_t>(id);
  std::string_view rec;
  if (!txn.get(impl_->entities, {reinterpret_cast<const char*>(&key), sizeof key}, rec)) return std::nullopt;
  auto e = kb::decode_entity_head(rec);
  return Brief{e.count, e.class_index, e.has_description};
}

std::optional<Entity> KnowledgeBase::entity(int64_t id) const {
  Impl::PooledTxn txn(*impl_);
  uint64_t key = static_cast<uint64_t>(id);
  std::string_view rec;
  if (!txn.get(impl_->entities, {reinterpret_cast<const char*>(&key), sizeof key}, rec)) return std::nullopt;
  Entity e = kb::decode_entity(rec);
  e.id = id;
  auto head = kb::decode_entity_head(rec);
  if (head.class_index >= 0) e.ner_class = class_name(head.class_index);
  return e;
}

std::optional<int64_t> KnowledgeBase::id_of_title(std::string_view title, bool release_last_wins) const {
  if (title.empty() || title.size() > kb::kMaxKey) return std::nullopt;
  Impl::PooledTxn txn(*impl_);
  std::string_view v;
  const bool release = release_last_wins && impl_->release_views && txn.get(impl_->release_titles, title, v);
  if (!release && !txn.get(impl_->titles, title, v)) return std::nullopt;
  if (v.size() != sizeof(int64_t)) throw FormatError("knowledge base: corrupt title record for '" + std::string(title) + "'");
  int64_t id;
  std::memcpy(&id, v.data(), sizeof id);
  return id;
}

std::optional<std::vector<int64_t>> KnowledgeBase::alias(std::string_view surface_form) const {
  std::string key = lower_case(surface_form);
  if (key.empty() || key.size() > kb::kMaxKey) return std::nullopt;
  if (impl_->alias_hash) return impl_->alias_hash->find(key);
  Impl::PooledTxn txn(*impl_);
  std::string_view v;
  if (!txn.get(impl_->aliases, key, v)) return std::nullopt;
  std::vector<int64_t> ids(v.size() / sizeof(int64_t));
  if (!ids.empty()) std::memcpy(ids.data(), v.data(), ids.size() * sizeof(int64_t));
  return ids;
}

bool KnowledgeBase::has_release_views() const { return impl_->release_views; }

std::optional<KnowledgeBase::RawAlias> KnowledgeBase::raw_alias(std::string_view surface_form) const {
  auto sane = alias(surface_form);
  if (!sane) return std::nullopt;
  if (impl_->release_views) {
    const std::string key = lower_case(surface_form);
    Impl::PooledTxn txn(*impl_);
    std::string_view v;
    if (txn.get(impl_->raw_aliases, key, v)) {
      auto r = kb::decode_raw_alias(v);
      RawAlias out{std::move(r.merged), std::nullopt};
      if (r.has_exact) out.exact = std::move(r.exact);
      return out;
    }
  }
  return RawAlias{*sane, *sane};  // no record: the release reads what the sane table holds
}

std::vector<std::pair<int64_t, uint64_t>> KnowledgeBase::anchor_counts(std::string_view surface_form) const {
  std::vector<std::pair<int64_t, uint64_t>> out;
  if (!impl_->has_anchors) return out;
  const std::string key = lower_case(surface_form);
  Impl::PooledTxn txn(*impl_);
  std::string_view v;
  if (!txn.get(impl_->anchors, key, v) || v.size() % 16 != 0) return out;
  out.resize(v.size() / 16);
  for (size_t i = 0; i < out.size(); ++i) {
    std::memcpy(&out[i].first, v.data() + 16 * i, 8);
    std::memcpy(&out[i].second, v.data() + 16 * i + 8, 8);
  }
  return out;
}

std::span<const int64_t> KnowledgeBase::described_entities() const { return impl_->described; }

std::span<const int64_t> KnowledgeBase::described_entities_of_class(int32_t c) const {
  if (c < 0 || static_cast<size_t>(c) >= impl_->by_class.size()) return {};
  return impl_->by_class[c];
}

int32_t KnowledgeBase::class_index(std::string_view name) const {
  for (size_t i = 0; i < impl_->info.classes.size(); ++i)
    if (impl_->info.classes[i].first == name) return static_cast<int32_t>(i);
  return -1;
}

const std::string& KnowledgeBase::class_name(int32_t index) const {
  static const std::string none;
  if (index < 0 || static_cast<size_t>(index) >= impl_->info.classes.size()) return none;
  return impl_->info.classes[index].first;
}

}  // namespace ner4el
