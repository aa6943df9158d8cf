#include "ner4el/dataset.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ner4el/error.h"
#include "ner4el/files.h"
#include "ner4el/json.h"
#include "ner4el/text.h"

namespace ner4el {

namespace {
const char* type_name(const nlohmann::json& v) { return v.type_name(); }

std::string get_string(const nlohmann::json& obj, const char* field, const std::string& file, std::size_t line,
                       bool required, bool* present = nullptr) {
  auto it = obj.find(field);
  if (it == obj.end() || (it->is_null() && !required)) {
    if (present) *present = false;
    if (required) throw FormatError(location(file, line, field) + ": missing (expected a string)");
    return {};
  }
  if (!it->is_string())
    throw FormatError(location(file, line, field) + ": expected a string, found " + type_name(*it));
  if (present) *present = true;
  return it->get<std::string>();
}
}  // namespace

Mention parse_mention(std::string_view line, const std::string& file, std::size_t line_number, bool require_output) {
  return mention_from_json(parse_json(line, location(file, line_number)), file, line_number, require_output);
}

Mention mention_from_json(const nlohmann::json& j, const std::string& file, std::size_t line_number,
                          bool require_output) {
  if (!j.is_object())
    throw FormatError(location(file, line_number) + ": expected a JSON object, found " + type_name(j));
  Mention m;
  // BLINK's field names when the line has no NER4EL left context but BLINK's.
  const bool blink = !j.contains("left_context") && j.contains("context_left");
  m.mention = get_string(j, "mention", file, line_number, true);
  m.left_context = get_string(j, blink ? "context_left" : "left_context", file, line_number, true);
  m.right_context = get_string(j, blink ? "context_right" : "right_context", file, line_number, true);
  bool has_output = false;
  std::string out = get_string(j, blink ? "label_title" : "output", file, line_number, require_output, &has_output);
  if (has_output) m.output = std::move(out);
  if (auto it = j.find("candidates"); it != j.end() && !it->is_null())
    m.candidates = given_candidates(*it, location(file, line_number, "candidates"));
  if (auto it = j.find("ner"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 64)
      throw FormatError(location(file, line_number, "ner") + ": expected a NER class name (a string of at most 64 bytes)");
    m.ner = it->get<std::string>();
  }
  return m;
}

std::vector<GivenCandidate> given_candidates(const nlohmann::json& value, const std::string& where) {
  if (!value.is_array()) throw FormatError(where + ": expected a list of KB ids or titles, found " + type_name(value));
  if (value.size() > kMaxGivenCandidates)
    throw FormatError(where + ": " + std::to_string(value.size()) + " candidates, more than the " +
                      std::to_string(kMaxGivenCandidates) + " a mention may bring");
  std::vector<GivenCandidate> out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const auto& v = value[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (v.is_number_integer()) {
      out.push_back({v.get<int64_t>(), {}});
    } else if (v.is_string()) {
      const auto& t = v.get_ref<const std::string&>();
      if (t.empty() || t.size() > 4096) throw FormatError(at + ": a title is 1 to 4,096 bytes");
      out.push_back({std::nullopt, t});
    } else {
      throw FormatError(at + ": expected a KB id (an integer) or a title (a string), found " + type_name(v));
    }
  }
  return out;
}

std::vector<Mention> read_mentions(const std::string& path, const DatasetOptions& options, DatasetReport* report) {
  std::vector<Mention> out;
  for_each_mention(path, options, [&](Mention&& m, std::size_t) { out.push_back(std::move(m)); }, report);
  return out;
}

void for_each_mention(const std::string& path, const DatasetOptions& options,
                      const std::function<void(Mention&&, std::size_t)>& fn, DatasetReport* report) {
  std::ifstream file;
  std::istream* in = &std::cin;
  const std::string name = path == "-" ? "<stdin>" : path;
  if (path != "-") {
    if (std::filesystem::is_directory(path)) throw InvalidArgument("data set " + path + " is a directory, not a JSON Lines file");
    file.open(path, std::ios::binary);
    if (!file) throw NotFound("cannot open data set " + path);
    in = &file;
  }
  DatasetReport local;
  DatasetReport& r = report ? *report : local;
  r = DatasetReport{};
  std::string line;
  std::size_t number = 0;
  while (std::getline(*in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    ++r.lines;
    std::optional<Mention> m;
    try {
      m = parse_mention(line, name, number, options.require_output);
      ++r.read;
    } catch (const FormatError& e) {
      if (!options.skip_bad) throw;
      ++r.skipped;
      if (r.errors.size() < 20) r.errors.push_back(e.what());
    }
    if (m) fn(std::move(*m), number);
  }
}

namespace {
std::vector<GoldSpan> gold_spans(const nlohmann::json& j, const char* key, const char* type_key, const std::string& text,
                                 size_t text_points, const std::string& where) {
  std::vector<GoldSpan> out;
  if (!j.contains(key)) return out;
  const auto& list = j[key];
  if (!list.is_array()) throw FormatError(where + ": field '" + key + "': expected a list");
  std::vector<TextSpan> resolved;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& s = list[i];
    const std::string at = where + ": field '" + key + "[" + std::to_string(i) + "]'";
    if (!s.is_object() || !s.contains("start") || !s.contains("end") || !s["start"].is_number_unsigned() ||
        !s["end"].is_number_unsigned())
      throw FormatError(at + ": expected an object with non-negative integers 'start' and 'end'");
    GoldSpan g;
    g.start = s["start"].get<size_t>();
    g.end = s["end"].get<size_t>();
    if (g.start > g.end || g.end > text_points)
      throw FormatError(at + ": span [" + std::to_string(g.start) + ", " + std::to_string(g.end) +
                        ") is outside the text's " + std::to_string(text_points) + " code points");
    if (s.contains(type_key) && s[type_key].is_string()) g.type = s[type_key].get<std::string>();
    if (s.contains("title") && s["title"].is_string()) g.title = s["title"].get<std::string>();
    TextSpan t;
    t.start = g.start;
    t.end = g.end;
    resolved.push_back(t);
    out.push_back(std::move(g));
  }
  resolve_offsets(text, resolved, /*by_code_points=*/true);
  for (size_t i = 0; i < out.size(); ++i) out[i].byte_start = resolved[i].byte_start, out[i].byte_end = resolved[i].byte_end;
  return out;
}
}  // namespace

Document parse_document(std::string_view line, const std::string& file, std::size_t line_number) {
  const std::string where = file + ":" + std::to_string(line_number);
  const nlohmann::json j = parse_json(line, where);
  if (!j.is_object()) throw FormatError(where + ": expected a JSON object (a document)");
  if (!j.contains("text") || !j["text"].is_string()) throw FormatError(where + ": field 'text': missing or not a string");
  Document d;
  d.text = valid_utf8(j["text"].get<std::string>());
  if (j.contains("id")) d.id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
  const size_t points = code_points(d.text);
  d.spans = gold_spans(j, "spans", "ner", d.text, points, where);
  d.ner_spans = gold_spans(j, "ner_spans", "type", d.text, points, where);
  return d;
}

void for_each_document(const std::string& path, const std::function<void(Document&&, std::size_t)>& fn) {
  InputFile in(path, "document file");
  std::string line;
  std::size_t number = 0;
  bool too_long = false;
  while (read_line(in.stream(), line, kMaxDocumentBytes, too_long)) {
    ++number;
    if (too_long)
      throw FormatError(in.name() + ":" + std::to_string(number) + ": line longer than " +
                        std::to_string(kMaxDocumentBytes >> 20) + " MiB (one document a line)");
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    fn(parse_document(line, in.name(), number), number);
  }
}

std::vector<Document> read_documents(const std::string& path) {
  std::vector<Document> docs;
  for_each_document(path, [&](Document&& d, std::size_t) { docs.push_back(std::move(d)); });
  return docs;
}

}  // namespace ner4el
