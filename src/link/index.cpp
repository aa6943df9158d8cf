#include "ner4el/index.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <chrono>
#include <thread>
#include <unordered_set>

#include "io/index_layout.h"
#include "io/map_guard.h"
#include "io/mapped_file.h"
#include "ner4el/error.h"
#include "ner4el/files.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {

constexpr char kPartialMagic[8] = {'N', '4', 'E', 'L', 'P', 'A', 'R', 'T'};

/// A partial file's 64-byte head: magic, then the model's fingerprint (16 characters).
bool partial_of_model(std::string_view b, const std::string& fp) {
  return b.size() >= 64 && std::memcmp(b.data(), kPartialMagic, 8) == 0 && b.substr(8, 16) == fp;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xFF, mant = x & 0x7FFFFF;
  if (exp == 0xFF) return static_cast<uint16_t>(sign | 0x7C00 | (mant ? 0x200 : 0));
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7C00);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (mant >> 13), rem = mant & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;  // round to nearest even
  return static_cast<uint16_t>(sign | half);
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF, x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3FF) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7F800000 | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

size_t align64(size_t n) { return (n + 63) / 64 * 64; }

}  // namespace

struct EntityIndex::Impl {
  io::FaultHandlers fault_handlers;  ///< while the map is open (declared before it)
  std::unique_ptr<io::MappedFile> file;
  std::string changed;               ///< the message of a file cut short under us
  std::string fingerprint;
  int dim = 0;
  bool fp16 = false;
  size_t count = 0;
  const char* ids = nullptr;
  const char* vectors = nullptr;
};

EntityIndex::EntityIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EntityIndex::~EntityIndex() = default;
EntityIndex::EntityIndex(EntityIndex&&) noexcept = default;
EntityIndex& EntityIndex::operator=(EntityIndex&&) noexcept = default;

EntityIndex EntityIndex::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->file = std::make_unique<io::MappedFile>(path);
  const std::string_view b = impl->file->bytes();
  const io::IndexLayout l = io::index_layout(b, path, kIndexFormatVersion);
  impl->fingerprint = l.fingerprint;
  impl->dim = l.dim;
  impl->fp16 = l.fp16;
  impl->count = l.count;
  impl->ids = b.data() + l.ids_offset;
  impl->vectors = b.data() + l.vectors_offset;
  impl->changed = path + ": the index was cut short or rewritten while open; rebuild it with 'ner4el index'";
  return EntityIndex(std::move(impl));
}

bool EntityIndex::vector(int64_t id, float* out) const {
  // Guarded: a file cut short in place under us faults (SIGBUS) past its new end. Only plain
  // values live in the read, so the unwinding skips no destructor.
  bool found = false;
  const std::string_view map = impl_->file->bytes();
  io::guarded(map.data(), map.size(), impl_->changed, [&] { found = read_vector(id, out); });
  return found;
}

bool EntityIndex::read_vector(int64_t id, float* out) const {
  size_t lo = 0, hi = impl_->count;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int64_t v;
    std::memcpy(&v, impl_->ids + mid * 8, 8);
    if (v < id) lo = mid + 1;
    else hi = mid;
  }
  if (lo == impl_->count) return false;
  int64_t v;
  std::memcpy(&v, impl_->ids + lo * 8, 8);
  if (v != id) return false;
  const size_t d = static_cast<size_t>(impl_->dim);
  if (impl_->fp16) {
    for (size_t i = 0; i < d; ++i) {
      uint16_t h;
      std::memcpy(&h, impl_->vectors + (lo * d + i) * 2, 2);
      out[i] = half_to_float(h);
    }
  } else {
    std::memcpy(out, impl_->vectors + lo * d * 4, d * 4);
  }
  return true;
}

size_t EntityIndex::size() const { return impl_->count; }
int EntityIndex::dim() const { return impl_->dim; }
const std::string& EntityIndex::fingerprint() const { return impl_->fingerprint; }

void EntityIndex::check_model(const LinkerModel& model, const std::string& index_path) const {
  if (model.fingerprint() != impl_->fingerprint || model.dim() != impl_->dim)
    throw InvalidArgument(index_path + " was built with another model or NER-R/window setting (index fingerprint " +
                          impl_->fingerprint + ", model " + model.fingerprint() +
                          "); rebuild it with 'ner4el index' for this model, or drop --index");
}

namespace {

// The index build in stages: resume the shard's partial file, choose the ids to encode, encode them
// into the partial file, wait for the other shards, write the index from every partial file.

struct PartialFiles {
  std::string out_path;
  int shards = 1;
  std::string of(int shard) const {
    return shards == 1 ? out_path + ".partial" : out_path + ".partial-" + std::to_string(shard) + "-of-" + std::to_string(shards);
  }
};

/// The ids an earlier run with the same model already wrote to partial (a torn last record is
/// cut off); a partial file of another model is removed. Makes the file when there is none.
std::unordered_set<int64_t> resume_partial(const std::string& partial, const std::string& fp, size_t record) {
  std::unordered_set<int64_t> done;
  if (fs::exists(partial)) {
    bool usable = false;
    size_t valid_bytes = 64;
    {
      io::MappedFile f(partial);
      std::string_view b = f.bytes();
      if (partial_of_model(b, fp)) {
        usable = true;
        size_t n = (b.size() - 64) / record;
        for (size_t i = 0; i < n; ++i) {
          int64_t id;
          std::memcpy(&id, b.data() + 64 + i * record, 8);
          done.insert(id);
        }
        valid_bytes = 64 + n * record;
      }
    }
    if (usable)
      fs::resize_file(partial, valid_bytes);
    else
      fs::remove(partial);
  }
  if (!fs::exists(partial)) {
    std::ofstream p(partial, std::ios::binary);
    char head[64] = {};
    std::memcpy(head, kPartialMagic, 8);
    std::memcpy(head + 8, fp.data(), std::min<size_t>(16, fp.size()));
    p.write(head, 64);
    if (!p) throw Error("cannot write " + partial);
  }
  return done;
}

/// This shard's described entities not done yet (others counted as skipped).
std::vector<int64_t> ids_to_encode(const KnowledgeBase& kb, const IndexBuildOptions& opt,
                                   const std::unordered_set<int64_t>& done, IndexBuildReport& rep) {
  std::vector<int64_t> wanted = opt.ids;
  if (wanted.empty()) wanted.assign(kb.described_entities().begin(), kb.described_entities().end());
  std::vector<int64_t> todo;
  std::unordered_set<int64_t> seen;
  for (int64_t id : wanted) {
    if (((id % opt.shards) + opt.shards) % opt.shards != opt.shard) continue;  // another shard's
    if (!seen.insert(id).second) continue;
    auto b = kb.brief(id);
    if (!b || !b->has_description) {
      ++rep.skipped;
      continue;
    }
    if (!done.count(id)) todo.push_back(id);
  }
  return todo;
}

/// Encodes todo, in batches of texts of similar length, appending (id, vector) records to partial.
void encode_into(const std::string& partial, const KnowledgeBase& kb, const LinkerModel& model,
                 const std::vector<int64_t>& todo, size_t already, const IndexBuildOptions& opt) {
  const int d = model.dim();
  std::ofstream p(partial, std::ios::binary | std::ios::app);
  const size_t chunk = 16384, total = todo.size() + already;
  size_t progressed = already;
  for (size_t c = 0; c < todo.size(); c += chunk) {
    const size_t end = std::min(todo.size(), c + chunk);
    std::vector<std::pair<int64_t, EntityInput>> inputs;
    for (size_t i = c; i < end; ++i) {
      auto e = kb.entity(todo[i]);
      auto in = model.entity_input(*e);
      trim_padding(in);  // then a batch stops at its longest text
      inputs.emplace_back(todo[i], std::move(in));
    }
    std::stable_sort(inputs.begin(), inputs.end(),
                     [](const auto& a, const auto& b) { return a.second.ids.size() < b.second.ids.size(); });
    for (size_t b = 0; b < inputs.size(); b += opt.batch_size) {
      const size_t be = std::min(inputs.size(), b + static_cast<size_t>(opt.batch_size));
      std::vector<EntityInput> batch;
      for (size_t i = b; i < be; ++i) batch.push_back(inputs[i].second);
      auto vecs = model.embed_entities(batch, static_cast<int>(batch.size()));
      for (size_t i = b; i < be; ++i) {
        p.write(reinterpret_cast<const char*>(&inputs[i].first), 8);
        p.write(reinterpret_cast<const char*>(vecs.data() + (i - b) * d), static_cast<std::streamsize>(d * 4));
      }
      p.flush();  // a killed run loses at most this batch
      if (!p) throw Error("write to " + partial + " failed (disk full?)");
      progressed += be - b;
      if (opt.progress) opt.progress("encoding", progressed, total);
    }
  }
}

/// Shard 0's wait until every shard has marked its partial file done.
void wait_for_shards(const PartialFiles& parts, const IndexBuildOptions& opt) {
  for (int waited = 0;; ++waited) {
    int missing = 0;
    for (int s = 0; s < opt.shards; ++s) missing += !fs::exists(parts.of(s) + ".done");
    if (missing == 0) return;
    if (waited >= opt.wait_seconds)
      throw Error("index: " + std::to_string(missing) + " shard(s) of " + parts.out_path + " not done after " +
                  std::to_string(waited) + " s; start them (they resume) and this one again");
    if (opt.progress && waited % 10 == 0) opt.progress("waiting for shards", opt.shards - missing, opt.shards);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

/// Writes the index (docs/formats.md) from every shard's records: ids ascending, vectors in the
/// same order; then removes the partial files. Returns the number of entities.
size_t write_index(const PartialFiles& parts, const LinkerModel& model, const IndexBuildOptions& opt) {
  const int d = model.dim();
  const std::string fp = model.fingerprint();
  const size_t record = 8 + static_cast<size_t>(d) * 4;
  std::vector<std::unique_ptr<io::MappedFile>> files;
  for (int s = 0; s < opt.shards; ++s) files.push_back(std::make_unique<io::MappedFile>(parts.of(s)));
  struct Where {
    int64_t id;
    size_t file, at;
    bool operator<(const Where& o) const { return id < o.id; }
  };
  std::vector<Where> order;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    std::string_view b = files[fi]->bytes();
    if (!partial_of_model(b, fp))
      throw FormatError(parts.of(static_cast<int>(fi)) + ": a shard made with another model; remove it and start that shard again");
    const size_t n = (b.size() - 64) / record;
    for (size_t i = 0; i < n; ++i) {
      Where w{0, fi, 64 + i * record};
      std::memcpy(&w.id, b.data() + w.at, 8);
      order.push_back(w);
    }
  }
  std::stable_sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end(), [](auto& x, auto& y) { return x.id == y.id; }), order.end());
  nlohmann::json h{{"fingerprint", fp}, {"dim", d}, {"dtype", opt.fp16 ? "f16" : "f32"}, {"count", order.size()},
                   {"window", model.input_encoder().options().window}, {"ner_r", model.input_encoder().options().ner_r}};
  // Offsets depend on the header length, which depends on the offsets' digits: fix them at a width.
  h["ids_offset"] = 0;
  h["vectors_offset"] = 0;
  const size_t header_len = h.dump().size() + 40;
  const size_t ids_off = align64(16 + header_len);
  const size_t vec_off = align64(ids_off + order.size() * 8);
  h["ids_offset"] = ids_off;
  h["vectors_offset"] = vec_off;
  std::string header = h.dump();
  header.resize(header_len, ' ');
  OutputFile file(parts.out_path);
  std::ostream& out = file.stream();
  out.write(io::kIndexMagic, 8);
  uint32_t version = kIndexFormatVersion, hl = static_cast<uint32_t>(header_len);
  out.write(reinterpret_cast<const char*>(&version), 4);
  out.write(reinterpret_cast<const char*>(&hl), 4);
  out << header;
  out << std::string(ids_off - 16 - header_len, '\0');
  for (const auto& w : order) out.write(reinterpret_cast<const char*>(&w.id), 8);
  out << std::string(vec_off - ids_off - order.size() * 8, '\0');
  for (const auto& w : order) {
    const char* v = files[w.file]->bytes().data() + w.at + 8;
    if (opt.fp16) {
      for (int k = 0; k < d; ++k) {
        float x;
        std::memcpy(&x, v + k * 4, 4);
        uint16_t hv = float_to_half(x);
        out.write(reinterpret_cast<const char*>(&hv), 2);
      }
    } else {
      out.write(v, d * 4);
    }
  }
  file.commit();
  files.clear();
  for (int s = 0; s < opt.shards; ++s) {
    fs::remove(parts.of(s));
    if (opt.shards > 1) fs::remove(parts.of(s) + ".done");
  }
  return order.size();
}

}  // namespace

IndexBuildReport build_entity_index(const KnowledgeBase& kb, const LinkerModel& model, const std::string& out_path,
                                    const IndexBuildOptions& opt) {
  if (opt.batch_size < 1) throw InvalidArgument("index: the batch size must be at least 1, got " + std::to_string(opt.batch_size));
  if (opt.shards < 1 || opt.shard < 0 || opt.shard >= opt.shards)
    throw InvalidArgument("index: shard " + std::to_string(opt.shard) + " of " + std::to_string(opt.shards) + " does not exist");
  IndexBuildReport rep;
  const PartialFiles parts{out_path, opt.shards};
  const std::string partial = parts.of(opt.shard);
  if (opt.shards > 1) fs::remove(partial + ".done");  // marked again once this run has encoded all of it
  const auto done = resume_partial(partial, model.fingerprint(), 8 + static_cast<size_t>(model.dim()) * 4);
  rep.resumed = done.size();
  const auto todo = ids_to_encode(kb, opt, done, rep);
  encode_into(partial, kb, model, todo, done.size(), opt);
  if (opt.shards > 1) {
    std::ofstream(partial + ".done") << "done\n";  // this shard is whole
    if (opt.shard != 0) return rep;
    wait_for_shards(parts, opt);  // shard 0 writes the index once every shard is done
  }
  rep.indexed = write_index(parts, model, opt);
  return rep;
}

}  // namespace ner4el
