// ner4el annotate: raw text in, linked spans out.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/files.h"
#include "ner4el/link_json.h"
#include "linker_setup.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/json.h"
#include "ner4el/pipeline.h"

namespace ner4el::cli {

void add_annotate_command(CLI::App& app) {
  struct Args {
    std::string text, input, output;
    SpotterOptions spot;
    bool all_case = false;
    int batch = 16;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "annotate",
      "Find and link the entity mentions of raw text. Input: --text, or -i FILE of plain text (one document a line) or "
      "JSON Lines {\"id\", \"text\"}. Output: one JSON object per document, {\"id\", \"spans\": [{start, end (Unicode "
      "code points, end exclusive), byte_start, byte_end (UTF-8), mention, detection_score, entity_id, title, class, "
      "score, alternatives, type (the tagger's class)}]}; a span nothing in the KB could be linked to has entity_id "
      "null (NIL). Mentions (--mentions): the KB's aliases found in the text (spotter: longest match first, names only "
      "unless --all-case), the NER tagger's typed spans (tagger), or both");
  auto pf = add_pipeline_flags(cmd);
  add_detection_flags(cmd, *pf);
  auto* text = cmd->add_option("--text", a->text, "one document given on the command line");
  cmd->add_option("-i,--input", a->input, "documents file ('-' for standard input)")->excludes(text);
  cmd->add_option("-o,--output", a->output, "output file (written to a temporary file and renamed); default stdout");
  cmd->add_option("--threshold", a->spot.threshold, "lowest detection score kept (0..1)")->capture_default_str();
  cmd->add_option("--max-tokens", a->spot.max_tokens, "longest mention tried, in tokens")->capture_default_str();
  cmd->add_flag("--all-case", a->all_case, "also spot aliases that are not capitalised (e.g. lower-cased text)");
  cmd->add_option("--batch", a->batch, "documents linked together")->capture_default_str();
  cmd->callback([a, pf] {
    if (a->text.empty() && a->input.empty()) throw InvalidArgument("give --text or -i FILE");
    a->spot.require_capital = !a->all_case;
    auto setup = make_linker(*pf, a->spot);
    std::istringstream given(a->text);
    const bool from_text = !a->text.empty();
    std::optional<InputFile> input;
    if (!from_text) input.emplace(a->input, "input");
    std::istream* in = from_text ? static_cast<std::istream*>(&given) : &input->stream();
    OutputFile output(a->output);
    std::ostream* out = &output.stream();
    // Each line is a document; a line that is a JSON object is {"id", "text"}. Documents are linked
    // in batches and written in input order, malformed lines as {"id", "error"} in their place.
    struct Pending {
      nlohmann::json id, error;
    };
    std::vector<Pending> pending;
    std::vector<std::string> texts;
    size_t docs = 0, spans = 0, linked = 0, n = 0, errors = 0;
    auto flush = [&] {
      auto results = setup.pipeline->annotate(texts);
      size_t d = 0;
      for (const auto& p : pending) {
        if (!p.error.is_null()) {
          *out << json_text({{"id", p.id}, {"error", p.error}}) << "\n";
          continue;
        }
        nlohmann::json doc{{"id", p.id}, {"spans", nlohmann::json::array()}};
        for (const auto& s : results[d]) {
          doc["spans"].push_back(span_json(s));
          linked += !s.result.ranked.empty();
        }
        spans += results[d++].size();
        *out << json_text(doc) << "\n";
      }
      docs += texts.size();
      pending.clear();
      texts.clear();
    };
    std::string line;
    bool too_long = false;
    while (from_text ? (n == 0 && (line = a->text, true)) : read_line(*in, line, kMaxDocumentBytes, too_long)) {
      ++n;
      nlohmann::json id = n;
      if (too_long) {  // (read no further than the bound: memory stays bounded whatever the line)
        pending.push_back({id, "line " + std::to_string(n) + ": a document longer than " +
                                   std::to_string(kMaxDocumentBytes >> 20) + " MiB; split it"});
        ++errors;
        continue;
      }
      std::string body = line;
      if (!from_text && !line.empty() && line[0] == '{') {
        nlohmann::json j;  // discarded (a parse error) when nested too deep
        try {
          check_json_depth(line, "line " + std::to_string(n));
          j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        } catch (const FormatError&) {
        }
        if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
          pending.push_back({id, "line " + std::to_string(n) + ": expected {\"id\", \"text\"} with a string text"});
          ++errors;
          continue;
        }
        body = j["text"].get<std::string>();
        if (j.contains("id")) id = j["id"];
      }
      pending.push_back({id, nullptr});
      texts.push_back(body);
      if (texts.size() >= static_cast<size_t>(std::max(1, a->batch))) flush();
    }
    flush();
    output.commit();
    std::cerr << "annotated " << docs << " document(s): " << spans << " mention(s) found, " << linked << " linked with the "
              << setup.kind() << (errors ? "; " + std::to_string(errors) + " malformed line(s)" : "")
              << (a->output.empty() ? "" : "; wrote " + a->output) << "\n";
  });
}

}  // namespace ner4el::cli
