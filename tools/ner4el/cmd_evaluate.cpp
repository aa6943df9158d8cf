#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "linker_setup.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/files.h"
#include "ner4el/json.h"
#include "ner4el/pipeline.h"
#include "ner4el/runtime.h"
#include "progress.h"

namespace ner4el::cli {

namespace {

/// Whether a data set holds whole documents ({"text", "spans"}, as ../shared/data/aida/*_docs.jsonl)
/// rather than mentions in context: its first non-empty line says.
bool is_document_file(const std::string& path) {
  InputFile in(path, "data set");
  std::string line;
  bool too_long = false;
  while (read_line(in.stream(), line, kMaxDocumentBytes, too_long))
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      if (too_long) return false;  // (read as mentions, which name the line in their error)
      try {
        const nlohmann::json j = parse_json(line, in.name());  // (depth-checked before parsing)
        return j.is_object() && j.contains("text") && !j.contains("mention");
      } catch (const FormatError&) {
        return false;  // (read as mentions, which name the line and field in their error)
      }
    }
  return false;
}

void end_to_end_report(const Pipeline& pipeline, const std::vector<std::string>& data, bool title_last_wins, bool json) {
  nlohmann::json sets = nlohmann::json::array();
  for (const auto& path : data) {
    const auto r = is_document_file(path) ? evaluate_documents_end_to_end(pipeline, read_documents(path), title_last_wins)
                                          : evaluate_end_to_end(pipeline, read_mentions(path, {.require_output = true}), title_last_wins);
    sets.push_back({{"data", std::filesystem::path(path).stem().string()}, {"documents", r.documents},
                    {"gold_spans", r.gold}, {"detected", r.detected}, {"detected_right", r.detected_right},
                    {"md_precision", r.md_precision()}, {"md_recall", r.md_recall()}, {"md_f1", r.md_f1()},
                    {"gold_in_kb", r.gold_in_kb}, {"linked", r.linked}, {"linked_right", r.linked_right},
                    {"el_precision", r.el_precision()}, {"el_recall", r.el_recall()}, {"el_f1", r.el_f1()},
                    {"detection_chars_per_s", r.detect_seconds > 0 ? r.characters / r.detect_seconds : 0.0},
                    {"linked_spans_per_s", r.link_seconds > 0 ? r.detected / r.link_seconds : 0.0}});
  }
  if (json) {
    std::cout << nlohmann::json{{"system", pipeline.description()}, {"mentions", pipeline.mentions()}, {"data_sets", sets}}.dump(2)
              << "\n";
    return;
  }
  std::printf("End to end (%s; mentions: %s). MD: exact spans; EL: strong match, gold spans in the KB.\n\n",
              pipeline.description().c_str(), pipeline.mentions().c_str());
  std::printf("| data set | documents | gold spans | detected | MD P | MD R | MD F1 | gold in KB | EL P | EL R | EL F1 | detection chars/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& s : sets)
    std::printf("| %s | %zu | %zu | %zu | %.1f | %.1f | %.1f | %zu | %.1f | %.1f | %.1f | %.0f |\n",
                s["data"].get<std::string>().c_str(), s["documents"].get<size_t>(), s["gold_spans"].get<size_t>(),
                s["detected"].get<size_t>(), 100 * s["md_precision"].get<double>(), 100 * s["md_recall"].get<double>(),
                100 * s["md_f1"].get<double>(), s["gold_in_kb"].get<size_t>(), 100 * s["el_precision"].get<double>(),
                100 * s["el_recall"].get<double>(), 100 * s["el_f1"].get<double>(), s["detection_chars_per_s"].get<double>());
}

/// The data set's mentions; a candidate a mention brings that the KB lacks is an error naming its line.
std::vector<Mention> read_checked(const std::string& path, const Pipeline& pipeline) {
  std::vector<Mention> out;
  for_each_mention(path, {.require_output = true}, [&](Mention&& m, size_t line) {
    pipeline.check_candidates(m, location(path, line));
    out.push_back(std::move(m));
  });
  return out;
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> data;
    int aquaint_k = 0;
    bool json = false, end_to_end = false;
    SpotterOptions spot;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("evaluate", "In-KB accuracy and candidate recall per data set, with the drop counts, "
                                             "and the paper's table (Markdown, or --json)");
  auto pf = add_pipeline_flags(cmd);
  add_detection_flags(cmd, *pf);
  cmd->add_option("--data", a->data, "data sets (NER4EL JSON Lines with gold 'output')")->required();
  cmd->add_option("--aquaint-k", a->aquaint_k, "candidates for AQUAINT (default: -k; 5 with --release-compat, as the release)");
  cmd->add_flag("--json", a->json, "print JSON instead of Markdown");
  cmd->add_flag("--end-to-end", a->end_to_end,
                "raw text in: find the mentions of each document (a data set of whole documents with gold \"spans\", as "
                "AIDA-CoNLL's *_docs.jsonl, or of each record's text, left + mention + right) and link them; report "
                "mention-detection precision/recall/F1 and strong-match linking F1 against the gold spans (in-KB)");
  cmd->add_option("--threshold", a->spot.threshold, "with --end-to-end: lowest detection score kept")->capture_default_str();
  cmd->callback([a, pf] {
    auto setup = make_linker(*pf, a->spot);
    const LinkOptions& opt = pf->link();  // with the quirks resolved
    if (a->aquaint_k <= 0) a->aquaint_k = opt.quirks.aquaint_k5 ? 5 : opt.k;
    if (a->end_to_end) return end_to_end_report(*setup.pipeline, a->data, opt.quirks.title_last_wins, a->json);
    Progress progress;
    nlohmann::json sets = nlohmann::json::array();
    std::map<std::string, double> columns;
    for (const auto& path : a->data) {
      auto mentions = read_checked(path, *setup.pipeline);
      const std::string column = paper_column(path);
      // AQUAINT with its own K (the release's 5), as a per-call option of the same pipeline.
      const int k = column == "AQUAINT" ? a->aquaint_k : opt.k;
      LinkCallOptions call;
      if (k != opt.k) call.k = k;
      auto c = evaluate(*setup.linker, *setup.kb, mentions, 64,
                        [&](std::string_view s, uint64_t d, uint64_t t) { progress(s, d, t); },
                        opt.quirks.title_last_wins, call);
      progress.done();
      const std::string name = std::filesystem::path(path).stem().string();
      sets.push_back({{"data", name}, {"column", column}, {"read", c.read}, {"not_in_alias_table", c.not_in_alias_table},
                      {"gold_unknown", c.gold_unknown}, {"no_candidates", c.no_candidates}, {"scored", c.scored},
                      {"recall", c.recall()}, {"accuracy", c.accuracy()},
                      {"k", k}});
      columns[column.empty() ? name : column] = 100 * c.accuracy();
    }
    const std::string system = setup.kind() + (opt.ner_cg ? " + NER-CG" : "") + (opt.ner_cd ? " + NER-CD" : "") +
                               (opt.quirks.any() ? " (release quirks)" : "");
    if (a->json) {
      std::cout << nlohmann::json{{"system", system}, {"release_quirks", opt.quirks.enabled()}, {"data_sets", sets}}.dump(2)
                << "\n";
      return;
    }
    std::printf("| data set | read | not in alias table | gold unknown | no candidates | scored | K | recall | accuracy |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    for (const auto& s : sets)
      std::printf("| %s | %zu | %zu | %zu | %zu | %zu | %d | %.1f | %.1f |\n", s["data"].get<std::string>().c_str(),
                  s["read"].get<size_t>(), s["not_in_alias_table"].get<size_t>(), s["gold_unknown"].get<size_t>(),
                  s["no_candidates"].get<size_t>(), s["scored"].get<size_t>(), s["k"].get<int>(),
                  100 * s["recall"].get<double>(), 100 * s["accuracy"].get<double>());
    // The paper's table: its six columns where present, then the average of those present.
    const char* paper[] = {"AIDA", "MSNBC", "AQUAINT", "ACE2004", "CWEB", "WIKI"};
    std::string head = "\n| system |", rule = "|---|", row = "| " + system + " |";
    double sum = 0;
    int n = 0;
    for (const char* col : paper) {
      head += std::string(" ") + col + " |";
      rule += "---|";
      auto it = columns.find(col);
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.1f |", it == columns.end() ? 0.0 : it->second);
      row += it == columns.end() ? std::string(" - |") : std::string(buf);
      if (it != columns.end()) {
        sum += it->second;
        ++n;
      }
    }
    char avg[32];
    std::snprintf(avg, sizeof avg, " %.2f |", n ? sum / n : 0.0);
    std::cout << head << " Avg |\n" << rule << "---|\n" << row << (n ? avg : " - |") << "\n";
  });
}

}  // namespace ner4el::cli
