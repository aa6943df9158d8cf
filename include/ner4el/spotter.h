// Mention detection over the knowledge base's alias table: the spans of a text that may name an
// entity, with a confidence.
#pragma once

#include <string_view>
#include <vector>

#include "ner4el/kb.h"
#include "ner4el/text.h"

namespace ner4el {

/// The spotter's rules.
struct SpotterOptions {
  /// Spans whose detection score is below this are dropped.
  double threshold = 0.5;
  /// Longest span tried, in tokens (words and punctuation marks).
  int max_tokens = 8;
  /// Spans must start with a capitalised word (names, as NER finds them); false also spots
  /// lower-case aliases ("paris" in a lower-cased text).
  bool require_capital = true;
};

/// Mention detection over the KB's alias table: every token-boundary span of the text that is an
/// alias with at least one candidate, scanned left to right, longest match first, so spans never
/// overlap. A span may not begin or end with a function word (unless capitalised inside a sentence,
/// as in "The Who") or punctuation (except an abbreviation's
/// final period, "U.S."). Detection score, with require_capital: the share of its words (stop words
/// aside) that are capitalised, halved for a single word at the start of a sentence (capitalised by
/// position, not by being a name); without it, 1. Thread-safe; holds a reference to the KB.
class Spotter {
 public:
  explicit Spotter(const KnowledgeBase& kb, SpotterOptions options = {});
  std::vector<TextSpan> spot(std::string_view text) const;
  const SpotterOptions& options() const { return options_; }

 private:
  const KnowledgeBase& kb_;
  SpotterOptions options_;
};

}  // namespace ner4el
