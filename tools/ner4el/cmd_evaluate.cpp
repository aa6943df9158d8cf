#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "linker_setup.h"
#include "ner4el/evaluate.h"
#include "ner4el/runtime.h"
#include "progress.h"
#include "release_flags.h"

namespace ner4el::cli {

void add_evaluate_command(CLI::App& app) {
  struct Args {
    std::string kb, model, vocab, index, ner_model;
    std::vector<std::string> data;
    LinkOptions opt;
    int aquaint_k = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("evaluate", "In-KB accuracy and candidate recall per data set, with the drop counts, "
                                             "and the paper's table (Markdown, or --json)");
  cmd->add_option("--kb", a->kb, "knowledge base")->required();
  cmd->add_option("--data", a->data, "data sets (NER4EL JSON Lines with gold 'output')")->required();
  cmd->add_option("--model", a->model,
                  "trained linker, or 'prior' for the count-prior baseline (default: the installed pretrained "
                  "encoder with the fitted prior weights)");
  cmd->add_option("--vocab", a->vocab, "Hugging Face folder (config.json, vocab.txt) when the model has none");
  cmd->add_option("--index", a->index, "entity-vector index made with the same model");
  cmd->add_option("--ner-model", a->ner_model, "NER classifier (ner_classifier.pt or a converted folder)");
  cmd->add_flag("--ner-cd", a->opt.ner_cd, "NER-constrained decoding");
  cmd->add_flag("--ner-cg", a->opt.ner_cg, "NER-enhanced candidate generation");

  cmd->add_option("-k", a->opt.k, "candidates per mention")->capture_default_str();
  cmd->add_option("--aquaint-k", a->aquaint_k, "candidates for AQUAINT (default: -k; 5 with --release-compat, as the release)");
  auto rf = add_release_flags(cmd);
  auto pf = add_prior_flags(cmd);
  cmd->add_flag("--json", a->json, "print JSON instead of Markdown");
  cmd->callback([a, rf, pf] {
    configure_threads();
    a->opt.quirks = rf->resolve();
    if (a->aquaint_k <= 0) a->aquaint_k = a->opt.quirks.aquaint_k5 ? 5 : a->opt.k;
    LinkOptions aq = a->opt;
    aq.k = a->aquaint_k;
    auto setup = make_linker(a->kb, a->model, a->vocab, a->index, a->opt, a->ner_model, *pf);
    auto setup_aq =
        a->aquaint_k != a->opt.k ? make_linker(a->kb, a->model, a->vocab, a->index, aq, a->ner_model, *pf) : LinkerSetup{};
    Progress progress;
    nlohmann::json sets = nlohmann::json::array();
    std::map<std::string, double> columns;
    for (const auto& path : a->data) {
      auto mentions = read_mentions(path, {.require_output = true});
      const std::string column = paper_column(path);
      const Linker& linker = (column == "AQUAINT" && setup_aq.linker) ? *setup_aq.linker : *setup.linker;
      auto c = evaluate(linker, *setup.kb, mentions, 64, [&](std::string_view s, uint64_t d, uint64_t t) { progress(s, d, t); },
                        a->opt.quirks.title_last_wins);
      progress.done();
      const std::string name = std::filesystem::path(path).stem().string();
      sets.push_back({{"data", name}, {"column", column}, {"read", c.read}, {"not_in_alias_table", c.not_in_alias_table},
                      {"gold_unknown", c.gold_unknown}, {"no_candidates", c.no_candidates}, {"scored", c.scored},
                      {"recall", c.recall()}, {"accuracy", c.accuracy()},
                      {"k", column == "AQUAINT" && setup_aq.linker ? a->aquaint_k : a->opt.k}});
      columns[column.empty() ? name : column] = 100 * c.accuracy();
    }
    const std::string system = setup.kind() + (a->opt.ner_cg ? " + NER-CG" : "") + (a->opt.ner_cd ? " + NER-CD" : "") +
                               (a->opt.quirks.any() ? " (release quirks)" : "");
    if (a->json) {
      std::cout << nlohmann::json{{"system", system}, {"release_quirks", a->opt.quirks.enabled()}, {"data_sets", sets}}.dump(2)
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
