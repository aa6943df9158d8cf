// A knowledge base, and training mentions, from a Wikipedia dump in any language.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ner4el/kb.h"

namespace ner4el {

struct WikipediaBuildOptions {
  /// pages-articles: .xml.bz2 (one stream or multistream) or plain .xml. Required.
  std::string dump;
  /// The multistream index (pages-articles-multistream-index.txt[.bz2]): where the streams start.
  /// Without it the streams are found by scanning the file; a one-stream file is read by one thread.
  std::string multistream_index;
  /// Optional SQL dumps (.sql.gz or .sql): redirect (targets by page id, the authority over the
  /// XML's <redirect>), page_props (the pages marked 'disambiguation', any language).
  std::string redirect_sql, page_props_sql;
  /// Optional id -> class file (the release's id2ner pickle, .tsv, .jsonl): these classes first,
  /// the typer (KbBuildOptions::typer) for the rest.
  std::string types;
  /// Optional output: every link of every article as a training mention, NER4EL's JSON Lines
  /// ({"mention","left_context","right_context","output"}, output = the linked entity's title).
  std::string mentions;
  /// The language code the user expects (checked against the dump's siteinfo); "" = any.
  std::string lang;
  /// Where the per-chunk results are kept until the KB is written (resumable); "" = OUT.work.
  std::string work_dir;
  bool keep_work = false;       ///< leave the work directory after a successful build
  int threads = 0;              ///< parser threads; 0 = every core
  int context_words = 100;      ///< words of context each side of a mention (the shared sets' length)
  uint64_t sort_memory_mib = 512;  ///< memory for sorting aliases before a run is spilled to disk
  uint64_t chunk_bytes = 32ull << 20;  ///< about how much of the dump file one parallel chunk spans
  uint64_t max_page_bytes = 64ull << 20;  ///< a page's wikitext above this is an error (a damaged dump)
  KbBuildOptions kb;            ///< overwrite, progress, typer (run on the parser threads), map size
};

struct WikipediaBuildReport {
  uint64_t chunks = 0, chunks_resumed = 0;
  uint64_t pages = 0;             ///< every <page> read
  uint64_t other_namespaces = 0;  ///< pages outside the main namespace (skipped)
  uint64_t articles = 0;          ///< main-namespace pages that are neither redirects nor disambiguation pages
  uint64_t described = 0;         ///< articles with a first paragraph
  uint64_t redirects = 0, redirects_resolved = 0, redirect_cycles = 0;
  uint64_t disambiguation_pages = 0;
  uint64_t links = 0, links_resolved = 0;  ///< internal links in articles; those that reach an article
  uint64_t mentions = 0;                   ///< written to WikipediaBuildOptions::mentions
  uint64_t sort_runs = 0;                  ///< sorted runs spilled to disk
  std::string site;                        ///< the dump's dbname ("enwiki")
  KbBuildReport kb;
};

/// Builds a KB from a Wikipedia dump: entities = main-namespace articles (title, page id, first
/// paragraph as description, in-link count, class), aliases = titles (also without their
/// parenthesised qualifier), redirect titles, anchor texts and the titles of disambiguation pages
/// (for the pages they list), with the anchors' link counts (p(e|m)). Parsing runs in parallel
/// over the dump's streams; per-chunk results and sorted alias runs go to the work directory, so
/// memory stays bounded by the titles and sort_memory_mib, and a killed build resumes with the
/// chunks it had finished. The KB (and the mentions file) appear whole or not at all.
/// @throws NotFound, InvalidArgument, FormatError (naming the file, the byte and the page).
WikipediaBuildReport build_wikipedia_kb(const WikipediaBuildOptions& options, const std::string& out_dir);

/// One page of a dump as the importer sees it (what 'ner4el wikitext' prints).
struct WikipediaPage {
  int64_t id = 0;
  int ns = 0;
  std::string title;     ///< normalised as MediaWiki stores it
  std::string redirect;  ///< the target title of a redirect, else ""
  bool disambiguation = false;
  std::string text;         ///< the wikitext as plain text, paragraphs split by '\n' (main namespace only)
  std::string description;  ///< its first paragraph with prose in it
  struct Link {
    size_t begin = 0, end = 0;  ///< bytes of text
    std::string target;         ///< the linked title, normalised, fragment removed
  };
  std::vector<Link> links;  ///< the internal links to main-namespace pages, in text order
};

/// Reads every page of a dump in file order. @throws as build_wikipedia_kb.
void read_wikipedia_pages(const std::string& dump, const std::string& multistream_index,
                          const std::function<void(const WikipediaPage&)>& fn);

}  // namespace ner4el
