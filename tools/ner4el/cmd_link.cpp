#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/error.h"
#include "ner4el/linker.h"

namespace ner4el::cli {

namespace {
nlohmann::json scored_json(const ScoredEntity& e) {
  return {{"entity_id", e.id}, {"title", e.title}, {"class", e.ner_class}, {"score", e.score}};
}
}  // namespace

void add_link_command(CLI::App& app) {
  struct Args {
    std::string kb, model, input = "-", output;
    LinkOptions opt;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "link", "Link mentions (NER4EL JSON Lines: mention, left_context, right_context, optional gold output) to KB "
              "entities; writes one JSON object per input line with entity_id, title, score and alternatives. A "
              "malformed line gives {\"line\": N, \"error\": ...} and the run goes on");
  cmd->add_option("--kb", a->kb, "knowledge-base directory (e.g. from 'ner4el kb build --from wordnet')")->required();
  cmd->add_option("--model", a->model, "trained linker; without it the count-prior linker is used");
  cmd->add_option("-i,--input", a->input, "mentions file, '-' for standard input")->capture_default_str();
  cmd->add_option("-o,--output", a->output, "output file (written to a temporary file and renamed); default stdout");
  cmd->add_option("-k", a->opt.k, "candidates per mention")->capture_default_str();
  cmd->add_option("--top", a->opt.top, "alternatives per mention")->capture_default_str();
  cmd->callback([a] {
    if (!a->model.empty())
      throw InvalidArgument("--model: the neural linker is not in this build yet; omit --model for the count prior");
    auto kb = KnowledgeBase::open(a->kb);
    PriorLinker linker(kb, a->opt);
    std::ifstream file;
    std::istream* in = &std::cin;
    const std::string name = a->input == "-" ? "<stdin>" : a->input;
    if (a->input != "-") {
      file.open(a->input);
      if (!file) throw NotFound("cannot open " + a->input);
      in = &file;
    }
    std::ofstream out_file;
    std::string tmp;
    std::ostream* out = &std::cout;
    if (!a->output.empty()) {
      tmp = a->output + ".tmp";
      out_file.open(tmp);
      if (!out_file) throw Error("cannot write " + tmp);
      out = &out_file;
    }
    size_t n = 0, linked = 0, errors = 0, unknown = 0, gold = 0, correct = 0;
    std::string line;
    while (std::getline(*in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json j;
      try {
        Mention m = parse_mention(line, name, n);
        auto r = linker.link(m);
        j = nlohmann::json::parse(line);
        j["line"] = n;
        if (r.ranked.empty()) {
          j["entity_id"] = nullptr;
          j["reason"] = r.miss == CandidateMiss::NotInAliasTable ? "not in alias table" : "no candidates";
          ++unknown;
        } else {
          ++linked;
          j.update(scored_json(r.ranked.front()));
          j["alternatives"] = nlohmann::json::array();
          for (const auto& e : r.ranked) j["alternatives"].push_back(scored_json(e));
          if (m.output) {
            ++gold;
            correct += r.ranked.front().title == *m.output;
          }
        }
      } catch (const FormatError& e) {
        j = {{"line", n}, {"error", e.what()}};
        ++errors;
      }
      *out << j.dump() << "\n";
    }
    if (!a->output.empty()) {
      out_file.close();
      if (!out_file) throw Error("write to " + tmp + " failed");
      std::filesystem::rename(tmp, a->output);
    }
    std::cerr << "linked " << linked << " mention(s) with the count prior; " << unknown << " without candidates; "
              << errors << " malformed line(s)";
    if (gold) std::cerr << "; " << correct << "/" << gold << " linked mentions match the gold title";
    std::cerr << (a->output.empty() ? "" : "; wrote " + a->output) << "\n";
  });
}

}  // namespace ner4el::cli
