// The release's quirks that move a number (docs/reference.md "Release quirks"), each behind its own switch.
// The defaults are the sane behaviour; --release-compat (ReleaseQuirks::all()) turns every one on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ner4el {

struct ReleaseQuirks {
  /// exact-alias-keys: the alias table is looked up with lower(mention) against its keys as stored,
  /// so a key with a capital letter never matches. Sane: keys are lower-cased at build time.
  bool exact_alias_keys = false;
  /// alias-table-order: a candidate list of K or fewer keeps the alias table's order; only a longer
  /// one is cut to the top K by count. Sane: always by decreasing count.
  bool alias_table_order = false;
  /// duplicate-ids: an id listed twice under an alias stays twice, and the training target is its
  /// last occurrence. Sane: each id once.
  bool duplicate_ids = false;
  /// title-last-wins: a gold title shared by several ids resolves to the last id in the title map.
  /// Sane: the id with the highest count.
  bool title_last_wins = false;
  /// ner-ns-pool: NER-NS draws from entities with a count, a description and a class, and each
  /// mention's own candidates leave the shared pool for every later mention (as the release's
  /// list.remove on the shared per-class list). Sane: the pool is every described entity of the class.
  bool ner_ns_pool = false;
  /// ner-cd-substring: NER-CD's confident branch keeps a candidate when its class is a substring of
  /// the top class and among the top 3 (so a class-less candidate is always zeroed). Sane: class
  /// equal to the top class.
  bool ner_cd_substring = false;
  /// ner-cd-dropout: the NER classifier runs in training mode at test time (its dropouts active,
  /// seeded). Sane: evaluation mode.
  bool ner_cd_dropout = false;
  /// ner-cd-ties: zeroed candidates tie with the min-max minimum and the first index wins, zeroed or
  /// not. Sane: zeroed candidates rank after every kept one.
  bool ner_cd_ties = false;
  /// aquaint-k5: AQUAINT is evaluated with K = 5 (training and the other sets use 40).
  bool aquaint_k5 = false;

  static ReleaseQuirks all();
  bool any() const;
  /// Turns on the quirk named as above. @throws InvalidArgument listing the names.
  void enable(std::string_view name);
  /// Names of the quirks that are on.
  std::vector<std::string> enabled() const;
  static const std::vector<std::string>& names();
};

}  // namespace ner4el
