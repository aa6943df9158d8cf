// Candidate generation (docs/reference.md "Candidates").
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "ner4el/dataset.h"
#include "ner4el/kb.h"
#include "ner4el/release_compat.h"

namespace ner4el {

/// How training fills a candidate set that has fewer than K entities.
enum class NegativeSampling {
  None,    ///< no filling
  Random,  ///< uniform over all entities with a description
  NerNs,   ///< NER-NS: uniform over entities of the gold entity's class
};

struct CandidateOptions {
  int k = 40;  ///< keep at most the K candidates with the highest counts
  /// The release's alias-table quirks (exact-alias-keys, alias-table-order, duplicate-ids) and its
  /// NER-NS pool (ner-ns-pool) apply here; they need a KB of format 3 or newer.
  ReleaseQuirks quirks;
};

/// Why a mention has no candidates (the drop counts of docs/reference.md "Which mentions are scored").
enum class CandidateMiss { None, NotInAliasTable, NoCandidates };

struct CandidateSet {
  /// Rank order: decreasing count, ties in alias-table order (with alias-table-order: the table's
  /// order when there are K or fewer; with duplicate-ids an id may appear twice).
  std::vector<int64_t> ids;
  CandidateMiss miss = CandidateMiss::None;
};

/// A mention without a leading article ("the", "a", "an") or a trailing possessive ("'s", "'"):
/// "the United States" -> "United States", "Germany's" -> "Germany". The mention when it has neither.
std::string_view name_core(std::string_view mention);

/// Index of gold among ids: its first occurrence, or with last_occurrence (quirk duplicate-ids) its
/// last, as the release's loop that overwrites the target. nullopt when absent.
std::optional<size_t> gold_index(const std::vector<int64_t>& ids, int64_t gold, bool last_occurrence);

/// Thread-safe; holds a reference to the KB, which must outlive it.
class CandidateGenerator {
 public:
  explicit CandidateGenerator(const KnowledgeBase& kb, CandidateOptions options = {});

  /// @throws InvalidArgument when a KB-level quirk is on and the KB predates format 3.
  /// Looks up lower(mention), and when that is no alias its name_core (not with the release's
  /// alias-table quirks); keeps entities with a description; cuts to K by count (k > 0: this
  /// call's K instead of the options').
  CandidateSet candidates(std::string_view mention, int k = 0) const;

  /// The candidates a mention brought (ids or titles) instead of the alias table's: each resolved
  /// in the KB (a title exactly, as gold titles are), repeats dropped, entities without a
  /// description dropped, cut to K by count as the alias table's are. The alias table is not read.
  /// where names the mention in errors. @throws FormatError "where: candidates[i]: ..." for an id
  /// or title the KB does not have.
  CandidateSet given(const std::vector<GivenCandidate>& candidates, int k = 0, const std::string& where = "mention") const;

  /// given() when the mention brought candidates, else candidates(mention.mention, k).
  CandidateSet for_mention(const Mention& mention, int k = 0, const std::string& where = "mention") const;

  /// Training only: appends negatives until ids has K entries (or the pool is exhausted),
  /// never repeating an id. gold_class is the class index of the gold entity (NerNs; when it is
  /// -1 or its class has no other entities, nothing is added). Deterministic for a given rng state.
  void add_negatives(std::vector<int64_t>& ids, NegativeSampling mode, int32_t gold_class, std::mt19937_64& rng) const;

  /// The release's NER-NS (quirk ner-ns-pool): per-class pools of entities with a count, a
  /// description and a class; each call removes the mention's own candidates from its class's pool
  /// for good, then appends K - size negatives drawn without replacement from what is left. Not
  /// thread-safe (the pools are state); deterministic for a given rng state.
  class ReleaseNerNsPool {
   public:
    explicit ReleaseNerNsPool(const KnowledgeBase& kb);
    void add_negatives(std::vector<int64_t>& ids, int32_t gold_class, int k, std::mt19937_64& rng);
    size_t pool_size(int32_t c) const { return c >= 0 && static_cast<size_t>(c) < pools_.size() ? pools_[c].size() : 0; }

   private:
    std::vector<std::vector<int64_t>> pools_;  // ascending ids
  };

  const CandidateOptions& options() const { return options_; }

 private:
  const KnowledgeBase& kb_;
  CandidateOptions options_;
};

}  // namespace ner4el
