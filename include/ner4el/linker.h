// Linking mentions in context to knowledge-base entities.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ner4el/candidates.h"
#include "ner4el/dataset.h"
#include "ner4el/kb.h"

namespace ner4el {

struct LinkOptions {
  int k = 40;    ///< candidates per mention (SPEC: 40; the release used 5 for AQUAINT)
  int top = 5;   ///< alternatives reported per mention (best included)
};

struct ScoredEntity {
  int64_t id = 0;
  std::string title;
  std::string ner_class;
  double score = 0;  ///< count prior: count / sum of the candidates' counts (add-one smoothed)
};

struct LinkResult {
  std::vector<ScoredEntity> ranked;  ///< best first, at most LinkOptions::top; empty when unlinkable
  CandidateMiss miss = CandidateMiss::None;
  size_t candidates = 0;             ///< size of the candidate set scored
  /// Index of the gold entity among the candidates when the mention has a gold title in the KB.
  std::optional<size_t> gold_rank;
};

/// The count-prior linker: the candidate with the most incoming links wins. A floor for every table
/// and the linker used when no trained model is given. Thread-safe.
class PriorLinker {
 public:
  PriorLinker(const KnowledgeBase& kb, LinkOptions options = {});
  LinkResult link(const Mention& mention) const;

 private:
  const KnowledgeBase& kb_;
  CandidateGenerator candidates_;
  LinkOptions options_;
};

}  // namespace ner4el
