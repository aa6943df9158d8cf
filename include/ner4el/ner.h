// The NER contributions applied at link time (docs/reference.md "NER-CD", "Candidates" step 4 NER-CG).
#pragma once

#include <string>
#include <vector>

#include "ner4el/dataset.h"

namespace ner4el {

/// How NER-CD treats the confident branch (top probability over 0.5).
struct NerCdOptions {
  /// Release quirk (ner-cd-substring): in the confident branch a candidate is kept when its class is
  /// a substring of the top class and among the top 3 (the release's if/elif), so a class-less
  /// candidate is always zeroed and PER survives a top class SUPER. false: exactly the top class.
  bool quirk_substring_match = false;
};

/// NER-CD (test time): with the classifier's softmax probs over class_names, sets to 0 the
/// normalised score of every candidate the rule excludes:
///   top-1 probability > 0.5: candidates whose class is not the top-1 class;
///   otherwise: candidates whose class is not among the top-3 (candidates without a class too).
/// normalised and candidate_classes are parallel; probs and class_names are parallel.
/// Returns which candidates the rule keeps (the others were set to 0).
std::vector<bool> apply_ner_cd(std::vector<float>& normalised, const std::vector<std::string>& candidate_classes,
                  const std::vector<float>& probs, const std::vector<std::string>& class_names,
                  const NerCdOptions& options = {});

/// NER-CG: indices of the candidates kept. When the top-1 probability is over 0.5, candidates whose
/// class is among the top-3 (which includes the top-1; a class of probability 0, as beside a class
/// given with certainty, is not) or who have no class; otherwise all.
std::vector<size_t> ner_cg_keep(const std::vector<std::string>& candidate_classes, const std::vector<float>& probs,
                                const std::vector<std::string>& class_names);

/// Rank order of one mention's candidates under NER-CD. cosines: the raw scores; constrained: the
/// min-max normalised scores after apply_ner_cd (NaN for a single candidate); kept: its result.
/// release_ties (quirk ner-cd-ties): by the constrained scores, ties to the first index, so a zeroed
/// candidate can win. Otherwise kept candidates by cosine, then the zeroed ones (all by cosine when
/// none is kept). Stable: equal keys keep the candidate order.
std::vector<size_t> ner_cd_order(const std::vector<float>& cosines, const std::vector<float>& constrained,
                                 const std::vector<bool>& kept, bool release_ties);

/// Class probabilities from the mentions' own classes (Mention::ner), for NER-CD and NER-CG without
/// a classifier: a row with probability 1 at the mention's class when class_names has it; an empty
/// row (no constraint) for a mention without a class or with one the list lacks ("MISC" beside the
/// KB's 18 classes). Empty when no mention has a usable class.
std::vector<std::vector<float>> given_class_probabilities(const std::vector<Mention>& mentions,
                                                          const std::vector<std::string>& class_names);

/// Indices of the k most probable classes, most probable first.
std::vector<size_t> top_classes(const std::vector<float>& probs, size_t k);

}  // namespace ner4el
