// Linking mentions in context to knowledge-base entities.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ner4el/candidates.h"
#include "ner4el/dataset.h"
#include "ner4el/kb.h"
#include "ner4el/model.h"
#include "ner4el/ner.h"

namespace ner4el {

struct LinkOptions {
  int k = 40;    ///< candidates per mention (SPEC: 40; the release used 5 for AQUAINT)
  int top = 5;   ///< alternatives reported per mention (best included)
  /// Keep entity vectors computed on the fly. false re-encodes every candidate for every mention,
  /// as the release does (for comparisons only).
  bool cache_entity_vectors = true;
  bool ner_cd = false;  ///< NER-constrained decoding (needs a NER classifier)
  bool ner_cg = false;  ///< NER-enhanced candidate generation (needs a NER classifier)
  NerCdOptions cd;      ///< NER-CD's release quirk switch (also on with quirks.ner_cd_substring)
  /// Bi-encoder score = cosine + prior_weight * log p(e|m) - rank_weight * log(1 + rank), where
  /// p(e|m) = (count + 1) / sum over the candidates and rank is the candidate's place in count order
  /// (ties in alias-table order, which for WordNet is sense frequency). 0, 0 is the release's
  /// cosine alone; the default pretrained linker uses weights fitted on a development set
  /// (conf/default_linker.json).
  double prior_weight = 0;
  double rank_weight = 0;
  /// The release's quirks (release_compat.h): alias-table ones in candidate generation, title-last-wins
  /// for gold titles, the NER-CD ones in decoding.
  ReleaseQuirks quirks;
};

struct ScoredEntity {
  int64_t id = 0;
  std::string title;
  std::string ner_class;
  /// Count prior: (count+1) / sum over candidates. Bi-encoder: cosine of mention and entity vectors.
  double score = 0;
  /// Bi-encoder only: SPEC's min-max normalised score in [0, 1] (NaN with a single candidate).
  std::optional<double> normalised;
  /// Bi-encoder only: the cosine of mention and entity vectors (score adds the prior terms to it).
  std::optional<double> cosine;
  double prior = 0;  ///< (count + 1) / sum over the candidates
  size_t rank = 0;   ///< place in the candidate list (count order)
};

struct LinkResult {
  std::vector<ScoredEntity> ranked;  ///< best first, at most LinkOptions::top; empty when unlinkable
  CandidateMiss miss = CandidateMiss::None;
  size_t candidates = 0;             ///< size of the candidate set scored
  /// Index of the gold entity among the candidates when the mention has a gold title in the KB.
  std::optional<size_t> gold_rank;
};

/// A linker: mentions in, ranked entities out.
class Linker {
 public:
  virtual ~Linker() = default;
  /// Links a batch (batches let the neural linker run the encoder on many mentions at once).
  virtual std::vector<LinkResult> link(const std::vector<Mention>& mentions) const = 0;
  LinkResult link(const Mention& mention) const { return link(std::vector<Mention>{mention}).front(); }
};

/// The count-prior linker: the candidate with the most incoming links wins. A floor for every table
/// and the linker used when no trained model is given. Thread-safe.
class PriorLinker : public Linker {
 public:
  PriorLinker(const KnowledgeBase& kb, LinkOptions options = {});
  using Linker::link;
  std::vector<LinkResult> link(const std::vector<Mention>& mentions) const override;

 private:
  LinkResult link_one(const Mention& mention) const;
  const KnowledgeBase& kb_;
  CandidateGenerator candidates_;
  LinkOptions options_;
};

/// The NER4EL bi-encoder linker (SPEC "Model"): mention vector at the mention position, entity
/// vector at [CLS] of "CLASS[SEP]description", cosine, argmax. Entity vectors are computed on
/// first use and cached. Thread-safe; holds references to kb and model, which must outlive it.
class BiEncoderLinker : public Linker {
 public:
  /// index (optional, may be null) supplies precomputed entity vectors; it must have been built with
  /// this model (EntityIndex::check_model). Entities missing from it are encoded on the fly.
  /// ner (optional) is the NER classifier that options.ner_cd / ner_cg use.
  /// @throws InvalidArgument when ner_cd or ner_cg is asked for without a classifier.
  BiEncoderLinker(const KnowledgeBase& kb, const LinkerModel& model, LinkOptions options = {},
                  const class EntityIndex* index = nullptr, const NerClassifier* ner = nullptr);
  ~BiEncoderLinker() override;
  using Linker::link;
  std::vector<LinkResult> link(const std::vector<Mention>& mentions) const override;
  /// Entity vectors computed so far (the cache size).
  size_t cached_entities() const;

 private:
  struct Cache;
  const KnowledgeBase& kb_;
  const LinkerModel& model_;
  CandidateGenerator candidates_;
  LinkOptions options_;
  const EntityIndex* index_;
  const NerClassifier* ner_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace ner4el
