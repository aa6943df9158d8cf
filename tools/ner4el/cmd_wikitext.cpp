// ner4el wikitext: a dump's pages as plain text with their links, as the Wikipedia importer sees
// them (a WikiExtractor-style view, and what the reference tests compare with mwparserfromhell).
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/pipeline.h"
#include "ner4el/wikipedia.h"
#include "ner4el/files.h"

namespace ner4el::cli {

void add_wikitext_command(CLI::App& app) {
  struct Args {
    std::string dump, index, out;
    bool all = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "wikitext", "Print the articles of a Wikipedia dump as plain text with their links, one JSON object per line: "
                  "{\"id\",\"title\",\"text\",\"description\",\"disambiguation\",\"links\":[{\"start\",\"end\",\"target\"}]} "
                  "(offsets in code points of text, as Python's str); with --all, redirects ({\"redirect\"}) and the "
                  "pages of other namespaces ({\"ns\"}) too");
  cmd->add_option("dump", a->dump, "pages-articles dump (.xml.bz2, multistream or not, or .xml)")->required();
  cmd->add_option("--index", a->index, "its multistream index (…-multistream-index.txt[.bz2])");
  cmd->add_option("-o,--output", a->out, "output file (default: standard output)");
  cmd->add_flag("--all", a->all, "also redirects and pages outside the main namespace");
  cmd->callback([a] {
    OutputFile out(a->out);
    read_wikipedia_pages(a->dump, a->index, [&](const WikipediaPage& p) {
      const bool article = p.ns == 0 && p.redirect.empty();
      if (!article && !a->all) return;
      nlohmann::json j{{"id", p.id}, {"title", p.title}};
      if (p.ns != 0) j["ns"] = p.ns;
      if (!p.redirect.empty()) j["redirect"] = p.redirect;
      if (article) {
        j["text"] = p.text;
        j["description"] = p.description;
        j["disambiguation"] = p.disambiguation;
        j["links"] = nlohmann::json::array();
        size_t byte = 0, cp = 0;  // links come in text order: offsets counted as they go
        auto to_cp = [&](size_t at) {
          if (at < byte) byte = 0, cp = 0;
          cp += code_points(std::string_view(p.text).substr(byte, at - byte));
          byte = at;
          return cp;
        };
        for (const auto& l : p.links) {
          const size_t start = to_cp(l.begin);
          j["links"].push_back({{"start", start}, {"end", to_cp(l.end)}, {"target", l.target}});
        }
      }
      out.stream() << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    });
    out.commit();
  });
}

}  // namespace ner4el::cli
