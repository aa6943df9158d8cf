#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/kb.h"
#include "ner4el/wordnet.h"

namespace ner4el::cli {

void add_type_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> descriptions;
    std::string mapping = NerTyper::default_mapping(), wordnet = WordNet::default_dir(), kb;
    bool evaluate = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "type", "Give descriptions one of the 18 NER classes through WordNet (head noun -> hypernyms -> class)");
  cmd->add_option("--description,-d", a->descriptions, "description to type (repeatable; default: lines of standard input)");
  cmd->add_flag("--evaluate", a->evaluate,
                "report agreement of the description typer with WordNet's own instance hypernyms (and with the classes "
                "of --kb, e.g. a KB built with the release's id2ner mapping)");
  cmd->add_option("--kb", a->kb, "with --evaluate: knowledge base whose classes to compare with");
  cmd->add_option("--mapping", a->mapping, "synset-to-class mapping file")->capture_default_str();
  cmd->add_option("--wordnet", a->wordnet, "WordNet database folder")->capture_default_str();
  cmd->callback([a, cmd] {
    auto wn = WordNet::load(a->wordnet);
    NerTyper typer(wn, a->mapping);
    if (a->evaluate) {
      auto report = [](const char* what, size_t agree, size_t total, const std::map<std::string, size_t>& per) {
        nlohmann::json j{{"compared_with", what}, {"entities", total}, {"agreement", total ? double(agree) / total : 0.0}};
        j["per_class_total"] = per;
        std::cout << j.dump() << "\n";
      };
      size_t agree = 0, total = 0;
      std::map<std::string, size_t> per;
      for (uint32_t off : wn.instances()) {
        std::string gold = typer.type_synset(off);
        if (gold.empty()) continue;
        ++total;
        ++per[gold];
        agree += typer.type_description(wn.synset(off)->gloss) == gold;
      }
      report("wordnet_instance_hypernyms", agree, total, per);
      if (!a->kb.empty()) {
        auto kb = KnowledgeBase::open(a->kb);
        agree = total = 0;
        per.clear();
        for (int64_t id : kb.described_entities()) {
          auto e = kb.entity(id);
          if (!e || e->ner_class.empty()) continue;
          ++total;
          ++per[e->ner_class];
          agree += typer.type_description(e->description) == e->ner_class;
        }
        report("kb_classes", agree, total, per);
      }
      return;
    }
    auto emit = [&](const std::string& d) {
      nlohmann::json j{{"description", d}, {"head", typer.head_noun(d)}, {"class", typer.type_description(d)}};
      std::cout << j.dump() << "\n";
    };
    if (cmd->count("--description")) {
      for (const auto& d : a->descriptions) emit(d);
    } else {
      std::string line;
      while (std::getline(std::cin, line)) emit(line);
    }
  });
}

}  // namespace ner4el::cli
