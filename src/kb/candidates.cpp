#include "ner4el/candidates.h"

#include <algorithm>
#include <cctype>
#include <numeric>
#include <unordered_set>

#include "ner4el/error.h"

namespace ner4el {

std::optional<size_t> gold_index(const std::vector<int64_t>& ids, int64_t gold, bool last_occurrence) {
  std::optional<size_t> at;
  for (size_t j = 0; j < ids.size(); ++j)
    if (ids[j] == gold) {
      at = j;
      if (!last_occurrence) break;
    }
  return at;
}

CandidateGenerator::CandidateGenerator(const KnowledgeBase& kb, CandidateOptions options) : kb_(kb), options_(options) {
  if (options_.k < 1) throw InvalidArgument("candidate count k must be at least 1, got " + std::to_string(options_.k));
  const auto& q = options_.quirks;
  if ((q.exact_alias_keys || q.alias_table_order || q.duplicate_ids || q.title_last_wins) && !kb_.has_release_views())
    throw InvalidArgument("the release's alias-table quirks need a knowledge base of format 3 or newer (this one is format " +
                          std::to_string(kb_.info().format_version) + "): rebuild it with 'ner4el kb build'");
}

namespace {
/// The first k of ids by decreasing count; equal counts keep their order.
std::vector<int64_t> by_count(const KnowledgeBase& kb, const std::vector<int64_t>& ids, size_t k) {
  std::vector<int64_t> counts(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto b = kb.brief(ids[i]);
    counts[i] = b ? b->count : 0;
  }
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return counts[a] > counts[b]; });
  std::vector<int64_t> out;
  for (size_t i = 0; i < order.size() && i < k; ++i) out.push_back(ids[order[i]]);
  return out;
}
}  // namespace

std::string_view name_core(std::string_view mention) {
  auto starts = [&](std::string_view p) {
    if (mention.size() <= p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(mention[i])) != p[i]) return false;
    return true;
  };
  for (std::string_view d : {"the ", "a ", "an "})
    if (starts(d)) {
      mention.remove_prefix(d.size());
      break;
    }
  for (std::string_view p : {"'s", "\u2019s", "'", "\u2019"})
    if (mention.size() > p.size() && mention.substr(mention.size() - p.size()) == p) {
      mention.remove_suffix(p.size());
      break;
    }
  while (!mention.empty() && mention.back() == ' ') mention.remove_suffix(1);
  return mention;
}

CandidateSet CandidateGenerator::candidates(std::string_view mention, int k_call) const {
  CandidateSet out;
  const size_t k = static_cast<size_t>(k_call > 0 ? k_call : options_.k);
  const auto& q = options_.quirks;
  if (q.exact_alias_keys || q.alias_table_order || q.duplicate_ids) {
    // The release's reading of its alias dict (docs/reference.md "Release quirks", Candidates).
    auto raw = kb_.raw_alias(mention);
    if (!raw || (q.exact_alias_keys && !raw->exact)) {
      out.miss = CandidateMiss::NotInAliasTable;
      return out;
    }
    std::vector<int64_t> ids = q.exact_alias_keys ? std::move(*raw->exact) : std::move(raw->merged);
    if (!q.duplicate_ids) {
      std::unordered_set<int64_t> seen;
      std::erase_if(ids, [&](int64_t id) { return !seen.insert(id).second; });
    }
    if (!q.alias_table_order || ids.size() > k) ids = by_count(kb_, ids, k);
    out.ids = std::move(ids);
    if (out.ids.empty()) out.miss = CandidateMiss::NoCandidates;
    return out;
  }
  auto ids = kb_.alias(mention);
  if (!ids) {
    // "the United States", "Germany's": the name inside, when the whole is no alias.
    const std::string_view core = name_core(mention);
    if (core.size() != mention.size() && !core.empty()) ids = kb_.alias(core);
  }
  if (!ids) {
    out.miss = CandidateMiss::NotInAliasTable;
    return out;
  }
  // The KB stores each alias's described entities already sorted by count, so top-K is a prefix.
  out.ids = std::move(*ids);
  if (out.ids.size() > k) out.ids.resize(k);
  if (out.ids.empty()) out.miss = CandidateMiss::NoCandidates;
  return out;
}

CandidateSet CandidateGenerator::given(const std::vector<GivenCandidate>& candidates, int k_call, const std::string& where) const {
  CandidateSet out;
  const size_t k = static_cast<size_t>(k_call > 0 ? k_call : options_.k);
  std::vector<int64_t> ids;
  std::unordered_set<int64_t> seen;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const GivenCandidate& c = candidates[i];
    auto at = [&] { return where + ": candidates[" + std::to_string(i) + "]"; };
    std::optional<int64_t> id = c.id;
    if (!id) {
      id = kb_.id_of_title(c.title, options_.quirks.title_last_wins);
      if (!id) throw FormatError(at() + ": no entity titled '" + c.title + "' in the knowledge base");
    }
    const auto brief = kb_.brief(*id);
    if (!brief) throw FormatError(at() + ": no entity with id " + std::to_string(*id) + " in the knowledge base");
    if (brief->has_description && seen.insert(*id).second) ids.push_back(*id);
  }
  out.ids = by_count(kb_, ids, k);
  if (out.ids.empty()) out.miss = CandidateMiss::NoCandidates;
  return out;
}

CandidateSet CandidateGenerator::for_mention(const Mention& mention, int k, const std::string& where) const {
  return mention.candidates ? given(*mention.candidates, k, where) : candidates(mention.mention, k);
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

CandidateGenerator::ReleaseNerNsPool::ReleaseNerNsPool(const KnowledgeBase& kb) {
  pools_.resize(kb.info().classes.size());
  for (size_t c = 0; c < pools_.size(); ++c)
    for (int64_t id : kb.described_entities_of_class(static_cast<int32_t>(c))) {
      auto b = kb.brief(id);
      if (b && b->count > 0) pools_[c].push_back(id);  // the release's pool iterates its count table
    }
}

void CandidateGenerator::ReleaseNerNsPool::add_negatives(std::vector<int64_t>& ids, int32_t gold_class, int k,
                                                         std::mt19937_64& rng) {
  // A full list (K candidates, usually cut from a longer one) takes no negatives and, as the release's
  // longer-than-K branch, leaves the pool alone.
  if (gold_class < 0 || static_cast<size_t>(gold_class) >= pools_.size() || ids.size() >= static_cast<size_t>(k)) return;
  auto& pool = pools_[gold_class];
  // The release removes the mention's candidates from the shared list itself, for every later mention.
  for (int64_t id : ids) {
    auto it = std::lower_bound(pool.begin(), pool.end(), id);
    if (it != pool.end() && *it == id) pool.erase(it);
  }
  const size_t want = std::min(static_cast<size_t>(k) - ids.size(), pool.size());
  // random.sample: without replacement, from the pool as it now is (which the draw leaves intact).
  std::vector<size_t> picked;
  std::unordered_set<size_t> taken;
  std::uniform_int_distribution<size_t> pick(0, pool.empty() ? 0 : pool.size() - 1);
  while (picked.size() < want) {
    size_t i = pick(rng);
    if (taken.insert(i).second) picked.push_back(i);
  }
  for (size_t i : picked) ids.push_back(pool[i]);
}

}  // namespace ner4el
