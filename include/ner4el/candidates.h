// Candidate generation (SPEC "Candidates").
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "ner4el/kb.h"

namespace ner4el {

/// How training fills a candidate set that has fewer than K entities.
enum class NegativeSampling {
  None,    ///< no filling
  Random,  ///< uniform over all entities with a description
  NerNs,   ///< NER-NS: uniform over entities of the gold entity's class
};

struct CandidateOptions {
  int k = 40;  ///< keep at most the K candidates with the highest counts
};

/// Why a mention has no candidates (the drop counts of SPEC "Which mentions are scored").
enum class CandidateMiss { None, NotInAliasTable, NoCandidates };

struct CandidateSet {
  std::vector<int64_t> ids;  ///< rank order: decreasing count, ties in alias-table order
  CandidateMiss miss = CandidateMiss::None;
};

/// Thread-safe; holds a reference to the KB, which must outlive it.
class CandidateGenerator {
 public:
  explicit CandidateGenerator(const KnowledgeBase& kb, CandidateOptions options = {});

  /// Looks up lower(mention); keeps entities with a description; cuts to K by count.
  CandidateSet candidates(std::string_view mention) const;

  /// Training only: appends negatives until ids has K entries (or the pool is exhausted),
  /// never repeating an id. gold_class is the class index of the gold entity (NerNs; when it is
  /// -1 or its class has no other entities, nothing is added). Deterministic for a given rng state.
  void add_negatives(std::vector<int64_t>& ids, NegativeSampling mode, int32_t gold_class, std::mt19937_64& rng) const;

  const CandidateOptions& options() const { return options_; }

 private:
  const KnowledgeBase& kb_;
  CandidateOptions options_;
};

}  // namespace ner4el
