#include "ner4el/ner.h"

#include <algorithm>
#include <cmath>
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

std::vector<bool> apply_ner_cd(std::vector<float>& normalised, const std::vector<std::string>& classes,
                               const std::vector<float>& probs, const std::vector<std::string>& class_names,
                               const NerCdOptions& options) {
  if (normalised.size() != classes.size() || probs.size() != class_names.size() || probs.empty())
    throw InvalidArgument("apply_ner_cd: scores/classes or probs/class names differ in length");
  const auto top3 = top_classes(probs, 3);
  const std::string& t1 = class_names[top3[0]];
  const bool confident = probs[top3[0]] > 0.5f;
  std::vector<bool> kept(classes.size());
  for (size_t i = 0; i < classes.size(); ++i) {
    bool in_top3 = false;
    for (size_t c : top3) in_top3 |= !classes[i].empty() && classes[i] == class_names[c];
    bool keep;
    if (!confident) keep = in_top3;
    // The release: `if cls not in t1 and confident: zero; elif cls not in top3: zero`.
    else if (options.quirk_substring_match) keep = t1.find(classes[i]) != std::string::npos && in_top3;
    else keep = classes[i] == t1;
    if (!keep) normalised[i] = 0;
    kept[i] = keep;
  }
  return kept;
}

std::vector<size_t> ner_cd_order(const std::vector<float>& cosines, const std::vector<float>& constrained,
                                 const std::vector<bool>& kept, bool release_ties) {
  if (cosines.size() != constrained.size() || cosines.size() != kept.size())
    throw InvalidArgument("ner_cd_order: scores and kept differ in length");
  std::vector<float> key = cosines;
  if (release_ties) {
    key = constrained;
    for (auto& k : key)
      if (std::isnan(k)) k = 1;  // a single candidate (0/0): it is the prediction
  } else if (std::find(kept.begin(), kept.end(), true) != kept.end()) {
    for (size_t c = 0; c < key.size(); ++c)
      if (!kept[c]) key[c] -= 4;  // cosines lie in [-1, 1]: every excluded one ranks last
  }
  std::vector<size_t> order(key.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a] > key[b]; });
  return order;
}

std::vector<size_t> ner_cg_keep(const std::vector<std::string>& classes, const std::vector<float>& probs,
                                const std::vector<std::string>& class_names) {
  std::vector<size_t> keep;
  const auto top3 = top_classes(probs, 3);
  const bool confident = !top3.empty() && probs[top3[0]] > 0.5f;
  for (size_t i = 0; i < classes.size(); ++i) {
    bool ok = !confident || classes[i].empty();
    for (size_t c : top3) ok |= probs[c] > 0 && classes[i] == class_names[c];  // (a given class: the others are 0)
    if (ok) keep.push_back(i);
  }
  return keep;
}

std::vector<std::vector<float>> given_class_probabilities(const std::vector<Mention>& mentions,
                                                          const std::vector<std::string>& class_names) {
  std::vector<std::vector<float>> rows(mentions.size());
  bool any = false;
  for (size_t i = 0; i < mentions.size(); ++i) {
    if (mentions[i].ner.empty()) continue;
    const auto it = std::find(class_names.begin(), class_names.end(), mentions[i].ner);
    if (it == class_names.end()) continue;
    rows[i].assign(class_names.size(), 0.0f);
    rows[i][static_cast<size_t>(it - class_names.begin())] = 1.0f;
    any = true;
  }
  if (!any) rows.clear();
  return rows;
}

}  // namespace ner4el
