// Linking mentions in context to knowledge-base entities.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <optional>
#include <string>
#include <vector>

#include "ner4el/candidates.h"
#include "ner4el/dataset.h"
#include "ner4el/kb.h"
#include "ner4el/model.h"
#include "ner4el/ner.h"
#include "ner4el/text.h"

namespace ner4el {

struct LinkOptions {
  int k = 40;    ///< candidates per mention (docs/reference.md: 40; the release used 5 for AQUAINT)
  int top = 5;   ///< alternatives reported per mention (best included)
  /// Keep entity vectors computed on the fly. false re-encodes every candidate for every mention,
  /// as the release does (for comparisons only).
  bool cache_entity_vectors = true;
  /// Memory bound of those kept vectors, in MiB (the least recently used go first; an index's
  /// vectors are mapped from its file and not counted).
  size_t cache_mib = 256;
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
  /// Bi-encoder only: the reference's min-max normalised score in [0, 1] (NaN with a single candidate).
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

/// What one call may change of a linker's options; an unset field keeps the linker's own. Any
/// number of distinct option sets may be used: nothing is copied or kept per set.
struct LinkCallOptions {
  std::optional<int> k;        ///< candidates per mention, 1..10000
  std::optional<int> top;      ///< alternatives reported, 1..1000
  std::optional<bool> ner_cd;  ///< NER-constrained decoding (needs the NER classifier)
  bool any() const { return k || top || ner_cd; }
  bool operator==(const LinkCallOptions&) const = default;
};

/// @throws InvalidArgument naming the option when k is outside 1..10000 or top outside 1..1000.
void check_link_options(const LinkOptions& options);

/// A linker: mentions in, ranked entities out.
class Linker {
 public:
  virtual ~Linker() = default;
  /// Links a batch (batches let the neural linker run the encoder on many mentions at once), with
  /// call's options over the linker's own.
  /// @throws InvalidArgument for per-call options out of range, or NER-CD without a classifier.
  virtual std::vector<LinkResult> link(const std::vector<Mention>& mentions, const LinkCallOptions& call = {}) const = 0;
  LinkResult link(const Mention& mention, const LinkCallOptions& call = {}) const {
    return link(std::vector<Mention>{mention}, call).front();
  }
  /// The options the linker was made with.
  virtual const LinkOptions& options() const = 0;
  /// options() with call's fields applied and checked (the one place per-call options are resolved).
  /// @throws InvalidArgument as link().
  LinkOptions options_for(const LinkCallOptions& call) const;
  /// Whether NER-CD and NER-CG can run: a bi-encoder can (with its classifier, else from each
  /// mention's own class), the count prior cannot.
  virtual bool supports_ner_cd() const { return false; }
};

/// The count-prior linker: the candidate with the most incoming links wins. A floor for every table
/// and the linker used when no trained model is given. Thread-safe.
class PriorLinker : public Linker {
 public:
  PriorLinker(const KnowledgeBase& kb, LinkOptions options = {});
  using Linker::link;
  std::vector<LinkResult> link(const std::vector<Mention>& mentions, const LinkCallOptions& call = {}) const override;
  const LinkOptions& options() const override { return options_; }

 private:
  LinkResult link_one(const Mention& mention, const LinkOptions& options, const std::string& where) const;
  const KnowledgeBase& kb_;
  CandidateGenerator candidates_;
  LinkOptions options_;
};

/// The NER4EL bi-encoder linker (reference behaviour, docs/reference.md "Model"): mention vector
/// at the mention position, entity vector at [CLS] of "CLASS[SEP]description", cosine, argmax.
/// Entity vectors come from the index, else are computed on first use and kept in one store with a
/// memory bound (LinkOptions::cache_mib) that every call shares, whatever its options.
/// Thread-safe; holds references to kb and model, which must outlive it.
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
  std::vector<LinkResult> link(const std::vector<Mention>& mentions, const LinkCallOptions& call = {}) const override;
  const LinkOptions& options() const override { return options_; }
  /// Entity vectors kept so far (the store's size).
  size_t cached_entities() const;
  /// Bytes those vectors take (at most LinkOptions::cache_mib MiB).
  size_t cached_bytes() const;
  /// NER-CD from the classifier, or without one from each mention's own class (Mention::ner).
  bool supports_ner_cd() const override { return true; }

 private:
  using Vector = std::shared_ptr<const std::vector<float>>;
  /// Stage 1: the classifier's class probabilities per mention (empty unless NER-CD or NER-CG).
  std::vector<std::vector<float>> class_probabilities(const std::vector<Mention>& mentions, const LinkOptions& o) const;
  /// Stage 2: each mention's candidates (NER-CG applied); fills miss and candidates of out.
  std::vector<std::vector<int64_t>> candidate_sets(const std::vector<Mention>& mentions, const LinkOptions& o,
                                                   const std::vector<std::vector<float>>& probs,
                                                   std::vector<LinkResult>& out) const;
  /// Stage 3: the vector of every candidate: from the index, the store, or encoded now in one pass.
  std::unordered_map<int64_t, Vector> entity_vectors(const std::vector<std::vector<int64_t>>& cands,
                                                     const LinkOptions& o) const;
  /// Stage 4: scores, NER-CD and the ranking of one mention's candidates.
  void rank(const Mention& mention, const std::vector<int64_t>& ids, const float* mention_vector,
            const std::unordered_map<int64_t, Vector>& vectors, const std::vector<float>* probs, const LinkOptions& o,
            LinkResult& out) const;
  std::string class_of(int64_t id) const;

  struct Cache;
  const KnowledgeBase& kb_;
  const LinkerModel& model_;
  CandidateGenerator candidates_;
  LinkOptions options_;
  const EntityIndex* index_;
  const NerClassifier* ner_;
  std::vector<std::string> class_names_;  ///< the classifier's classes, else the KB's
  std::unique_ptr<Cache> cache_;
};

/// Bytes of context a mention of a text carries on each side (kMentionContextBytes): far more than
/// the 128-piece window an encoder reads in any text with words in it.
inline constexpr size_t kMentionContextBytes = 4096;

/// The mention of a span for a linker: the span's text with its context, bounded so that a text's
/// mentions never each copy the whole text: the right context's first kMentionContextBytes, and of
/// a longer left context its first and its last kMentionContextBytes joined by a space (the window
/// reads the pieces nearest the mention, or with the release's quirk the farthest ones: see
/// docs/reference.md "Input encoding"). Cuts fall on whitespace where there is any, else on a
/// character boundary.
Mention mention_in(std::string_view text, const TextSpan& span);

/// One linked span of a text.
struct LinkedSpan {
  TextSpan span;
  LinkResult result;  ///< ranked candidates, best first; empty when the span has none
};

/// Links the spans of each text (valid UTF-8; spans[i] belong to texts[i]): every span becomes a
/// mention with its context (mention_in), linked in calls of at most 1,024 mentions, so memory
/// stays bounded however many spans a text has.
std::vector<std::vector<LinkedSpan>> link_text_spans(const Linker& linker, const std::vector<std::string>& texts,
                                                     std::vector<std::vector<TextSpan>> spans,
                                                     const LinkCallOptions& call = {});


}  // namespace ner4el
