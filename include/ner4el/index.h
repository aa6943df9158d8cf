// A memory-mapped file of precomputed entity vectors: the entity side of the bi-encoder does not
// depend on the mention, so every entity is encoded once instead of once per mention.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ner4el/kb.h"
#include "ner4el/model.h"

namespace ner4el {

/// Version of the index file layout (docs/formats.md). Older are read, newer refused.
inline constexpr uint32_t kIndexFormatVersion = 1;

/// Read-only view of an index file. Thread-safe.
class EntityIndex {
 public:
  /// @throws NotFound, FormatError (bad magic, newer version, truncated, offsets out of range).
  static EntityIndex open(const std::string& path);
  ~EntityIndex();
  EntityIndex(EntityIndex&&) noexcept;
  EntityIndex& operator=(EntityIndex&&) noexcept;

  /// Copies the vector of id into out (dim() floats); false when the id is not indexed.
  bool vector(int64_t id, float* out) const;
  size_t size() const;
  int dim() const;
  /// Fingerprint of the model (weights, window, NER-R) the vectors were made with.
  const std::string& fingerprint() const;
  /// @throws InvalidArgument with a clear message when the index was made with another model.
  void check_model(const LinkerModel& model, const std::string& index_path) const;

 private:
  struct Impl;
  explicit EntityIndex(std::unique_ptr<Impl> impl);
  bool read_vector(int64_t id, float* out) const;  ///< vector() without its guard
  std::unique_ptr<Impl> impl_;
};

struct IndexBuildOptions {
  std::vector<int64_t> ids;  ///< entities to index; empty = every entity with a description
  int batch_size = 64;       ///< sequences per encoder batch
  bool fp16 = false;         ///< store half-precision vectors (half the size; ~1e-3 relative error)
  ProgressFn progress;       ///< ("encoding", done, total)
  /// Sharded builds (several processes or machines): this process encodes only the entities with
  /// id % shards == shard, into OUT.partial-SHARD-of-SHARDS, and marks it done (a .done file
  /// beside it). Shard 0 then waits for every shard's mark and writes OUT from all of them. Each
  /// shard resumes on its own when started again. All shards must see the same output folder.
  int shard = 0, shards = 1;
  int wait_seconds = 86400;  ///< how long shard 0 waits for the others
};

struct IndexBuildReport {
  size_t indexed = 0;   ///< vectors in the final file
  size_t resumed = 0;   ///< vectors taken from an interrupted earlier run
  size_t skipped = 0;   ///< requested ids with no description in the KB
};

/// Encodes the entities' descriptions (sorted by length, so batches carry little padding) and
/// writes the index. Progress is kept in out_path + ".partial": a killed run resumes where it
/// stopped when started again with the same model. The final file is written atomically.
IndexBuildReport build_entity_index(const KnowledgeBase& kb, const LinkerModel& model, const std::string& out_path,
                                    const IndexBuildOptions& options = {});

}  // namespace ner4el
