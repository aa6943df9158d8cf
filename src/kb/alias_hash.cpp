#include "kb/alias_hash.h"
#include "io/map_guard.h"
#include "ner4el/files.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "ner4el/error.h"

namespace ner4el::kb {

namespace {
constexpr char kMagic[8] = {'N', '4', 'E', 'L', 'A', 'H', 'S', 'H'};
constexpr size_t kHeader = 40;
constexpr uint64_t kOffsetMask = (1ull << 48) - 1;
}  // namespace

uint64_t alias_hash(std::string_view key) {
  // FNV-1a, then a final avalanche (splitmix64) so the low bits index well.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

AliasHashWriter::AliasHashWriter(const std::string& path, uint64_t expected)
    : path_(path), data_(path + ".data", std::ios::binary | std::ios::trunc) {
  if (!data_) throw Error("cannot write " + path + ".data");
  uint64_t n = 1024;
  while (n < expected * 2) n <<= 1;  // load factor at most 1/2
  slots_.assign(n, 0);
}

AliasHashWriter::~AliasHashWriter() {
  std::error_code ec;
  if (data_.is_open()) data_.close();
  std::filesystem::remove(path_ + ".data", ec);
}

void AliasHashWriter::add(std::string_view key, const int64_t* ids, size_t count) {
  if (entries_ * 2 >= slots_.size()) throw Error("alias hash: more entries than announced");
  const uint64_t h = alias_hash(key), mask = slots_.size() - 1;
  const uint64_t offset = data_size_;
  if (offset + 1 > kOffsetMask) throw Error("alias hash: data over 256 TB");
  uint32_t kl = static_cast<uint32_t>(key.size()), n = static_cast<uint32_t>(count);
  data_.write(reinterpret_cast<const char*>(&kl), 4);
  data_.write(key.data(), static_cast<std::streamsize>(key.size()));
  data_.write(reinterpret_cast<const char*>(&n), 4);
  data_.write(reinterpret_cast<const char*>(ids), static_cast<std::streamsize>(count * sizeof(int64_t)));
  data_size_ += 8 + key.size() + count * sizeof(int64_t);
  uint64_t i = h & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = ((h >> 48) << 48) | (offset + 1);
  ++entries_;
}

void AliasHashWriter::write() {
  data_.close();
  if (!data_) throw Error("write to " + path_ + ".data failed (disk full?)");
  const std::string& path = path_;
  {
    OutputFile file(path);
    std::ostream& out = file.stream();
    uint32_t version = 1, zero = 0;
    uint64_t n = slots_.size(), data_offset = kHeader + n * 8;
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&version), 4);
    out.write(reinterpret_cast<const char*>(&zero), 4);
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(reinterpret_cast<const char*>(&entries_), 8);
    out.write(reinterpret_cast<const char*>(&data_offset), 8);
    out.write(reinterpret_cast<const char*>(slots_.data()), static_cast<std::streamsize>(n * 8));
    std::ifstream spool(path + ".data", std::ios::binary);
    if (data_size_ > 0) out << spool.rdbuf();  // (inserting an empty buffer sets failbit)
    if (!out || static_cast<uint64_t>(out.tellp()) != data_offset + data_size_)
      throw Error("write to " + path + ".tmp failed (disk full?)");
    file.commit();
  }
  std::filesystem::remove(path + ".data");
}

AliasHash::AliasHash(const std::string& path)
    : file_(path),
      path_(path),
      changed_(path + ": the alias hash was cut short or rewritten while open; rebuild the knowledge base") {
  std::string_view b = file_.bytes();
  if (b.size() < kHeader || std::memcmp(b.data(), kMagic, 8) != 0) throw FormatError(path + ": not an alias hash file");
  uint32_t version;
  uint64_t n, entries, data_offset;
  std::memcpy(&version, b.data() + 8, 4);
  std::memcpy(&n, b.data() + 16, 8);
  std::memcpy(&entries, b.data() + 24, 8);
  std::memcpy(&data_offset, b.data() + 32, 8);
  if (version != 1) throw FormatError(path + ": alias hash version " + std::to_string(version) + " is not supported");
  if (n == 0 || (n & (n - 1)) != 0 || n > (1ull << 40) || kHeader + n * 8 != data_offset || data_offset > b.size())
    throw FormatError(path + ": corrupt or truncated alias hash (slot table runs past the file)");
  if (entries >= n) throw FormatError(path + ": corrupt alias hash (" + std::to_string(entries) + " entries in " +
                                      std::to_string(n) + " slots); rebuild the knowledge base");
  mask_ = n - 1;
  slots_ = b.data() + kHeader;
  data_ = b.data() + data_offset;
  data_size_ = b.size() - data_offset;
}

std::optional<std::vector<int64_t>> AliasHash::find(std::string_view key) const {
  // Reads of the map run guarded: a file cut short in place under us faults (SIGBUS) past its new end.
  const std::string_view map = file_.bytes();
  std::optional<std::pair<uint64_t, uint32_t>> record;  // where the ids are, and how many
  io::guarded(map.data(), map.size(), changed_, [&] { record = probe(key); });
  if (!record) return std::nullopt;
  std::vector<int64_t> ids(record->second);
  if (!ids.empty())  // (no null pointer when empty)
    io::guarded(map.data(), map.size(), changed_,
                [&] { std::memcpy(ids.data(), data_ + record->first, static_cast<size_t>(record->second) * 8); });
  return ids;
}

std::optional<std::pair<uint64_t, uint32_t>> AliasHash::probe(std::string_view key) const {
  const uint64_t h = alias_hash(key), tag = h >> 48;
  auto corrupt = [&](const std::string& what) {
    return FormatError(path_ + ": corrupt alias hash (" + what + "); rebuild the knowledge base");
  };
  // Every slot at most once: a table with no empty slot (only a corrupt file) ends the probe.
  for (uint64_t i = h & mask_, probes = 0; probes <= mask_; i = (i + 1) & mask_, ++probes) {
    uint64_t slot;
    std::memcpy(&slot, slots_ + i * 8, 8);
    if (slot == 0) return std::nullopt;
    if ((slot >> 48) != tag) continue;
    if ((slot & kOffsetMask) == 0) throw corrupt("slot " + std::to_string(i) + " has a tag but no record");
    const uint64_t off = (slot & kOffsetMask) - 1;
    // Sizes compared by subtraction from what is left, so no sum can wrap.
    if (off > data_size_ || data_size_ - off < 8) throw corrupt("record offset " + std::to_string(off) + " out of range");
    const uint64_t left = data_size_ - off - 8;
    uint32_t kl;
    std::memcpy(&kl, data_ + off, 4);
    if (kl > left) throw corrupt("record at " + std::to_string(off) + " runs past the file");
    if (kl != key.size() || std::memcmp(data_ + off + 4, key.data(), kl) != 0) continue;
    uint32_t n;
    std::memcpy(&n, data_ + off + 4 + kl, 4);
    if (static_cast<uint64_t>(n) > (left - kl) / 8) throw corrupt("ids of the record at " + std::to_string(off) + " run past the file");
    return std::pair{off + 8 + kl, n};
  }
  throw corrupt("no empty slot");
}

}  // namespace ner4el::kb
