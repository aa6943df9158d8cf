#include <algorithm>
#include <chrono>
#include <sstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/candidates.h"
#include "ner4el/error.h"
#include "ner4el/kb.h"
#include "ner4el/wikipedia.h"
#include "ner4el/wordnet.h"
#include "progress.h"
#include "release_flags.h"

namespace ner4el::cli {

namespace {

nlohmann::json entity_json(const Entity& e) {
  return {{"id", e.id}, {"title", e.title}, {"count", e.count}, {"class", e.ner_class}, {"description", e.description}};
}

struct BuildArgs {
  KbSources src;
  std::vector<std::string> from;
  std::string out;
  bool force = false;
  WikipediaBuildOptions wiki;
  uint64_t chunk_mib = 32, max_page_mib = 64;
};

/// What a build says when it is done (warnings to stderr).
std::string report_text(const std::string& out, double secs, const KbBuildReport& rep) {
  for (const auto& w : rep.warnings) std::cerr << "warning: " << w << "\n";
  std::ostringstream o;
  o << "built " << out << " in " << secs << " s: " << rep.entities << " entities (" << rep.described
            << " with a description), " << rep.aliases << " aliases, " << rep.alias_links << " alias links ("
            << rep.dropped_alias_links << " to entities without a description dropped";
  if (rep.skipped_long_aliases) o << ", " << rep.skipped_long_aliases << " aliases over 511 bytes skipped";
  o << ")\n";
  return o.str();
}

/// The sources 'kb build --from' takes, beside the files of kb_source_formats(): each a reader that
/// feeds the same KB writer; the table drives --from's check and its help.
struct FromSource {
  const char* name;
  const char* help;
  std::string (*build)(BuildArgs&, KbBuildOptions&);  ///< builds; returns what to print
};

std::string build_from_wordnet(BuildArgs& a, KbBuildOptions& opt) {
  if (a.from.size() != 1) throw InvalidArgument("--from wordnet takes no file");
  auto t0 = std::chrono::steady_clock::now();
  auto wn = WordNet::load();
  NerTyper typer(wn, NerTyper::default_mapping());
  auto rep = build_wordnet_kb(wn, typer, a.out, opt);
  return report_text(a.out, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), rep);
}

std::string build_from_wikipedia(BuildArgs& a, KbBuildOptions& opt) {
  if (a.from.size() != 2) throw InvalidArgument("--from wikipedia needs the dump: --from wikipedia PAGES-ARTICLES.xml.bz2");
  auto t0 = std::chrono::steady_clock::now();
  WikipediaBuildOptions w = a.wiki;
  w.dump = a.from[1];
  w.chunk_bytes = a.chunk_mib << 20;
  w.max_page_bytes = a.max_page_mib << 20;
  w.types = a.src.types == "wordnet" ? "" : a.src.types;
  w.kb = opt;
  // The WordNet typer classes what the types file (if any) does not, on the parser threads.
  const WordNet wn = WordNet::load();
  const NerTyper typer(wn, NerTyper::default_mapping());
  w.kb.typer = [&](const Entity& e) { return typer.type_description(e.description); };
  auto rep = build_wikipedia_kb(w, a.out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ostringstream o;
  o << "read " << rep.pages << " pages of " << (rep.site.empty() ? "the dump" : rep.site) << " in " << rep.chunks
            << " chunk(s)";
 if (rep.chunks_resumed) o << " (" << rep.chunks_resumed << " done by an earlier run)";
  o << ": " << rep.articles << " articles (" << rep.described << " with a first paragraph), " << rep.redirects
            << " redirects (" << rep.redirects_resolved << " reach an article), " << rep.disambiguation_pages
            << " disambiguation pages, " << rep.other_namespaces << " pages of other namespaces; " << rep.links << " links ("
            << rep.links_resolved << " reach an article)";
  if (!w.mentions.empty()) o << "; " << rep.mentions << " mentions written to " << w.mentions;
  o << "\n" << report_text(a.out, secs, rep.kb);
  return o.str();
}

const std::vector<FromSource>& from_sources() {
  static const std::vector<FromSource> sources = {
      {"wordnet", "WordNet's named-entity instances (the default KB; Debian's wordnet-base)", build_from_wordnet},
      {"wikipedia",
       "a Wikipedia pages-articles dump in any language (.xml.bz2, multistream or not, or .xml): articles, first "
       "paragraphs, redirects, disambiguation pages, anchor texts with link counts, in-link counts, classes by the "
       "WordNet typer (after --types when given); with --mentions, every link as a training mention",
       build_from_wikipedia},
  };
  return sources;
}

void add_build(CLI::App& kb) {
  auto a = std::make_shared<BuildArgs>();
  std::string from_help = "build from a source instead of files: ";
  for (const auto& f : from_sources()) from_help += std::string("'") + f.name + "': " + f.help + "; ";
  auto* cmd = kb.add_subcommand("build", "Import resources into a knowledge-base directory (LMDB): the NER4EL release's "
                                         "files or your own (by extension), or a source named by --from");
  // One option per reader of build_knowledge_base, from its table of formats.
  for (const auto& f : kb_source_formats()) {
    std::string* dst = &(a->src.*f.field);
    std::string help = std::string(f.holds) + ": " + f.formats;
    if (std::string(f.name) == "types") help += "; or 'wordnet' to type every entity by its description through WordNet";
    cmd->add_option("--" + std::string(f.name), *dst, help);
  }
  cmd->add_option("--from", a->from, from_help + "'wikipedia' takes the dump's path")
      ->expected(1, 2);
  auto* wiki = cmd->add_option_group("Wikipedia (--from wikipedia DUMP)");
  wiki->add_option("--index", a->wiki.multistream_index, "the multistream index (…-multistream-index.txt[.bz2]): where the "
                                                         "dump's streams start (else they are found by scanning)");
  wiki->add_option("--redirects", a->wiki.redirect_sql, "the redirect table dump (…-redirect.sql.gz)");
  wiki->add_option("--page-props", a->wiki.page_props_sql,
                   "the page_props table dump (…-page_props.sql.gz): disambiguation pages in any language");
  wiki->add_option("--mentions", a->wiki.mentions, "write every link as a training mention (NER4EL JSON Lines) to this file");
  wiki->add_option("--lang", a->wiki.lang, "the dump's language code, checked against its siteinfo (en, de, bg, ...)");
  wiki->add_option("--threads", a->wiki.threads, "parser threads (0: every core)")->capture_default_str()->check(CLI::Range(0, 1024));
  wiki->add_option("--context-words", a->wiki.context_words, "words of context each side of a mention")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  wiki->add_option("--sort-memory", a->wiki.sort_memory_mib, "MiB for sorting aliases before a sorted run goes to disk")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  wiki->add_option("--chunk-mib", a->chunk_mib, "about how many MiB of the dump one parallel chunk spans")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  wiki->add_option("--max-page-mib", a->max_page_mib, "a page's wikitext above this many MiB is an error (a damaged dump)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  wiki->add_option("--work-dir", a->wiki.work_dir, "where per-chunk results wait for the KB (default OUT.work; a killed "
                                                   "build run again resumes from it)");
  wiki->add_flag("--keep-work", a->wiki.keep_work, "keep the work directory after the build");
  cmd->add_option("-o,--output", a->out, "output directory")->required();
  cmd->add_flag("--force", a->force, "replace an existing output directory (and --mentions file)");
  cmd->callback([a] {
    Progress progress;
    KbBuildOptions opt;
    opt.overwrite = a->force;
    opt.progress = [&](std::string_view s, uint64_t d, uint64_t t) { progress(s, d, t); };
    if (!a->from.empty()) {
      auto it = std::find_if(from_sources().begin(), from_sources().end(), [&](const FromSource& f) { return a->from[0] == f.name; });
      if (it == from_sources().end()) {
        std::string names;
        for (const auto& f : from_sources()) names += std::string(names.empty() ? "" : ", ") + f.name;
        throw InvalidArgument("--from " + a->from[0] + ": unknown source (expected one of: " + names + ")");
      }
      const std::string said = it->build(*a, opt);
      progress.done();
      std::cout << said;
      return;
    }
    auto t0 = std::chrono::steady_clock::now();
    KbBuildReport rep;
    if (a->src.types == "wordnet") {
      auto wn = WordNet::load();
      NerTyper typer(wn, NerTyper::default_mapping());
      a->src.types.clear();
      opt.typer = [&](const Entity& e) { return typer.type_description(e.description); };
      rep = build_knowledge_base(a->src, a->out, opt);
    } else {
      rep = build_knowledge_base(a->src, a->out, opt);
    }
    progress.done();
    std::cout << report_text(a->out, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), rep);
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
    // From a Wikipedia-built KB: how often the mention linked each candidate, and p(e|m).
    const auto anchors = kb.anchor_counts(a->mention);
    uint64_t total = 0;
    for (const auto& [id, n] : anchors) total += n;
    for (int64_t id : set.ids) {
      auto j = entity_json(*kb.entity(id));
      if (total) {
        uint64_t n = 0;
        for (const auto& [aid, c] : anchors) n = aid == id ? c : n;
        j["links"] = n;
        j["p_e_m"] = static_cast<double>(n) / static_cast<double>(total);
      }
      std::cout << j.dump() << "\n";
    }
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
