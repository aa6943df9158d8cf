// The processed training set on disk: shards of examples written once, memory-mapped and read in a
// shuffled streaming order, so that training memory does not grow with the number of mentions
// (internal; torch-free).
//
// Layout of a set: DIR/meta.json ({"format", "version", "key", "shards", "examples", "dropped"})
// and DIR/shard-NNNNN.bin, each:
//   records, then u64 offsets[count + 1] (from the file's start), u64 count, "N4ELSHD1".
// A record: i32 mention_position, i32 gold, u32 tokens, u32 candidates, i32 token ids[tokens],
// i64 candidate ids[candidates]. All little-endian. The set is written in DIR.tmp and renamed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ner4el::train {

/// One training example: the mention's input ids (padding trimmed), the position of its mention,
/// its candidates' KB ids (with negatives) and the index of the gold one among them.
struct ShardExample {
  std::vector<int32_t> mention_ids;
  int32_t mention_position = 0;
  std::vector<int64_t> candidates;
  int32_t gold = 0;
};

inline constexpr int kShardVersion = 1;

/// Writes a set. Examples go to shard hash(seed, n) % shards, so every shard holds a random part
/// of the data whatever its order in the input (see ShardedSet::epoch_order).
class ShardWriter {
 public:
  /// expected: about how many examples will be added (sets the number of shards, at most 512: one
  /// open file each while writing).
  ShardWriter(std::string dir, std::string key, uint64_t expected, uint64_t seed, uint64_t per_shard = 32768);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;
  void add(const ShardExample& example);
  /// Writes the indexes and meta.json and renames DIR.tmp to DIR. @throws Error on a write failure.
  /// A writer destroyed unfinished (an error part-way) removes DIR.tmp.
  void finish(uint64_t dropped);
  uint64_t added() const { return added_; }

 private:
  struct Shard;
  std::string dir_, tmp_, key_;
  uint64_t seed_, added_ = 0;
  bool finished_ = false;
  std::vector<std::unique_ptr<Shard>> shards_;
};

/// A written set, memory-mapped. Every field of every record is checked when it is read.
class ShardedSet {
 public:
  /// Opens DIR when its meta.json carries this key and version; nullopt when DIR is absent or was
  /// made for another key. @throws FormatError naming the file and byte for a damaged shard.
  static std::optional<ShardedSet> open(const std::string& dir, const std::string& key);
  ~ShardedSet();
  ShardedSet(ShardedSet&&) noexcept;

  uint64_t size() const { return total_; }
  uint64_t dropped() const { return dropped_; }
  size_t shards() const;

  /// The epoch's order as (shard, record) pairs, a function of (seed, epoch) alone: shards in a
  /// shuffled order, taken `group` at a time, the records of each group shuffled together. Only a
  /// group's order is held: call next() until it returns false.
  class Order {
   public:
    bool next(uint32_t& shard, uint64_t& record);
    uint64_t position() const { return position_; }

   private:
    friend class ShardedSet;
    const ShardedSet* set_ = nullptr;
    uint64_t seed_ = 0;
    std::vector<uint32_t> shard_order_;
    size_t next_group_ = 0, group_begin_ = 0, group_ = 4, at_ = 0;
    std::vector<std::pair<uint32_t, uint64_t>> current_;
    uint64_t position_ = 0;
  };
  Order epoch_order(uint64_t seed, int epoch, size_t group = 4) const;

  /// Reads one record. @throws FormatError naming the shard file and byte.
  ShardExample read(uint32_t shard, uint64_t record) const;
  /// Lets the kernel drop a shard's pages (after its group).
  void release(uint32_t shard) const;

 private:
  struct Impl;
  explicit ShardedSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint64_t total_ = 0, dropped_ = 0;
};

}  // namespace ner4el::train
