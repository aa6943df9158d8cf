#include "ner4el/evaluate.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include "ner4el/error.h"
#include "ner4el/text.h"

namespace ner4el {

void NerScore::add(const std::vector<GoldSpan>& gold, const std::vector<TextSpan>& detected) {
  std::set<std::tuple<size_t, size_t, std::string>> g;
  for (const auto& s : gold) {
    if (g.insert({s.start, s.end, s.type}).second) ++all.gold, ++by_type[s.type].gold;
  }
  std::set<std::tuple<size_t, size_t, std::string>> seen;
  for (const auto& s : detected) {
    if (!seen.insert({s.start, s.end, s.type}).second) continue;
    ++all.detected, ++by_type[s.type].detected;
    if (g.count({s.start, s.end, s.type})) ++all.correct, ++by_type[s.type].correct;
  }
}

EvalCounts evaluate(const Linker& linker, const KnowledgeBase& kb, const std::vector<Mention>& mentions,
                    std::size_t batch_size, const ProgressFn& progress, bool title_last_wins,
                    const LinkCallOptions& call) {
  EvalCounts c;
  c.read = mentions.size();
  for (std::size_t b = 0; b < mentions.size(); b += batch_size) {
    std::vector<Mention> batch(mentions.begin() + static_cast<std::ptrdiff_t>(b),
                               mentions.begin() + static_cast<std::ptrdiff_t>(std::min(mentions.size(), b + batch_size)));
    for (const auto& m : batch)
      if (!m.output) throw InvalidArgument("evaluation needs the gold 'output' of every mention ('" + m.mention + "' has none)");
    auto results = linker.link(batch, call);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& r = results[i];
      if (r.miss == CandidateMiss::NotInAliasTable) {
        ++c.not_in_alias_table;
        continue;
      }
      auto gold = kb.id_of_title(*batch[i].output, title_last_wins);
      if (!gold) {
        ++c.gold_unknown;
        continue;
      }
      if (r.ranked.empty()) {
        ++c.no_candidates;
        continue;
      }
      ++c.scored;
      c.gold_in_candidates += r.gold_rank.has_value();
      c.correct += r.ranked.front().id == *gold;
    }
    if (progress) progress("evaluating", std::min(mentions.size(), b + batch_size), mentions.size());
  }
  return c;
}

std::string paper_column(const std::string& file_name) {
  std::string n = lower_case(std::filesystem::path(file_name).filename().string());
  const std::pair<const char*, const char*> names[] = {{"aida", "AIDA"},       {"msnbc", "MSNBC"}, {"aquaint", "AQUAINT"},
                                                       {"ace2004", "ACE2004"}, {"ace", "ACE2004"}, {"cweb", "CWEB"},
                                                       {"clueweb", "CWEB"},    {"wiki", "WIKI"}};
  for (auto [key, column] : names)
    if (n.find(key) != std::string::npos) return column;
  return "";
}

}  // namespace ner4el
