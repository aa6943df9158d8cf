#include "ner4el/candidates.h"

#include <algorithm>
#include <unordered_set>

#include "ner4el/error.h"

namespace ner4el {

CandidateGenerator::CandidateGenerator(const KnowledgeBase& kb, CandidateOptions options) : kb_(kb), options_(options) {
  if (options_.k < 1) throw InvalidArgument("candidate count k must be at least 1, got " + std::to_string(options_.k));
}

CandidateSet CandidateGenerator::candidates(std::string_view mention) const {
  CandidateSet out;
  auto ids = kb_.alias(mention);
  if (!ids) {
    out.miss = CandidateMiss::NotInAliasTable;
    return out;
  }
  // The KB stores each alias's described entities already sorted by count, so top-K is a prefix.
  out.ids = std::move(*ids);
  if (out.ids.size() > static_cast<size_t>(options_.k)) out.ids.resize(options_.k);
  if (out.ids.empty()) out.miss = CandidateMiss::NoCandidates;
  return out;
}

void CandidateGenerator::add_negatives(std::vector<int64_t>& ids, NegativeSampling mode, int32_t gold_class,
                                       std::mt19937_64& rng) const {
  if (mode == NegativeSampling::None || ids.size() >= static_cast<size_t>(options_.k)) return;
  std::span<const int64_t> pool = mode == NegativeSampling::Random ? kb_.described_entities()
                                                                   : kb_.described_entities_of_class(gold_class);
  if (pool.empty()) return;
  std::unordered_set<int64_t> taken(ids.begin(), ids.end());
  size_t available = pool.size();
  for (int64_t id : ids)
    if (std::binary_search(pool.begin(), pool.end(), id)) --available;  // pools are sorted
  size_t want = std::min(static_cast<size_t>(options_.k) - ids.size(), available);
  std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
  // Rejection sampling is fast while the pool is much larger than K; a small pool is shuffled.
  if (pool.size() > 4 * static_cast<size_t>(options_.k)) {
    while (want > 0) {
      int64_t id = pool[pick(rng)];
      if (taken.insert(id).second) {
        ids.push_back(id);
        --want;
      }
    }
  } else {
    std::vector<int64_t> rest;
    for (int64_t id : pool)
      if (!taken.count(id)) rest.push_back(id);
    std::shuffle(rest.begin(), rest.end(), rng);
    ids.insert(ids.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(want));
  }
}

}  // namespace ner4el
