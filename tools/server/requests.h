// The server's requests, parsed and checked without the model (so fuzz/fuzz_http reaches all of it):
// the bodies of POST /link, POST /annotate and REL's POST / as server.cpp answers them.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "ner4el/dataset.h"
#include "ner4el/json.h"
#include "ner4el/pipeline.h"

namespace ner4el::server {

/// A request the server refuses: its HTTP status (400 malformed, 413 too large, 422 valid JSON
/// that does not fit the text) and the message of the JSON error.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

/// The body as JSON, nested at most kMaxJsonDepth deep. @throws RequestError 400.
nlohmann::json parse_request_body(const std::string& raw);

/// Per-call options of a body (k, top, ner_cd; threshold and all_case for the spotter), the
/// document's own fields (doc) before the body's. Types are checked here, ranges by the pipeline.
/// @throws RequestError 400.
CallOptions request_options(const nlohmann::json& body, const nlohmann::json* doc = nullptr);

/// POST /link: a mention object, an array of them, or {"mentions": [...], "k"?, "top"?, "ner_cd"?}.
struct LinkRequest {
  bool single = false;           ///< one mention object: answer with one object
  nlohmann::json items;          ///< the mention objects, echoed in the answer
  std::vector<Mention> mentions;
  CallOptions options;
};
/// @throws RequestError 400, or 413 past max_mentions.
LinkRequest parse_link_request(const nlohmann::json& body, size_t max_mentions);

/// POST /annotate: {"text", "id"?, "threshold"?, "all_case"?}, an array of them, or
/// {"documents": [...]} with the options beside.
struct AnnotateRequest {
  bool single = false;
  nlohmann::json documents;
  std::vector<std::string> texts;             ///< valid UTF-8 (invalid bytes replaced)
  std::vector<CallOptions> document_options;  ///< each document's spotter rules
  CallOptions options;
};
/// @throws RequestError 400.
AnnotateRequest parse_annotate_request(const nlohmann::json& body);

/// REL's POST / and /ne: {"text": ..., "spans": []} (detect the mentions) or "spans": [[start,
/// length], ...] in code points (link those).
struct RelRequest {
  std::string text;  ///< valid UTF-8
  bool detect = false;
  std::vector<TextSpan> spans;  ///< offsets resolved (resolve_offsets) when given
  /// The candidates each given span brought ([start, length, [id or title, ...]]), parallel to
  /// spans; empty when none did.
  std::vector<std::optional<std::vector<GivenCandidate>>> candidates;
};
/// @throws RequestError 400, 413 past max_spans, 422 for spans outside the text.
RelRequest parse_rel_request(const nlohmann::json& body, size_t max_spans);

}  // namespace ner4el::server
