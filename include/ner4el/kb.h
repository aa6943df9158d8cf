// The knowledge base: entities (id, title, description, count, NER class) and the alias table,
// in one LMDB directory that opens in milliseconds and is shared read-only by threads and processes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ner4el {

/// Version of the KB directory layout this library writes. Older ones are read; newer are refused.
/// Version 2 added aliases.hash (constant-time alias look-ups); version 3 the release's views of the
/// alias and title tables (for --release-compat). Versions 1 and 2 are still read.
inline constexpr uint32_t kKbFormatVersion = 3;

/// One entity. Ids are Wikipedia page ids (or any 64-bit ids of a user's KB).
struct Entity {
  int64_t id = 0;
  std::string title;
  std::string description;
  bool has_description = false;  ///< only entities with a description can be candidates (docs/reference.md)
  int64_t count = 0;             ///< incoming links; 0 when unknown
  std::string ner_class;         ///< one of the 18 classes, "" when untyped
};

struct KbInfo {
  uint32_t format_version = 0;
  uint64_t entities = 0;
  uint64_t entities_with_description = 0;
  uint64_t aliases = 0;
  /// Classes in classifier order (first appearance in the id-to-class mapping), with entity counts.
  std::vector<std::pair<std::string, uint64_t>> classes;
  std::string built_from;  ///< what built it (file names), informational
};

/// Read-only view of a KB directory. All methods are thread-safe.
class KnowledgeBase {
 public:
  /// Opens DIR read-only. @throws NotFound (no KB there), FormatError (newer format, corrupt).
  static KnowledgeBase open(const std::string& dir);
  ~KnowledgeBase();
  KnowledgeBase(KnowledgeBase&&) noexcept;
  KnowledgeBase& operator=(KnowledgeBase&&) noexcept;

  const KbInfo& info() const;
  /// The entity, or nullopt when the id is not in the KB.
  std::optional<Entity> entity(int64_t id) const;
  /// The entity whose title is exactly title (gold labels of the data sets are titles). A title
  /// shared by several ids gives the one with the highest count (then the first read); with
  /// release_last_wins, the last one read, as the release's reversed title dict (format 3+).
  std::optional<int64_t> id_of_title(std::string_view title, bool release_last_wins = false) const;
  /// Candidate ids of an alias, exactly as stored: only entities with a description, by
  /// decreasing count, ties in the alias table's order. The key is lower-cased here.
  /// nullopt when the alias is not in the table (an empty vector when it is, with no candidate).
  std::optional<std::vector<int64_t>> alias(std::string_view surface_form) const;

  /// The alias table as the release reads it (format 3+; see docs/formats.md), for lower(surface_form):
  /// merged = the ids of every surface form that lower-cases to it, in the table's order, duplicates
  /// kept, only entities with a description; exact = those of the one surface form that is already
  /// lower-case (the only one the release's look-up can match), nullopt when there is none.
  /// nullopt when the key is not in the alias table at all.
  struct RawAlias {
    std::vector<int64_t> merged;
    std::optional<std::vector<int64_t>> exact;
  };
  std::optional<RawAlias> raw_alias(std::string_view surface_form) const;
  /// How often the alias was the anchor text of a link to each entity, most linked first (a KB built
  /// from a Wikipedia dump; p(e|m) = count / sum of counts). Empty when the KB has no anchor counts
  /// for it (other sources, or an alias that is only a title or redirect).
  std::vector<std::pair<int64_t, uint64_t>> anchor_counts(std::string_view surface_form) const;
  /// Whether the KB carries the release's views (format 3+): raw_alias() and
  /// id_of_title(..., true) answer as the release only then.
  bool has_release_views() const;
  /// Count and class index of an entity, without reading its texts (-1 class = untyped).
  /// nullopt when absent.
  struct Brief {
    int64_t count;
    int32_t class_index;
    bool has_description;
  };
  std::optional<Brief> brief(int64_t id) const;

  /// Every entity with a description, ascending id (random negatives draw from it).
  std::span<const int64_t> described_entities() const;
  /// Entities with a description of class index c (NER-NS negatives draw from it).
  std::span<const int64_t> described_entities_of_class(int32_t c) const;
  /// Class index of a class name, -1 when unknown.
  int32_t class_index(std::string_view name) const;
  const std::string& class_name(int32_t index) const;

 private:
  struct Impl;
  explicit KnowledgeBase(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Where the resources come from. Formats are chosen by extension:
///   aliases       .pickle/.pkl (dict str -> list[int]), .tsv (alias TAB id[,id...]), .jsonl {"alias","ids"}
///   descriptions  .csv (text_id,text), .tsv (id TAB text), .jsonl {"id","text"}
///   counts        .csv (page_id,counts), .tsv (id TAB count), .jsonl {"id","count"}
///   titles        .pickle/.pkl (dict int -> str), .tsv (id TAB title), .jsonl {"id","title"}
///   types         .pickle/.pkl (dict str(id) -> class), .tsv (id TAB class), .jsonl {"id","class"}
///   entities      .jsonl {"id","title","description","count","class","aliases":[...]}: a whole
///                 KB in one file (fields other than id optional); may be combined with the above.
struct KbSources {
  std::string aliases, descriptions, counts, titles, types, entities;
};

/// One kind of resource build_knowledge_base reads (its --flag name, what it holds, its formats);
/// the table drives 'kb build --help'.
struct KbSourceFormat {
  std::string KbSources::*field;
  const char* name;
  const char* holds;
  const char* formats;
};
const std::vector<KbSourceFormat>& kb_source_formats();


/// Progress of a long build: stage name, bytes (or items) done and the total (0 when unknown).
using ProgressFn = std::function<void(std::string_view stage, uint64_t done, uint64_t total)>;

struct KbBuildOptions {
  bool overwrite = false;            ///< replace an existing KB at the output directory
  ProgressFn progress;               ///< called now and then during long stages
  uint64_t map_size_gib = 256;       ///< LMDB address space reserved (sparse; not disk or memory)
  /// Types every entity without a class from its description (e.g. the WordNet typer); may be empty.
  std::function<std::string(const Entity&)> typer;
};

struct KbBuildReport {
  uint64_t entities = 0, described = 0, aliases = 0, alias_links = 0;
  uint64_t dropped_alias_links = 0;  ///< links to entities without a description
  uint64_t skipped_long_aliases = 0;  ///< aliases over LMDB's 511-byte key limit
  std::vector<std::string> warnings;
};

/// Imports the resources into a new KB directory. The KB is written to a temporary directory
/// beside out_dir and renamed into place at the end, so a failed build leaves nothing behind.
/// @throws NotFound, FormatError (naming file, line or byte offset, and field), InvalidArgument.
KbBuildReport build_knowledge_base(const KbSources& sources, const std::string& out_dir,
                                   const KbBuildOptions& options = {});

}  // namespace ner4el
