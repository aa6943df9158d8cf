// Reader for the NER4EL data-set format: JSON Lines, one mention a line,
// {"mention", "left_context", "right_context", "output"}; BLINK's lines
// {"context_left", "mention", "context_right", "label_title", ...} are read as the same fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ner4el {

/// A candidate a mention brings with it: a KB id (a JSON number) or a title (a JSON string).
struct GivenCandidate {
  std::optional<int64_t> id;
  std::string title;  ///< when there is no id
  bool operator==(const GivenCandidate& o) const { return id == o.id && title == o.title; }
};

/// Most candidates one mention may bring.
inline constexpr std::size_t kMaxGivenCandidates = 10000;

/// One mention in context. output is the gold Wikipedia title when the data set has one.
/// candidates, when given ("candidates": [id or title, ...]), replace the alias table's for this
/// mention (docs/reference.md "Candidates").
struct Mention {
  std::string mention;
  std::string left_context;
  std::string right_context;
  std::optional<std::string> output;
  std::optional<std::vector<GivenCandidate>> candidates;
  /// The mention's NER class when the data ("ner": "PER") or the tagger gave one; NER-CD and NER-CG
  /// use it when no NER classifier is loaded.
  std::string ner;
};

/// The candidates of a JSON value ([id or title, ...]). where names it in errors.
/// @throws FormatError "where[i]: ..." for anything else, more than kMaxGivenCandidates, or an
/// empty or over-long title.
std::vector<GivenCandidate> given_candidates(const nlohmann::json& value, const std::string& where);

struct DatasetOptions {
  bool skip_bad = false;        ///< count and skip malformed lines instead of throwing
  bool require_output = false;  ///< "output" must be present (training and evaluation)
};

/// What a read did. errors holds the first 20 messages of skipped lines.
struct DatasetReport {
  std::size_t lines = 0;    ///< non-empty lines seen
  std::size_t read = 0;     ///< mentions returned
  std::size_t skipped = 0;  ///< malformed lines skipped (skip_bad only)
  std::vector<std::string> errors;
};

/// Parses one line, NER4EL's fields or BLINK's (context_left, context_right, label_title; a line
/// with left_context is read as NER4EL's). file and line_number only go into error messages.
/// @throws FormatError "file:line: field 'x': ..." for bad JSON, a missing field or a wrong type.
Mention parse_mention(std::string_view line, const std::string& file, std::size_t line_number,
                      bool require_output = false);

/// parse_mention of a line already parsed (the caller keeps the JSON, e.g. to write it back).
/// @throws FormatError as parse_mention.
Mention mention_from_json(const nlohmann::json& j, const std::string& file, std::size_t line_number,
                          bool require_output = false);

/// Reads a whole file ("-" reads standard input). Empty lines are ignored.
/// @throws NotFound if the file cannot be opened; FormatError on the first bad line unless skip_bad.
std::vector<Mention> read_mentions(const std::string& path, const DatasetOptions& options = {},
                                   DatasetReport* report = nullptr);

/// Streams a file a mention at a time (memory does not grow with the file): calls fn(mention,
/// line number) for each. Errors as read_mentions.
void for_each_mention(const std::string& path, const DatasetOptions& options,
                      const std::function<void(Mention&&, std::size_t)>& fn, DatasetReport* report = nullptr);

/// A whole document with its gold spans, as `../shared/data/aida/*_docs.jsonl` gives them:
/// {"id", "text", "spans": [{"start", "end", "ner", "title"}], "ner_spans": [{"start", "end", "type"}]}
/// (offsets in code points, end exclusive; "spans" and "ner_spans" optional). Every CoNLL-format
/// NER data set converted to it reads the same way, in any language.
struct GoldSpan {
  std::size_t start = 0, end = 0;    ///< code points of the text
  std::size_t byte_start = 0, byte_end = 0;
  std::string type;                  ///< NER class ("ner" in spans, "type" in ner_spans)
  std::optional<std::string> title;  ///< linked entity; none for NIL (spans only)
};
struct Document {
  std::string id, text;             ///< text made valid UTF-8
  std::vector<GoldSpan> spans;      ///< entity-linking gold (NIL included)
  std::vector<GoldSpan> ner_spans;  ///< NER gold
};

/// Longest document line read (bytes); a longer line is an error naming it.
inline constexpr std::size_t kMaxDocumentBytes = std::size_t(64) << 20;

/// Parses one document line. @throws FormatError "file:line: field 'x': ..." for bad JSON, a
/// missing text, or a span outside the text or with start > end.
Document parse_document(std::string_view line, const std::string& file, std::size_t line_number);
/// Streams a file of documents ("-": standard input), one at a time. @throws NotFound,
/// InvalidArgument (a directory), FormatError as parse_document or for a line over kMaxDocumentBytes.
void for_each_document(const std::string& path, const std::function<void(Document&&, std::size_t)>& fn);
std::vector<Document> read_documents(const std::string& path);

}  // namespace ner4el
