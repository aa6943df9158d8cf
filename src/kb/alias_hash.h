// aliases.hash: an open-addressing hash table over the alias table, memory-mapped (internal).
//
// At release scale (15M aliases) a B-tree look-up costs several dependent cache and TLB misses;
// this table costs about two: one slot, one record. Layout (little-endian):
//   "N4ELAHSH" | u32 version | u32 0 | u64 slot_count (power of 2) | u64 entries | u64 data_offset
//   u64 slots[slot_count]: 0 = empty, else (16-bit hash tag << 48) | (record offset from data_offset + 1)
//   records: u32 key_len | key | u32 id_count | int64 ids[id_count]
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/map_guard.h"
#include "io/mapped_file.h"

namespace ner4el::kb {

/// Builds the table for path. Records stream to path + ".data" as they are added (only the slots
/// stay in memory); write() assembles the file.
class AliasHashWriter {
 public:
  AliasHashWriter(const std::string& path, uint64_t expected_entries);
  ~AliasHashWriter();
  /// Keys must be distinct.
  void add(std::string_view key, const int64_t* ids, size_t count);
  /// Writes the file (path + ".tmp", renamed) and removes the record spool.
  void write();

 private:
  std::string path_;
  std::ofstream data_;
  uint64_t data_size_ = 0;
  std::vector<uint64_t> slots_;
  uint64_t entries_ = 0;
};

class AliasHash {
 public:
  /// @throws FormatError naming the file when it is truncated or not an alias hash.
  explicit AliasHash(const std::string& path);
  /// The ids of key, or nullopt when key is not in the table.
  std::optional<std::vector<int64_t>> find(std::string_view key) const;

 private:
  /// Where key's ids lie in the records, and how many; nullopt when absent. Reads the map only.
  std::optional<std::pair<uint64_t, uint32_t>> probe(std::string_view key) const;
  io::FaultHandlers fault_handlers_;  ///< while the map is open (declared before it)
  io::MappedFile file_;
  std::string path_;
  std::string changed_;  ///< the message of a file cut short under us (made once, not per look-up)
  const char* slots_ = nullptr;
  const char* data_ = nullptr;
  uint64_t mask_ = 0, data_size_ = 0;
};

uint64_t alias_hash(std::string_view key);

}  // namespace ner4el::kb
