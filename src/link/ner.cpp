#include "ner4el/ner.h"

#include <algorithm>
#include <numeric>

#include "ner4el/error.h"

namespace ner4el {

std::vector<size_t> top_classes(const std::vector<float>& probs, size_t k) {
  std::vector<size_t> idx(probs.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                    [&](size_t a, size_t b) { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b); });
  idx.resize(k);
  return idx;
}

void apply_ner_cd(std::vector<float>& normalised, const std::vector<std::string>& classes, const std::vector<float>& probs,
                  const std::vector<std::string>& class_names, const NerCdOptions& options) {
  if (normalised.size() != classes.size() || probs.size() != class_names.size() || probs.empty())
    throw InvalidArgument("apply_ner_cd: scores/classes or probs/class names differ in length");
  const auto top3 = top_classes(probs, 3);
  const std::string& t1 = class_names[top3[0]];
  if (probs[top3[0]] > 0.5f) {
    for (size_t i = 0; i < classes.size(); ++i) {
      const bool keep = options.quirk_substring_match ? t1.find(classes[i]) != std::string::npos : classes[i] == t1;
      if (!keep) normalised[i] = 0;
    }
    return;
  }
  for (size_t i = 0; i < classes.size(); ++i) {
    bool in_top3 = false;
    for (size_t c : top3) in_top3 |= !classes[i].empty() && classes[i] == class_names[c];
    if (!in_top3) normalised[i] = 0;
  }
}

std::vector<size_t> ner_cg_keep(const std::vector<std::string>& classes, const std::vector<float>& probs,
                                const std::vector<std::string>& class_names) {
  std::vector<size_t> keep;
  const auto top3 = top_classes(probs, 3);
  const bool confident = !top3.empty() && probs[top3[0]] > 0.5f;
  for (size_t i = 0; i < classes.size(); ++i) {
    bool ok = !confident || classes[i].empty();
    for (size_t c : top3) ok |= classes[i] == class_names[c];
    if (ok) keep.push_back(i);
  }
  return keep;
}

}  // namespace ner4el
