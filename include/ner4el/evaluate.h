// In-KB accuracy and candidate recall over a data set (docs/reference.md "Which mentions are scored").
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "ner4el/dataset.h"
#include "ner4el/kb.h"
#include "ner4el/linker.h"

namespace ner4el {

struct EvalCounts {
  std::size_t read = 0;               ///< mentions in the data set
  std::size_t not_in_alias_table = 0;  ///< dropped: lower(mention) is not an alias
  std::size_t gold_unknown = 0;        ///< dropped: the gold title has no id in the KB
  std::size_t no_candidates = 0;       ///< dropped: no candidate remains
  std::size_t scored = 0;              ///< the rest: accuracy is over these
  std::size_t gold_in_candidates = 0;  ///< scored mentions whose gold entity is a candidate
  std::size_t correct = 0;             ///< scored mentions linked to the gold entity
  double accuracy() const { return scored ? static_cast<double>(correct) / scored : 0; }
  double recall() const { return scored ? static_cast<double>(gold_in_candidates) / scored : 0; }
};

/// Links every mention (in batches, with call's options over the linker's) and counts. Mentions
/// need a gold "output". @throws InvalidArgument when a mention has no gold output.
/// title_last_wins: gold titles resolve as the release's reversed title dict (quirk title-last-wins).
EvalCounts evaluate(const Linker& linker, const KnowledgeBase& kb, const std::vector<Mention>& mentions,
                    std::size_t batch_size = 64, const ProgressFn& progress = {}, bool title_last_wins = false,
                    const LinkCallOptions& call = {});

/// Exact-match NER scoring, as seqeval's default mode and CoNLL's conlleval: a detected span is
/// right when its start, end and type all equal a gold span's; micro-averaged over every type.
struct SpanCounts {
  std::size_t gold = 0, detected = 0, correct = 0;
  double precision() const { return detected ? static_cast<double>(correct) / detected : 0; }
  double recall() const { return gold ? static_cast<double>(correct) / gold : 0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
};
struct NerScore {
  SpanCounts all;
  std::map<std::string, SpanCounts> by_type;
  /// Adds one document: its gold spans and the spans detected in it (offsets in code points).
  void add(const std::vector<GoldSpan>& gold, const std::vector<TextSpan>& detected);
};

/// The paper's column for a data-set file name ("aida_test.jsonl" -> "AIDA"), or "" when none fits.
std::string paper_column(const std::string& file_name);

}  // namespace ner4el
