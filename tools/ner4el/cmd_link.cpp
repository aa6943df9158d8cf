#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/files.h"
#include "ner4el/json.h"
#include "ner4el/link_json.h"
#include "linker_setup.h"
#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/linker.h"
#include "ner4el/runtime.h"

namespace ner4el::cli {


void add_link_command(CLI::App& app) {
  struct Args {
    std::string input = "-", output;
    int batch = 64;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "link", "Link mentions (NER4EL JSON Lines: mention, left_context, right_context, optional gold output) to KB "
              "entities; writes one JSON object per input line with entity_id, title, score and alternatives. A "
              "malformed line gives {\"line\": N, \"error\": ...} and the run goes on");
  auto pf = add_pipeline_flags(cmd);
  cmd->add_option("-i,--input", a->input, "mentions file, '-' for standard input")->capture_default_str();
  cmd->add_option("-o,--output", a->output, "output file (written to a temporary file and renamed); default stdout");
  cmd->add_option("--batch", a->batch, "mentions encoded together")->capture_default_str();
  cmd->callback([a, pf] {
    auto setup = make_linker(*pf);
    InputFile input(a->input, "input");
    std::istream* in = &input.stream();
    const std::string& name = input.name();
    OutputFile output(a->output);
    std::ostream* out = &output.stream();
    size_t n = 0, linked = 0, errors = 0, unknown = 0, gold = 0, correct = 0;
    // Lines are read in batches; each batch's valid mentions are linked together, and every line
    // (valid or not) is written back in input order.
    struct Pending {
      size_t line;
      nlohmann::json json;
      bool valid;
    };
    std::vector<Pending> pending;
    std::vector<Mention> batch;
    auto flush = [&] {
      auto results = setup.pipeline->link(batch);
      size_t r = 0;
      for (auto& p : pending) {
        if (!p.valid) {
          *out << json_text(p.json) << "\n";
          continue;
        }
        const auto& res = results[r];
        const Mention& m = batch[r++];
        if (res.ranked.empty()) {
          ++unknown;
        } else {
          ++linked;
          if (m.output) {
            ++gold;
            correct += res.ranked.front().title == *m.output;
          }
        }
        auto j = result_json(std::move(p.json), res);
        if (m.output) {  // the gold title's entity in this KB (null when it has none: not scorable)
          auto g = setup.kb->id_of_title(*m.output, pf->link().quirks.title_last_wins);
          j["gold_id"] = g ? nlohmann::json(*g) : nlohmann::json();
        }
        *out << json_text(j) << "\n";
      }
      pending.clear();
      batch.clear();
    };
    std::string line;
    while (std::getline(*in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      try {
        auto j = parse_json(line, location(name, n));
        batch.push_back(mention_from_json(j, name, n));
        try {  // its candidates in the KB, or the line is an error (before it joins a batch)
          setup.pipeline->check_candidates(batch.back(), location(name, n));
        } catch (const FormatError&) {
          batch.pop_back();
          throw;
        }
        j["line"] = n;
        pending.push_back({n, std::move(j), true});
      } catch (const FormatError& e) {
        pending.push_back({n, {{"line", n}, {"error", e.what()}}, false});
        ++errors;
      }
      if (batch.size() >= static_cast<size_t>(std::max(1, a->batch))) flush();
    }
    flush();
    output.commit();
    std::cerr << "linked " << linked << " mention(s) with " << "the " << setup.kind() << "; " << unknown << " without candidates; "
              << errors << " malformed line(s)";
    if (gold) std::cerr << "; " << correct << "/" << gold << " linked mentions match the gold title";
    std::cerr << (a->output.empty() ? "" : "; wrote " + a->output) << "\n";
  });
}

}  // namespace ner4el::cli
