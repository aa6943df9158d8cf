// The bi-encoder linker in four named stages: class probabilities (NER-CD/CG), candidate sets,
// entity vectors (index, store, or one batched encoder pass), ranking. Per-call options are
// resolved once per call (Linker::options_for) and passed down; nothing is kept per option set, so
// one linker and one bounded vector store serve every caller.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "link/count_prior.h"
#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/linker.h"

namespace ner4el {

/// The entity-vector store: two generations of a map. A look-up searches the young generation, then
/// the old one (a hit there moves to the young); when the young one reaches half the bound, the old
/// one is dropped and the young one becomes old. Memory stays under the bound and the vectors used
/// recently stay. Vectors are shared pointers, so a caller keeps its own even after they go.
struct BiEncoderLinker::Cache {
  static constexpr size_t kEntryOverhead = 64;  // map node, control block, vector header
  explicit Cache(size_t max_bytes) : half(std::max<size_t>(max_bytes / 2, 1)) {}
  std::mutex mutex;
  std::unordered_map<int64_t, Vector> young, old;
  size_t young_bytes = 0, old_bytes = 0, half;

  static size_t bytes(const Vector& v) { return v->size() * sizeof(float) + kEntryOverhead; }
  /// Caller holds mutex.
  Vector find(int64_t id) {
    if (auto it = young.find(id); it != young.end()) return it->second;
    auto it = old.find(id);
    if (it == old.end()) return nullptr;
    Vector v = it->second;
    old_bytes -= bytes(v);
    old.erase(it);
    put(id, v);
    return v;
  }
  /// Caller holds mutex.
  void put(int64_t id, Vector v) {
    if (young_bytes + bytes(v) > half) {
      old = std::move(young);
      old_bytes = young_bytes;
      young = {};
      young_bytes = 0;
    }
    young_bytes += bytes(v);
    young.emplace(id, std::move(v));
  }
};

BiEncoderLinker::BiEncoderLinker(const KnowledgeBase& kb, const LinkerModel& model, LinkOptions options,
                                 const EntityIndex* index, const NerClassifier* ner)
    : kb_(kb), model_(model), candidates_(kb, {.k = options.k, .quirks = options.quirks}), options_(options), index_(index),
      ner_(ner), cache_(std::make_unique<Cache>(options.cache_mib << 20)) {
  options_.cd.quirk_substring_match |= options_.quirks.ner_cd_substring;
  if (ner_) {
    class_names_ = ner_->classes();
  } else {
    for (const auto& [name, count] : kb_.info().classes) class_names_.push_back(name);
  }
  if (index_ && index_->dim() != model_.dim())
    throw InvalidArgument("the entity index has vectors of dimension " + std::to_string(index_->dim()) +
                          ", the model " + std::to_string(model_.dim()));
}

BiEncoderLinker::~BiEncoderLinker() = default;

size_t BiEncoderLinker::cached_entities() const {
  std::lock_guard<std::mutex> lock(cache_->mutex);
  return cache_->young.size() + cache_->old.size();
}

size_t BiEncoderLinker::cached_bytes() const {
  std::lock_guard<std::mutex> lock(cache_->mutex);
  return cache_->young_bytes + cache_->old_bytes;
}

std::string BiEncoderLinker::class_of(int64_t id) const {
  auto b = kb_.brief(id);
  return b ? kb_.class_name(b->class_index) : std::string();
}

std::vector<LinkResult> BiEncoderLinker::link(const std::vector<Mention>& mentions, const LinkCallOptions& call) const {
  const LinkOptions o = options_for(call);
  std::vector<LinkResult> out(mentions.size());
  const auto probs = class_probabilities(mentions, o);
  const auto cands = candidate_sets(mentions, o, probs, out);
  const auto vectors = entity_vectors(cands, o);
  std::vector<MentionInput> inputs;
  std::vector<size_t> scored;  // mentions with candidates
  for (size_t i = 0; i < mentions.size(); ++i) {
    if (cands[i].empty()) continue;
    scored.push_back(i);
    inputs.push_back(model_.input_encoder().encode_mention(mentions[i].left_context, mentions[i].mention,
                                                           mentions[i].right_context));
  }
  const auto mv = model_.embed_mentions(inputs);
  for (size_t s = 0; s < scored.size(); ++s) {
    const size_t i = scored[s];
    rank(mentions[i], cands[i], &mv[s * model_.dim()], vectors, probs.empty() || probs[i].empty() ? nullptr : &probs[i], o,
         out[i]);
  }
  return out;
}

std::vector<std::vector<float>> BiEncoderLinker::class_probabilities(const std::vector<Mention>& mentions,
                                                                     const LinkOptions& o) const {
  if (!(o.ner_cd || o.ner_cg)) return {};
  if (!ner_) return given_class_probabilities(mentions, class_names_);
  std::vector<MentionInput> inputs;
  for (const auto& m : mentions)
    inputs.push_back(ner_->input_encoder().encode_mention(m.left_context, m.mention, m.right_context));
  return ner_->predict(inputs, 32, o.quirks.ner_cd_dropout);
}

std::vector<std::vector<int64_t>> BiEncoderLinker::candidate_sets(const std::vector<Mention>& mentions,
                                                                  const LinkOptions& o,
                                                                  const std::vector<std::vector<float>>& probs,
                                                                  std::vector<LinkResult>& out) const {
  std::vector<std::vector<int64_t>> cands(mentions.size());
  for (size_t i = 0; i < mentions.size(); ++i) {
    auto set = candidates_.for_mention(mentions[i], o.k, "mentions[" + std::to_string(i) + "]");
    out[i].miss = set.miss;
    out[i].candidates = set.ids.size();
    cands[i] = std::move(set.ids);
    if (o.ner_cg && !probs.empty() && !probs[i].empty() && !cands[i].empty()) {
      std::vector<std::string> classes;
      for (int64_t id : cands[i]) classes.push_back(class_of(id));
      std::vector<int64_t> kept;
      for (size_t k : ner_cg_keep(classes, probs[i], class_names_)) kept.push_back(cands[i][k]);
      cands[i] = std::move(kept);
      out[i].candidates = cands[i].size();
      if (cands[i].empty()) out[i].miss = CandidateMiss::NoCandidates;
    }
  }
  return cands;
}

std::unordered_map<int64_t, BiEncoderLinker::Vector> BiEncoderLinker::entity_vectors(
    const std::vector<std::vector<int64_t>>& cands, const LinkOptions& o) const {
  const int d = model_.dim();
  std::unordered_map<int64_t, Vector> vectors;
  std::vector<int64_t> missing;  // encoded now, in one batched pass
  std::unordered_set<int64_t> queued;
  std::vector<float> buf(d);
  {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    for (const auto& ids : cands)
      for (int64_t id : ids) {
        if (!o.cache_entity_vectors) {  // the release's way: every candidate of every mention is encoded
          missing.push_back(id);
          continue;
        }
        if (vectors.count(id)) continue;
        Vector v = cache_->find(id);
        if (!v && index_ && index_->vector(id, buf.data())) v = std::make_shared<const std::vector<float>>(buf);
        if (v)
          vectors.emplace(id, std::move(v));
        else if (queued.insert(id).second)
          missing.push_back(id);
      }
  }
  if (missing.empty()) return vectors;
  // (embed_entities drops their padding and batches them by length itself.)
  std::vector<EntityInput> ent_inputs;
  for (int64_t id : missing) {
    auto e = kb_.entity(id);
    ent_inputs.push_back(model_.entity_input(e ? *e : Entity{}));
  }
  const auto encoded = model_.embed_entities(ent_inputs, 64);
  std::lock_guard<std::mutex> lock(cache_->mutex);
  for (size_t j = 0; j < missing.size(); ++j) {
    auto v = std::make_shared<const std::vector<float>>(encoded.begin() + j * d, encoded.begin() + (j + 1) * d);
    if (o.cache_entity_vectors) cache_->put(missing[j], v);
    vectors.emplace(missing[j], std::move(v));  // (a repeated id keeps its first vector)
  }
  return vectors;
}

void BiEncoderLinker::rank(const Mention& mention, const std::vector<int64_t>& ids, const float* mention_vector,
                           const std::unordered_map<int64_t, Vector>& vectors, const std::vector<float>* probs,
                           const LinkOptions& o, LinkResult& out) const {
  std::vector<float> scores(ids.size());
  for (size_t c = 0; c < ids.size(); ++c) scores[c] = cosine(mention_vector, vectors.at(ids[c])->data(), model_.dim());
  // The prior terms (LinkOptions::prior_weight, rank_weight); both 0 for the release's cosine.
  const std::vector<float> cosines = scores;
  const std::vector<double> prior = count_prior(kb_, ids);
  if (o.prior_weight != 0 || o.rank_weight != 0)
    for (size_t c = 0; c < ids.size(); ++c)
      scores[c] += static_cast<float>(o.prior_weight * std::log(prior[c]) -
                                      o.rank_weight * std::log1p(static_cast<double>(c)));
  auto norm = min_max_normalise(scores);
  std::vector<size_t> order(ids.size());
  if (o.ner_cd && probs) {
    std::vector<std::string> classes;
    for (int64_t id : ids) classes.push_back(class_of(id));
    auto kept = apply_ner_cd(norm, classes, *probs, class_names_, o.cd);
    order = ner_cd_order(scores, norm, kept, o.quirks.ner_cd_ties);
  } else {
    std::iota(order.begin(), order.end(), 0);
    // Ranking by cosine equals ranking by the normalised score; ties keep the candidate order.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  }
  std::optional<int64_t> gold;
  if (mention.output) gold = kb_.id_of_title(*mention.output, o.quirks.title_last_wins);
  for (size_t r = 0; r < order.size(); ++r) {
    if (gold && ids[order[r]] == *gold) out.gold_rank = r;
    if (r >= static_cast<size_t>(std::max(1, o.top))) continue;
    auto e = kb_.entity(ids[order[r]]);
    out.ranked.push_back({ids[order[r]], e ? e->title : "", e ? e->ner_class : "", scores[order[r]], norm[order[r]],
                          cosines[order[r]], prior[order[r]], order[r]});
  }
}

}  // namespace ner4el
