// JSON output of a link result, shared by 'ner4el link' and 'ner4el serve'.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

#include "ner4el/linker.h"

namespace ner4el::cli {

inline nlohmann::json scored_json(const ScoredEntity& e) {
  nlohmann::json j{{"entity_id", e.id}, {"title", e.title}, {"class", e.ner_class}, {"score", e.score}};
  if (e.normalised) j["normalised_score"] = std::isnan(*e.normalised) ? nlohmann::json() : nlohmann::json(*e.normalised);
  if (e.cosine) j["cosine"] = *e.cosine;
  j["prior"] = e.prior;
  j["rank"] = e.rank;
  return j;
}

/// The input object with entity_id, title, class, score and alternatives added (entity_id null and a
/// reason when the mention has no candidate).
inline nlohmann::json result_json(nlohmann::json input, const LinkResult& r) {
  if (r.ranked.empty()) {
    input["entity_id"] = nullptr;
    input["reason"] = r.miss == CandidateMiss::NotInAliasTable ? "not in alias table" : "no candidates";
    return input;
  }
  input.update(scored_json(r.ranked.front()));
  input["alternatives"] = nlohmann::json::array();
  for (const auto& e : r.ranked) input["alternatives"].push_back(scored_json(e));
  return input;
}

}  // namespace ner4el::cli
