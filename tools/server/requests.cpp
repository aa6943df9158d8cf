#include "requests.h"

#include "ner4el/error.h"
#include "ner4el/json.h"

namespace ner4el::server {

nlohmann::json parse_request_body(const std::string& raw) {
  try {
    return parse_json(raw, "request body");
  } catch (const FormatError& e) {
    throw RequestError(400, e.what());
  }
}

CallOptions request_options(const nlohmann::json& body, const nlohmann::json* doc) {
  CallOptions o;
  auto field = [&](const char* name) -> const nlohmann::json* {
    if (doc && doc->is_object() && doc->contains(name)) return &(*doc)[name];
    if (body.is_object() && body.contains(name)) return &body[name];
    return nullptr;
  };
  auto integer = [&](const char* name, std::optional<int>& out) {
    if (auto* v = field(name)) {
      if (!v->is_number_integer() || v->get<int64_t>() < -(1 << 30) || v->get<int64_t>() > (1 << 30))
        throw RequestError(400, std::string("field '") + name + "': expected an integer");
      out = v->get<int>();
    }
  };
  integer("k", o.k);
  integer("top", o.top);
  if (auto* v = field("ner_cd")) {
    if (!v->is_boolean()) throw RequestError(400, "field 'ner_cd': expected true or false");
    o.ner_cd = v->get<bool>();
  }
  // (a string: mention detection; /link's "mentions" is the list of mentions, read elsewhere)
  if (auto* v = field("mentions"); v && !v->is_array()) {
    if (!v->is_string() || (*v != "spotter" && *v != "tagger" && *v != "both"))
      throw RequestError(400, "field 'mentions': expected \"spotter\", \"tagger\" or \"both\"");
    o.mentions = v->get<std::string>();
  }
  auto* threshold = field("threshold");
  auto* all_case = field("all_case");
  if (threshold || all_case) {
    o.spotter = SpotterOptions{};
    if (threshold) {
      if (!threshold->is_number()) throw RequestError(400, "field 'threshold': expected a number");
      o.spotter->threshold = threshold->get<double>();
    }
    if (all_case) {
      if (!all_case->is_boolean()) throw RequestError(400, "field 'all_case': expected true or false");
      o.spotter->require_capital = !all_case->get<bool>();
    }
  }
  return o;
}

LinkRequest parse_link_request(const nlohmann::json& body, size_t max_mentions) {
  LinkRequest r;
  r.single = body.is_object() && !body.contains("mentions");
  r.items = r.single ? nlohmann::json::array({body}) : body.is_object() ? body["mentions"] : body;
  if (!r.items.is_array())
    throw RequestError(400, "expected a mention object, an array of mentions or {\"mentions\": [...]}");
  if (r.items.size() > max_mentions)
    throw RequestError(413, std::to_string(r.items.size()) + " mentions in one request; at most " +
                                std::to_string(max_mentions) + " (--max-mentions)");
  for (size_t i = 0; i < r.items.size(); ++i) {
    try {
      r.mentions.push_back(mention_from_json(r.items[i], "request", 0));
    } catch (const FormatError& e) {
      std::string msg = e.what();
      msg.replace(0, std::string("request").size(), "mentions[" + std::to_string(i) + "]");
      throw RequestError(400, msg);
    }
  }
  if (!r.single && body.is_object()) r.options = request_options(body);
  return r;
}

AnnotateRequest parse_annotate_request(const nlohmann::json& body) {
  AnnotateRequest r;
  r.single = body.is_object() && !body.contains("documents");
  r.documents = r.single ? nlohmann::json::array({body}) : body.is_object() ? body["documents"] : body;
  if (!r.documents.is_array())
    throw RequestError(400, "expected {\"text\": ...}, an array of them or {\"documents\": [...]}");
  r.options = request_options(body);
  for (size_t i = 0; i < r.documents.size(); ++i) {
    const auto& d = r.documents[i];
    if (!d.is_object() || !d.contains("text") || !d["text"].is_string())
      throw RequestError(400, "documents[" + std::to_string(i) + "]: field 'text': expected a string");
    r.document_options.push_back(request_options(body, &d));
    r.texts.push_back(valid_utf8(d["text"].get<std::string>()));
  }
  return r;
}

RelRequest parse_rel_request(const nlohmann::json& body, size_t max_spans) {
  if (!body.is_object() || !body.contains("text") || !body["text"].is_string())
    throw RequestError(400, "expected REL's request {\"text\": \"...\", \"spans\": []}");
  RelRequest r;
  r.text = valid_utf8(body["text"].get<std::string>());
  const nlohmann::json given = body.value("spans", nlohmann::json::array());
  if (!given.is_array()) throw RequestError(400, "field 'spans': expected an array of [start, length]");
  if (given.size() > max_spans)
    throw RequestError(413, std::to_string(given.size()) + " spans in one request; at most " + std::to_string(max_spans) +
                                " (--max-mentions)");
  r.detect = given.empty();
  for (size_t i = 0; i < given.size(); ++i) {
    const auto& g = given[i];
    if (!g.is_array() || g.size() < 2 || g.size() > 3 || !g[0].is_number_unsigned() || !g[1].is_number_unsigned())
      throw RequestError(400, "spans[" + std::to_string(i) +
                                  "]: expected [start, length] (non-negative integers), or [start, length, candidates]");
    TextSpan t;
    t.start = g[0].get<size_t>();
    const size_t length = g[1].get<size_t>();
    if (length > r.text.size() || t.start > r.text.size())
      throw RequestError(422, "spans[" + std::to_string(i) + "]: outside the text");
    t.end = t.start + length;
    r.spans.push_back(t);
    if (g.size() >= 3 && !g[2].is_null()) {  // our extension: the span's own candidates
      r.candidates.resize(given.size());
      try {
        r.candidates[i] = given_candidates(g[2], "spans[" + std::to_string(i) + "][2]");
      } catch (const FormatError& e) {
        throw RequestError(400, e.what());
      }
    }
  }
  if (!r.detect) {
    try {
      resolve_offsets(r.text, r.spans, /*by_code_points=*/true);
    } catch (const InvalidArgument& e) {
      throw RequestError(422, std::string("spans: ") + e.what());
    }
  }
  return r;
}

}  // namespace ner4el::server
