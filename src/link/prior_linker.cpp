#include <algorithm>

#include "ner4el/linker.h"

namespace ner4el {

PriorLinker::PriorLinker(const KnowledgeBase& kb, LinkOptions options)
    : kb_(kb), candidates_(kb, {.k = options.k}), options_(options) {}

std::vector<LinkResult> PriorLinker::link(const std::vector<Mention>& mentions) const {
  std::vector<LinkResult> out;
  out.reserve(mentions.size());
  for (const auto& m : mentions) out.push_back(link_one(m));
  return out;
}

LinkResult PriorLinker::link_one(const Mention& mention) const {
  LinkResult r;
  auto set = candidates_.candidates(mention.mention);
  r.miss = set.miss;
  r.candidates = set.ids.size();
  if (set.ids.empty()) return r;
  std::optional<int64_t> gold;
  if (mention.output) gold = kb_.id_of_title(*mention.output);
  // The prior needs every candidate's count, but titles and classes only for those reported.
  double total = 0;
  std::vector<int64_t> counts(set.ids.size());
  for (size_t i = 0; i < set.ids.size(); ++i) {
    auto b = kb_.brief(set.ids[i]);
    counts[i] = b ? b->count : 0;
    total += static_cast<double>(counts[i]) + 1;
    if (gold && set.ids[i] == *gold) r.gold_rank = i;
  }
  // Candidates arrive sorted by count (ties in alias-table order), so rank order is kept.
  const size_t n = std::min(set.ids.size(), static_cast<size_t>(std::max(1, options_.top)));
  for (size_t i = 0; i < n; ++i) {
    auto e = kb_.entity(set.ids[i]);
    r.ranked.push_back({set.ids[i], e ? e->title : "", e ? e->ner_class : "",
                        (static_cast<double>(counts[i]) + 1) / total, std::nullopt});
  }
  return r;
}

}  // namespace ner4el
