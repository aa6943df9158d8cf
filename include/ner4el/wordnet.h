// WordNet (Debian's wordnet-base) as a source of named entities and as an 18-class NER typer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ner4el/kb.h"

namespace ner4el {

/// The noun part of the WordNet database files (data.noun, index.noun, noun.exc, cntlist.rev).
/// Immutable after load; thread-safe.
class WordNet {
 public:
  struct Synset {
    uint32_t offset = 0;                   ///< byte offset in data.noun: WordNet's synset id
    uint8_t lex_file = 0;                  ///< lexicographer file number (e.g. 18 = noun.person)
    std::vector<std::string> lemmas;       ///< as written, '_' for spaces ("New_York")
    std::vector<uint8_t> lex_ids;          ///< per lemma
    std::vector<uint32_t> hypernyms;       ///< '@' pointers
    std::vector<uint32_t> instance_of;     ///< '@i' pointers: non-empty for named-entity instances
    std::string gloss;
    uint32_t tag_count = 0;                ///< sum of the lemmas' sense-tagged counts (cntlist.rev)
  };

  /// Directory of the database files: $WNSEARCHDIR, else /usr/share/wordnet.
  static std::string default_dir();
  /// @throws NotFound naming the missing file and the package that provides it.
  static WordNet load(const std::string& dir = default_dir());

  const Synset* synset(uint32_t offset) const;
  /// Noun senses of a lemma (any case, spaces or '_'), most frequent first; empty if unknown.
  const std::vector<uint32_t>& senses(std::string_view lemma) const;
  /// "person.n.01" (NLTK-style name) -> offset. nullopt when there is no such sense.
  std::optional<uint32_t> find(std::string_view name) const;
  /// Base forms of a noun: itself if known, the noun.exc entry, then the detachment rules.
  std::vector<std::string> base_forms(std::string_view word) const;
  /// Every synset that is an instance of another (WordNet's named entities), by offset.
  std::vector<uint32_t> instances() const;
  size_t size() const { return synsets_.size(); }

 private:
  std::unordered_map<uint32_t, Synset> synsets_;
  std::unordered_map<std::string, std::vector<uint32_t>> index_;
  std::unordered_map<std::string, std::string> exceptions_;
};

/// Assigns one of the 18 NER classes (docs/reference.md) to WordNet synsets and to free-text descriptions.
/// The mapping from WordNet synsets to classes is a data file (conf/wordnet_classes.tsv):
/// the nearest mapped hypernym decides the class.
class NerTyper {
 public:
  /// @throws NotFound / FormatError for the mapping file (naming the line), InvalidArgument
  /// when a synset name in it is not in WordNet.
  NerTyper(const WordNet& wordnet, const std::string& mapping_file);

  /// Path of the mapping shipped with ner4el (installed or in the source tree).
  static std::string default_mapping();

  /// Class of a synset by its hypernym paths, "" when none maps.
  std::string type_synset(uint32_t offset) const;
  /// Class of a description by its head noun ("an American singer and actress" -> PER),
  /// "" when no head noun is found or it has no class.
  std::string type_description(std::string_view description) const;
  /// The head noun type_description uses (for explanations); "" if none.
  std::string head_noun(std::string_view description) const;

 private:
  /// The class of a noun: of its senses that have a class, the one whose gloss, lemmas and
  /// hypernyms' glosses and lemmas hold the most words of context (the rest of the description);
  /// among equals (and with no context) the most frequent.
  std::string type_word(const std::string& word, const std::vector<std::string>& context = {}) const;
  const WordNet& wn_;
  std::unordered_map<uint32_t, std::string> classes_;
};

/// Builds the default KB from WordNet's named-entity instances: id = synset offset, title = first
/// lemma, description = gloss, aliases = all lemmas (lower-cased, '_' as space), count = 1 + sense-
/// tagged count, class = the typer's class of the synset.
KbBuildReport build_wordnet_kb(const WordNet& wordnet, const NerTyper& typer, const std::string& out_dir,
                               const KbBuildOptions& options = {});

}  // namespace ner4el
