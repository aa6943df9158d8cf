// The knowledge-base writer every source goes through (internal): the release's files, a user's
// own, WordNet and a Wikipedia dump are readers that call it. Entities first (titles, counts,
// classes, descriptions, in any order), then aliases, then finish(), which writes the KB in a
// temporary directory beside the output and renames it into place: a build that fails or is
// killed leaves no KB behind.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ner4el/kb.h"

namespace ner4el::kb {

class Writer {
 public:
  /// @throws InvalidArgument when out_dir exists (without options.overwrite) or is not a KB.
  Writer(const std::string& out_dir, const KbBuildOptions& options);
  /// The constructor's checks of out_dir alone, for a build that has long work to do before it
  /// makes its writer. @throws InvalidArgument as the constructor.
  static void check_output(const std::string& out_dir, const KbBuildOptions& options);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void set_title(int64_t id, std::string_view title);
  void set_count(int64_t id, int64_t count);
  void set_class(int64_t id, std::string_view ner_class);
  /// The class, unless the entity already has one (from a types file read before).
  void set_class_if_missing(int64_t id, std::string_view ner_class);
  /// An entity with its description (stored now; its title, count and class may come before).
  void add_entity(int64_t id, std::string_view description);
  /// Candidates of an alias (after the entities): ids without a description are dropped, the rest
  /// kept in decreasing count order; an alias given twice gets the union.
  void add_alias(std::string_view surface, const std::vector<int64_t>& ids);
  /// How often the alias links to each entity (Wikipedia's anchors: p(e|m)); the candidates
  /// themselves still come from add_alias.
  void add_alias_links(std::string_view alias, const std::vector<std::pair<int64_t, uint64_t>>& links);
  /// Writes the KB and moves it into place. built_from: the sources' names for the KB's info.
  KbBuildReport finish(const std::string& built_from);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads an id -> class file (.pickle/.pkl, .tsv, .jsonl) into the writer, as 'kb build --types'.
void read_types_file(Writer& writer, const std::string& path, const ProgressFn& progress);

}  // namespace ner4el::kb
