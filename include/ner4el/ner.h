// The NER contributions applied at link time (SPEC "NER-CD", "Candidates" step 4 NER-CG).
#pragma once

#include <string>
#include <vector>

namespace ner4el {

/// How NER-CD treats the confident branch (top probability over 0.5).
struct NerCdOptions {
  /// Release quirk: a candidate is kept when its class is a substring of the top class, so a
  /// candidate without a class ("") is always kept. false: only candidates of exactly the top class.
  bool quirk_substring_match = true;
};

/// NER-CD (test time): with the classifier's softmax probs over class_names, sets to 0 the
/// normalised score of every candidate the rule excludes:
///   top-1 probability > 0.5: candidates whose class is not the top-1 class;
///   otherwise: candidates whose class is not among the top-3 (candidates without a class too).
/// normalised and candidate_classes are parallel; probs and class_names are parallel.
void apply_ner_cd(std::vector<float>& normalised, const std::vector<std::string>& candidate_classes,
                  const std::vector<float>& probs, const std::vector<std::string>& class_names,
                  const NerCdOptions& options = {});

/// NER-CG: indices of the candidates kept. When the top-1 probability is over 0.5, candidates whose
/// class is among the top-3 (which includes the top-1) or who have no class; otherwise all.
std::vector<size_t> ner_cg_keep(const std::vector<std::string>& candidate_classes, const std::vector<float>& probs,
                                const std::vector<std::string>& class_names);

/// Indices of the k most probable classes, most probable first.
std::vector<size_t> top_classes(const std::vector<float>& probs, size_t k);

}  // namespace ner4el
