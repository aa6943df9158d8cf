#include "train/shards.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "io/mapped_file.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/files.h"
#include "ner4el/json.h"

namespace ner4el::train {

namespace fs = std::filesystem;

namespace {

constexpr char kFooterMagic[8] = {'N', '4', 'E', 'L', 'S', 'H', 'D', '1'};
constexpr uint64_t kMaxTokens = 1 << 16, kMaxCandidates = 1 << 16;

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string shard_name(size_t i) {
  char b[32];
  std::snprintf(b, sizeof b, "shard-%05zu.bin", i);
  return b;
}

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

template <class T>
T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writer

struct ShardWriter::Shard {
  std::ofstream out;
  std::vector<uint64_t> offsets{0};
  std::string path;
};

ShardWriter::ShardWriter(std::string dir, std::string key, uint64_t expected, uint64_t seed, uint64_t per_shard)
    : dir_(std::move(dir)), tmp_(dir_ + ".tmp"), key_(std::move(key)), seed_(seed) {
  fs::remove_all(tmp_);  // what a killed run left
  fs::create_directories(tmp_);
  const uint64_t n = std::clamp<uint64_t>((expected + per_shard - 1) / std::max<uint64_t>(per_shard, 1), 1, 512);
  for (uint64_t i = 0; i < n; ++i) {
    auto s = std::make_unique<Shard>();
    s->path = (fs::path(tmp_) / shard_name(i)).string();
    s->out.open(s->path, std::ios::binary);
    if (!s->out) throw Error("cannot write " + s->path);
    shards_.push_back(std::move(s));
  }
}

ShardWriter::~ShardWriter() {
  if (finished_) return;
  // Not finished (an error part-way: a bad example, a full disk): the partial set goes. A killed
  // run leaves DIR.tmp, which the next writer removes.
  shards_.clear();
  std::error_code ec;
  fs::remove_all(tmp_, ec);
}

void ShardWriter::add(const ShardExample& e) {
  Shard& s = *shards_[mix(seed_ ^ mix(added_)) % shards_.size()];
  std::string r;
  r.reserve(16 + e.mention_ids.size() * 4 + e.candidates.size() * 8);
  put<int32_t>(r, e.mention_position);
  put<int32_t>(r, e.gold);
  put<uint32_t>(r, static_cast<uint32_t>(e.mention_ids.size()));
  put<uint32_t>(r, static_cast<uint32_t>(e.candidates.size()));
  for (int32_t t : e.mention_ids) put<int32_t>(r, t);
  for (int64_t c : e.candidates) put<int64_t>(r, c);
  s.out.write(r.data(), static_cast<std::streamsize>(r.size()));
  s.offsets.push_back(s.offsets.back() + r.size());
  ++added_;
}

void ShardWriter::finish(uint64_t dropped) {
  for (auto& s : shards_) {
    std::string tail;
    for (uint64_t o : s->offsets) put<uint64_t>(tail, o);
    put<uint64_t>(tail, s->offsets.size() - 1);
    tail.append(kFooterMagic, 8);
    s->out.write(tail.data(), static_cast<std::streamsize>(tail.size()));
    s->out.close();
    if (!s->out) throw Error("cannot write " + s->path + " (disk full?)");
  }
  nlohmann::json meta{{"format", "ner4el-train-shards"}, {"version", kShardVersion}, {"key", key_},
                      {"shards", shards_.size()}, {"examples", added_}, {"dropped", dropped}};
  {
    std::ofstream m(fs::path(tmp_) / "meta.json");
    m << meta.dump(2) << "\n";
    if (!m) throw Error("cannot write " + tmp_ + "/meta.json");
  }
  replace_dir(tmp_, dir_);
  finished_ = true;
}

// ---------------------------------------------------------------------------------------------
// Reader

struct ShardedSet::Impl {
  struct File {
    io::MappedFile map;
    uint64_t count = 0, index_at = 0;  // offsets table position
  };
  std::vector<File> files;
};

ShardedSet::ShardedSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ShardedSet::~ShardedSet() = default;
ShardedSet::ShardedSet(ShardedSet&&) noexcept = default;
size_t ShardedSet::shards() const { return impl_->files.size(); }

std::optional<ShardedSet> ShardedSet::open(const std::string& dir, const std::string& key) {
  const fs::path meta_path = fs::path(dir) / "meta.json";
  if (!fs::exists(meta_path)) return std::nullopt;
  std::ifstream in(meta_path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (text.size() > (1 << 16)) throw FormatError(meta_path.string() + ": implausibly large (" + std::to_string(text.size()) + " bytes)");
  const nlohmann::json m = parse_json(text, meta_path.string());
  auto field = [&](const char* f) -> const nlohmann::json& {
    if (!m.is_object() || !m.contains(f)) throw FormatError(location(meta_path.string(), 0, f) + ": missing");
    return m[f];
  };
  if (!field("key").is_string() || !field("version").is_number_integer() || field("key") != key || field("version") != kShardVersion)
    return std::nullopt;  // another run's data: prepared again
  for (const char* f : {"shards", "examples", "dropped"})
    if (!field(f).is_number_unsigned()) throw FormatError(location(meta_path.string(), 0, f) + ": expected a non-negative integer");
  const uint64_t shards = field("shards").get<uint64_t>();
  if (shards == 0 || shards > 4096) throw FormatError(location(meta_path.string(), 0, "shards") + ": expected 1 to 4096");
  auto impl = std::make_unique<Impl>();
  uint64_t total = 0;
  for (uint64_t i = 0; i < shards; ++i) {
    const std::string path = (fs::path(dir) / shard_name(i)).string();
    Impl::File f{io::MappedFile(path)};
    const auto b = f.map.bytes();
    if (b.size() < 16 || std::memcmp(b.data() + b.size() - 8, kFooterMagic, 8) != 0)
      throw FormatError(path + ": not a training shard (no footer; the file is truncated or of another kind)");
    f.count = get<uint64_t>(b.data() + b.size() - 16);
    const uint64_t index_bytes = (b.size() - 16);
    if (f.count >= index_bytes / 8) throw FormatError(path + ": record count " + std::to_string(f.count) + " does not fit the file");
    f.index_at = index_bytes - (f.count + 1) * 8;
    if (get<uint64_t>(b.data() + f.index_at) != 0 || get<uint64_t>(b.data() + f.index_at + f.count * 8) != f.index_at)
      throw FormatError(path + " (byte " + std::to_string(f.index_at) + "): offsets table does not span the records");
    total += f.count;
    impl->files.push_back(std::move(f));
  }
  if (total != field("examples").get<uint64_t>())
    throw FormatError(location(meta_path.string(), 0, "examples") + ": says " + field("examples").dump() + ", the shards hold " +
                      std::to_string(total));
  ShardedSet set(std::move(impl));
  set.total_ = total;
  set.dropped_ = field("dropped").get<uint64_t>();
  return set;
}

ShardExample ShardedSet::read(uint32_t shard, uint64_t record) const {
  if (shard >= impl_->files.size()) throw InvalidArgument("no shard " + std::to_string(shard));
  const auto& f = impl_->files[shard];
  if (record >= f.count) throw InvalidArgument("no record " + std::to_string(record) + " in " + f.map.path());
  const char* base = f.map.bytes().data();
  const uint64_t begin = get<uint64_t>(base + f.index_at + record * 8), end = get<uint64_t>(base + f.index_at + record * 8 + 8);
  auto bad = [&](const std::string& what) {
    return FormatError(f.map.path() + " (record " + std::to_string(record) + ", byte " + std::to_string(begin) + "): " + what);
  };
  if (begin > end || end > f.index_at || end - begin < 16) throw bad("offsets out of order or outside the records");
  const char* p = base + begin;
  ShardExample e;
  e.mention_position = get<int32_t>(p);
  e.gold = get<int32_t>(p + 4);
  const uint64_t tokens = get<uint32_t>(p + 8), candidates = get<uint32_t>(p + 12);
  if (tokens > kMaxTokens || candidates > kMaxCandidates || 16 + tokens * 4 + candidates * 8 != end - begin)
    throw bad("sizes " + std::to_string(tokens) + " tokens, " + std::to_string(candidates) + " candidates do not match the record's " +
              std::to_string(end - begin) + " bytes");
  if (e.mention_position < 0 || static_cast<uint64_t>(e.mention_position) >= std::max<uint64_t>(tokens, 1))
    throw bad("mention position " + std::to_string(e.mention_position) + " outside its " + std::to_string(tokens) + " tokens");
  if (e.gold < 0 || static_cast<uint64_t>(e.gold) >= candidates)
    throw bad("gold index " + std::to_string(e.gold) + " outside its " + std::to_string(candidates) + " candidates");
  e.mention_ids.resize(tokens);
  std::memcpy(e.mention_ids.data(), p + 16, tokens * 4);
  e.candidates.resize(candidates);
  std::memcpy(e.candidates.data(), p + 16 + tokens * 4, candidates * 8);
  return e;
}

void ShardedSet::release(uint32_t shard) const {
  if (shard < impl_->files.size()) const_cast<io::MappedFile&>(impl_->files[shard].map).drop_pages();
}

ShardedSet::Order ShardedSet::epoch_order(uint64_t seed, int epoch, size_t group) const {
  Order o;
  o.set_ = this;
  o.seed_ = mix(seed * 7919 + static_cast<uint64_t>(epoch));
  o.group_ = std::max<size_t>(group, 1);
  o.shard_order_.resize(impl_->files.size());
  std::iota(o.shard_order_.begin(), o.shard_order_.end(), 0u);
  std::mt19937_64 rng(o.seed_);
  std::shuffle(o.shard_order_.begin(), o.shard_order_.end(), rng);
  return o;
}

bool ShardedSet::Order::next(uint32_t& shard, uint64_t& record) {
  while (at_ >= current_.size()) {
    for (size_t g = group_begin_; g < next_group_; ++g) set_->release(shard_order_[g]);  // the finished group's pages
    current_.clear();
    group_begin_ = next_group_;
    at_ = 0;
    if (next_group_ >= shard_order_.size()) return false;
    const size_t end = std::min(shard_order_.size(), next_group_ + group_);
    for (size_t g = next_group_; g < end; ++g)
      for (uint64_t r = 0; r < set_->impl_->files[shard_order_[g]].count; ++r) current_.emplace_back(shard_order_[g], r);
    std::mt19937_64 rng(seed_ ^ mix(next_group_ + 1));
    std::shuffle(current_.begin(), current_.end(), rng);
    next_group_ = end;
  }
  std::tie(shard, record) = current_[at_++];
  ++position_;
  return true;
}

}  // namespace ner4el::train
