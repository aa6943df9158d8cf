#include <cstring>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kb/alias_hash.h"
#include "kb/lmdb.h"
#include "kb/records.h"
#include "ner4el/error.h"
#include "ner4el/kb.h"
#include "ner4el/tokenizer.h"

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
      if (txn_) {
        kb::check(mdb_txn_renew(txn_), "LMDB renew");
      } else {
        kb::check(mdb_txn_begin(impl_.env, nullptr, MDB_RDONLY, &txn_), "LMDB read transaction");
      }
    }
    ~PooledTxn() {
      mdb_txn_reset(txn_);
      std::lock_guard<std::mutex> lock(impl_.pool_mutex);
      impl_.pool.push_back(txn_);
    }
    bool get(MDB_dbi db, std::string_view key, std::string_view& out) const {
      MDB_val k = kb::val(key), v;
      int rc = mdb_get(txn_, db, &k, &v);
      if (rc == MDB_NOTFOUND) return false;
      kb::check(rc, "LMDB read");
      out = kb::view(v);
      return true;
    }

   private:
    Impl& impl_;
    MDB_txn* txn_ = nullptr;
  };
  std::mutex pool_mutex;
  std::vector<MDB_txn*> pool;

  MDB_env* env = nullptr;
  MDB_dbi meta{}, entities{}, aliases{}, titles{}, lists{}, raw_aliases{}, release_titles{};
  bool release_views = false;
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
  std::span<const int64_t> list(const std::string& key) {
    MDB_val k = kb::val(key), v;
    int rc = mdb_get(pin, lists, &k, &v);
    if (rc == MDB_NOTFOUND) return {};
    kb::check(rc, "LMDB read of list " + key);
    size_t n = v.mv_size / sizeof(int64_t);
    if (reinterpret_cast<uintptr_t>(v.mv_data) % alignof(int64_t) != 0) {
      auto& copy = unaligned_copies.emplace_back(n);
      std::memcpy(copy.data(), v.mv_data, n * sizeof(int64_t));
      return copy;
    }
    return {static_cast<const int64_t*>(v.mv_data), n};
  }
};

KnowledgeBase::KnowledgeBase(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KnowledgeBase::~KnowledgeBase() = default;
KnowledgeBase::KnowledgeBase(KnowledgeBase&&) noexcept = default;
KnowledgeBase& KnowledgeBase::operator=(KnowledgeBase&&) noexcept = default;

namespace {
/// LMDB maps data.mdb and trusts it: a truncated file faults (SIGBUS) on the first read past its end.
/// Its two meta pages (LMDB 0.9's layout: page header 16 bytes, then magic, version, address,
/// map size, two 48-byte table records, last page, transaction id) say how many pages the newest
/// transaction uses; the file must hold them all.
void check_lmdb_file(const fs::path& file, const std::string& dir) {
  auto corrupt = [&](const std::string& why) {
    return FormatError(dir + ": corrupt knowledge base (data.mdb " + why + "); rebuild it with 'ner4el kb build'");
  };
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw corrupt("is not a regular file");
  const uint64_t size = fs::file_size(file, ec);
  std::ifstream in(file, std::ios::binary);
  char meta[2][160];
  in.read(meta[0], 160);
  if (!in || size < 2 * 160) throw corrupt("is too short for its meta pages");
  auto u32 = [](const char* p, size_t off) { uint32_t v; std::memcpy(&v, p + off, 4); return v; };
  auto u64 = [](const char* p, size_t off) { uint64_t v; std::memcpy(&v, p + off, 8); return v; };
  const uint32_t psize = u32(meta[0], 40);  // the free table's md_pad holds the page size
  if (u32(meta[0], 16) != 0xBEEFC0DE || psize < 512 || psize > (1u << 16) || (psize & (psize - 1)))
    throw corrupt("has no LMDB meta page");
  in.seekg(static_cast<std::streamoff>(psize));
  in.read(meta[1], 160);
  const bool second = in && u32(meta[1], 16) == 0xBEEFC0DE && u64(meta[1], 144) > u64(meta[0], 144);
  const uint64_t last_page = u64(meta[second ? 1 : 0], 136);
  if (last_page >= size / psize || size / psize - last_page < 1)
    throw corrupt("is truncated: " + std::to_string(size) + " bytes, its last page " + std::to_string(last_page) +
                  " of " + std::to_string(psize) + " bytes ends past them");
}
}  // namespace

KnowledgeBase KnowledgeBase::open(const std::string& dir) {
  if (!fs::exists(fs::path(dir) / "data.mdb"))
    throw NotFound(dir + ": no knowledge base here (expected data.mdb; build one with 'ner4el kb build')");
  check_lmdb_file(fs::path(dir) / "data.mdb", dir);
  auto impl = std::make_unique<Impl>();
  kb::check(mdb_env_create(&impl->env), "LMDB");
  mdb_env_set_maxdbs(impl->env, 8);
  mdb_env_set_maxreaders(impl->env, 1024);
  // Read-only and lock-free: a KB is immutable once built, so readers need no lock file and the
  // directory may be read-only. NOTLS lets a thread use transactions begun on another.
  int rc = mdb_env_open(impl->env, dir.c_str(), MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS | MDB_NORDAHEAD, 0644);
  if (rc != MDB_SUCCESS) throw FormatError(dir + ": cannot open the knowledge base: " + mdb_strerror(rc));
  // Table handles opened in a transaction become shared only when it commits.
  MDB_txn* setup = nullptr;
  kb::check(mdb_txn_begin(impl->env, nullptr, MDB_RDONLY, &setup), dir);
  auto open_db = [&](const char* name, unsigned flags, MDB_dbi& dbi) {
    int r = mdb_dbi_open(setup, name, flags, &dbi);
    if (r != MDB_SUCCESS) mdb_txn_abort(setup);
    if (r != MDB_SUCCESS)
      throw FormatError(dir + ": the knowledge base has no '" + name + "' table (" + mdb_strerror(r) +
                        "); rebuild it with 'ner4el kb build'");
  };
  open_db("meta", 0, impl->meta);
  open_db("entities", MDB_INTEGERKEY, impl->entities);
  open_db("aliases", 0, impl->aliases);
  open_db("titles", 0, impl->titles);
  open_db("lists", 0, impl->lists);
  // Format 3 tables: absent from older KBs (then --release-compat asks for a rebuild).
  impl->release_views = mdb_dbi_open(setup, "release_aliases", 0, &impl->raw_aliases) == MDB_SUCCESS &&
                        mdb_dbi_open(setup, "release_titles", 0, &impl->release_titles) == MDB_SUCCESS;
  kb::check(mdb_txn_commit(setup), dir);
  kb::check(mdb_txn_begin(impl->env, nullptr, MDB_RDONLY, &impl->pin), dir);
  MDB_val k = kb::val("info"), v;
  if (mdb_get(impl->pin, impl->meta, &k, &v) != MDB_SUCCESS) throw FormatError(dir + ": knowledge base without 'info' record");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(kb::view(v));
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(dir + ": corrupt 'info' record: " + e.what());
  }
  KbInfo& info = impl->info;
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
  for (const auto& c : j.value("classes", nlohmann::json::array()))
    info.classes.emplace_back(c.at(0).get<std::string>(), c.at(1).get<uint64_t>());
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
  std::memcpy(ids.data(), v.data(), ids.size() * sizeof(int64_t));
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
