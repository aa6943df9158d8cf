#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/candidates.h"
#include "ner4el/error.h"
#include "ner4el/kb.h"
#include "ner4el/wordnet.h"
#include "progress.h"
#include "release_flags.h"

namespace ner4el::cli {

namespace {

nlohmann::json entity_json(const Entity& e) {
  return {{"id", e.id}, {"title", e.title}, {"count", e.count}, {"class", e.ner_class}, {"description", e.description}};
}

void add_build(CLI::App& kb) {
  struct Args {
    KbSources src;
    std::string out, from;
    bool force = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = kb.add_subcommand("build", "Import resources into a knowledge-base directory (LMDB). Formats by extension: "
                                         ".pickle/.pkl (the NER4EL release), .csv, .tsv, .jsonl (your own KB)");
  cmd->add_option("--aliases", a->src.aliases, "alias table: alias -> candidate ids (.pickle, .tsv, .jsonl)");
  cmd->add_option("--descriptions", a->src.descriptions, "entity descriptions: text_id,text (.csv, .tsv, .jsonl)");
  cmd->add_option("--counts", a->src.counts, "link counts: page_id,counts (.csv, .tsv, .jsonl)");
  cmd->add_option("--titles", a->src.titles, "page titles: id -> title (.pickle, .tsv, .jsonl)");
  cmd->add_option("--types", a->src.types,
                  "NER classes: id -> class (.pickle, .tsv, .jsonl), or 'wordnet' to type every entity by its "
                  "description through WordNet");
  cmd->add_option("--from", a->from, "'wordnet': build the default KB of WordNet's named-entity instances")
      ->check(CLI::IsMember({"wordnet"}));
  cmd->add_option("--entities", a->src.entities,
                  "a whole KB in JSON Lines: {\"id\",\"title\",\"description\",\"count\",\"class\",\"aliases\":[...]}");
  cmd->add_option("-o,--output", a->out, "output directory")->required();
  cmd->add_flag("--force", a->force, "replace an existing output directory");
  cmd->callback([a] {
    Progress progress;
    KbBuildOptions opt;
    opt.overwrite = a->force;
    opt.progress = [&](std::string_view s, uint64_t d, uint64_t t) { progress(s, d, t); };
    auto t0 = std::chrono::steady_clock::now();
    KbBuildReport rep;
    if (a->from == "wordnet" || a->src.types == "wordnet") {
      auto wn = WordNet::load();
      NerTyper typer(wn, NerTyper::default_mapping());
      if (a->from == "wordnet") {
        rep = build_wordnet_kb(wn, typer, a->out, opt);
      } else {
        a->src.types.clear();
        opt.typer = [&](const Entity& e) { return typer.type_description(e.description); };
        rep = build_knowledge_base(a->src, a->out, opt);
      }
    } else {
      rep = build_knowledge_base(a->src, a->out, opt);
    }
    progress.done();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& w : rep.warnings) std::cerr << "warning: " << w << "\n";
    std::cout << "built " << a->out << " in " << secs << " s: " << rep.entities << " entities (" << rep.described
              << " with a description), " << rep.aliases << " aliases, " << rep.alias_links << " alias links ("
              << rep.dropped_alias_links << " to entities without a description dropped";
    if (rep.skipped_long_aliases) std::cout << ", " << rep.skipped_long_aliases << " aliases over 511 bytes skipped";
    std::cout << ")\n";
  });
}

void add_info(CLI::App& kb) {
  auto dir = std::make_shared<std::string>();
  auto* cmd = kb.add_subcommand("info", "Print the counts, classes and format version of a knowledge base (JSON)");
  cmd->add_option("dir", *dir, "knowledge-base directory")->required();
  cmd->callback([dir] {
    auto kb = KnowledgeBase::open(*dir);
    const auto& i = kb.info();
    nlohmann::json j{{"format_version", i.format_version}, {"entities", i.entities},
                     {"entities_with_description", i.entities_with_description}, {"aliases", i.aliases},
                     {"built_from", i.built_from}};
    j["classes"] = nlohmann::json::object();
    for (const auto& [name, n] : i.classes) j["classes"][name] = n;
    j["class_order"] = nlohmann::json::array();
    for (const auto& c : i.classes) j["class_order"].push_back(c.first);
    std::cout << j.dump(2) << "\n";
  });
}

void add_candidates(CLI::App& kb) {
  struct Args {
    std::string dir, mention;
    int k = 40;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = kb.add_subcommand("candidates", "Print the candidates of a mention, one JSON object per line in rank order "
                                              "(nothing when the mention is not in the alias table)");
  cmd->add_option("dir", a->dir, "knowledge-base directory")->required();
  cmd->add_option("mention", a->mention, "surface form (lower-cased for the look-up)")->required();
  cmd->add_option("-k", a->k, "keep the K candidates with the highest counts")->capture_default_str();
  auto rf = add_release_flags(cmd);
  cmd->callback([a, rf] {
    auto kb = KnowledgeBase::open(a->dir);
    CandidateGenerator gen(kb, {.k = a->k, .quirks = rf->resolve()});
    auto set = gen.candidates(a->mention);
    for (int64_t id : set.ids) std::cout << entity_json(*kb.entity(id)).dump() << "\n";
    if (set.miss == CandidateMiss::NotInAliasTable) std::cerr << "'" << a->mention << "' is not in the alias table\n";
    if (set.miss == CandidateMiss::NoCandidates) std::cerr << "'" << a->mention << "' has no candidate with a description\n";
  });
}

void add_entity(CLI::App& kb) {
  struct Args {
    std::string dir;
    int64_t id = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = kb.add_subcommand("entity", "Print one entity as JSON (exit 1 when the id is not in the KB)");
  cmd->add_option("dir", a->dir, "knowledge-base directory")->required();
  cmd->add_option("id", a->id, "entity id")->required();
  cmd->callback([a] {
    auto kb = KnowledgeBase::open(a->dir);
    auto e = kb.entity(a->id);
    if (!e) throw NotFound("entity " + std::to_string(a->id) + " is not in " + a->dir);
    std::cout << entity_json(*e).dump() << "\n";
  });
}

}  // namespace

void add_kb_command(CLI::App& app) {
  auto* kb = app.add_subcommand("kb", "Build and query knowledge bases");
  kb->require_subcommand(1);
  add_build(*kb);
  add_info(*kb);
  add_candidates(*kb);
  add_entity(*kb);
}

}  // namespace ner4el::cli
