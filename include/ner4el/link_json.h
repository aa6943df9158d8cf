// The JSON of link results, as the CLI, the server and the Python package (to_dict) give them.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

#include "ner4el/linker.h"

namespace ner4el {

/// JSON text of j on one line; invalid UTF-8 in strings (from a user's file) becomes U+FFFD instead
/// of an exception, so an error object can always be written.
inline std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

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

}  // namespace ner4el

#include "ner4el/pipeline.h"

namespace ner4el {

/// One annotated span: offsets (code points and UTF-8 bytes), the mention, its detection score and
/// the link (entity_id null and a reason when it has no candidate).
inline nlohmann::json span_json(const LinkedSpan& s) {
  nlohmann::json j{{"start", s.span.start},           {"end", s.span.end},
                   {"byte_start", s.span.byte_start}, {"byte_end", s.span.byte_end},
                   {"mention", s.span.mention},       {"detection_score", s.span.detection_score}};
  if (!s.span.type.empty()) j["type"] = s.span.type;  // the tagger's NER class
  return result_json(std::move(j), s.result);
}

/// REL's response row: [start, length, mention, entity title (underscores), ed_score, md_score, tag];
/// a span without a candidate gets "NIL", as REL's; tag is the tagger's NER class (REL's Flair tag),
/// else the entity's class.
inline nlohmann::json rel_json(const LinkedSpan& s) {
  std::string title = "NIL", tag = "NULL";
  double ed = 0;
  if (!s.result.ranked.empty()) {
    const auto& best = s.result.ranked.front();
    title = best.title;
    for (auto& c : title)
      if (c == ' ') c = '_';
    ed = best.score;
    if (!best.ner_class.empty()) tag = best.ner_class;
  }
  if (!s.span.type.empty()) tag = s.span.type;
  return nlohmann::json::array({s.span.start, s.span.end - s.span.start, s.span.mention, title, ed, s.span.detection_score, tag});
}

}  // namespace ner4el
