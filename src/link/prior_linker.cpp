#include <algorithm>

#include "link/count_prior.h"
#include "ner4el/linker.h"

namespace ner4el {

std::vector<double> count_prior(const KnowledgeBase& kb, const std::vector<int64_t>& ids) {
  std::vector<double> p(ids.size());
  double total = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto b = kb.brief(ids[i]);
    p[i] = static_cast<double>(b ? b->count : 0) + 1;
    total += p[i];
  }
  for (auto& x : p) x /= total;
  return p;
}

PriorLinker::PriorLinker(const KnowledgeBase& kb, LinkOptions options)
    : kb_(kb), candidates_(kb, {.k = options.k, .quirks = options.quirks}), options_(options) {}

std::vector<LinkResult> PriorLinker::link(const std::vector<Mention>& mentions, const LinkCallOptions& call) const {
  const LinkOptions o = options_for(call);
  std::vector<LinkResult> out;
  out.reserve(mentions.size());
  for (size_t i = 0; i < mentions.size(); ++i) out.push_back(link_one(mentions[i], o, "mentions[" + std::to_string(i) + "]"));
  return out;
}

LinkResult PriorLinker::link_one(const Mention& mention, const LinkOptions& options, const std::string& where) const {
  LinkResult r;
  auto set = candidates_.for_mention(mention, options.k, where);
  r.miss = set.miss;
  r.candidates = set.ids.size();
  if (set.ids.empty()) return r;
  std::optional<int64_t> gold;
  if (mention.output) gold = kb_.id_of_title(*mention.output, options.quirks.title_last_wins);
  // The prior needs every candidate's count, but titles and classes only for those reported.
  const std::vector<double> prior = count_prior(kb_, set.ids);
  // Candidates usually arrive sorted by count (ties in alias-table order); the release's
  // alias-table-order quirk keeps short lists in table order, so rank stably by count here.
  std::vector<size_t> order(set.ids.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prior[a] > prior[b]; });
  for (size_t r_i = 0; r_i < order.size(); ++r_i)
    if (gold && set.ids[order[r_i]] == *gold) r.gold_rank = r_i;  // duplicate ids: the last occurrence
  const size_t n = std::min(set.ids.size(), static_cast<size_t>(std::max(1, options.top)));
  for (size_t j = 0; j < n; ++j) {
    const size_t i = order[j];
    auto e = kb_.entity(set.ids[i]);
    r.ranked.push_back({set.ids[i], e ? e->title : "", e ? e->ner_class : "", prior[i], std::nullopt, std::nullopt,
                        prior[i], i});
  }
  return r;
}

}  // namespace ner4el
