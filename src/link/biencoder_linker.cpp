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

struct BiEncoderLinker::Cache {
  std::mutex mutex;
  std::unordered_map<int64_t, std::vector<float>> vectors;
};

BiEncoderLinker::BiEncoderLinker(const KnowledgeBase& kb, const LinkerModel& model, LinkOptions options,
                                 const EntityIndex* index, const NerClassifier* ner)
    : kb_(kb), model_(model), candidates_(kb, {.k = options.k, .quirks = options.quirks}), options_(options), index_(index),
      ner_(ner), cache_(std::make_unique<Cache>()) {
  options_.cd.quirk_substring_match |= options_.quirks.ner_cd_substring;
  if ((options_.ner_cd || options_.ner_cg) && !ner_)
    throw InvalidArgument("NER-CD and NER-CG need a NER classifier (--ner-model)");
  if (index_ && index_->dim() != model_.dim())
    throw InvalidArgument("the entity index has vectors of dimension " + std::to_string(index_->dim()) +
                          ", the model " + std::to_string(model_.dim()));
}

BiEncoderLinker::~BiEncoderLinker() = default;

size_t BiEncoderLinker::cached_entities() const {
  std::lock_guard<std::mutex> lock(cache_->mutex);
  return cache_->vectors.size();
}

std::vector<LinkResult> BiEncoderLinker::link(const std::vector<Mention>& mentions) const {
  const int d = model_.dim();
  std::vector<LinkResult> out(mentions.size());
  std::vector<std::vector<int64_t>> cands(mentions.size());
  std::vector<MentionInput> inputs;
  std::vector<size_t> scored;  // mentions with candidates
  std::vector<int64_t> missing;
  std::unordered_set<int64_t> queued;
  // The classifier's class probabilities, when NER-CD or NER-CG is on.
  std::vector<std::vector<float>> probs;
  if (ner_ && (options_.ner_cd || options_.ner_cg)) {
    std::vector<MentionInput> ner_inputs;
    for (const auto& m : mentions)
      ner_inputs.push_back(ner_->input_encoder().encode_mention(m.left_context, m.mention, m.right_context));
    probs = ner_->predict(ner_inputs, 32, options_.quirks.ner_cd_dropout);
  }
  auto class_of = [&](int64_t id) {
    auto b = kb_.brief(id);
    return b ? kb_.class_name(b->class_index) : std::string();
  };
  // Vectors for this batch: from the index, the cache, or encoded now (in one batched pass).
  std::unordered_map<int64_t, std::vector<float>> local;
  std::vector<float> buf(d);
  {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    for (size_t i = 0; i < mentions.size(); ++i) {
      auto set = candidates_.candidates(mentions[i].mention);
      out[i].miss = set.miss;
      out[i].candidates = set.ids.size();
      cands[i] = std::move(set.ids);
      if (options_.ner_cg && !probs.empty() && !cands[i].empty()) {
        std::vector<std::string> classes;
        for (int64_t id : cands[i]) classes.push_back(class_of(id));
        std::vector<int64_t> kept;
        for (size_t k : ner_cg_keep(classes, probs[i], ner_->classes())) kept.push_back(cands[i][k]);
        cands[i] = std::move(kept);
        out[i].candidates = cands[i].size();
        if (cands[i].empty()) out[i].miss = CandidateMiss::NoCandidates;
      }
      if (cands[i].empty()) continue;
      scored.push_back(i);
      inputs.push_back(model_.input_encoder().encode_mention(mentions[i].left_context, mentions[i].mention,
                                                             mentions[i].right_context));
      for (int64_t id : cands[i]) {
        if (!options_.cache_entity_vectors) {
          missing.push_back(id);  // the release's way: every candidate of every mention is encoded
          continue;
        }
        if (local.count(id) || cache_->vectors.count(id)) continue;
        if (index_ && index_->vector(id, buf.data())) {
          local.emplace(id, buf);
          continue;
        }
        if (queued.insert(id).second) missing.push_back(id);
      }
    }
  }
  // Entities not seen before are encoded once, in one batched pass.
  if (!missing.empty()) {
    // (embed_entities drops their padding and batches them by length itself.)
    std::vector<EntityInput> ent_inputs;
    for (int64_t id : missing) {
      auto e = kb_.entity(id);
      ent_inputs.push_back(model_.entity_input(e ? *e : Entity{}));
    }
    auto vecs = model_.embed_entities(ent_inputs, 64);
    std::lock_guard<std::mutex> lock(cache_->mutex);
    for (size_t j = 0; j < missing.size(); ++j) {
      std::vector<float> v(vecs.begin() + j * d, vecs.begin() + (j + 1) * d);
      if (options_.cache_entity_vectors) cache_->vectors.emplace(missing[j], v);
      local.emplace(missing[j], std::move(v));
    }
  }
  auto mv = model_.embed_mentions(inputs);
  std::lock_guard<std::mutex> lock(cache_->mutex);
  for (size_t s = 0; s < scored.size(); ++s) {
    const size_t i = scored[s];
    const auto& ids = cands[i];
    std::vector<float> scores(ids.size());
    for (size_t c = 0; c < ids.size(); ++c) {
      auto it = local.find(ids[c]);
      const float* ev = it != local.end() ? it->second.data() : cache_->vectors.at(ids[c]).data();
      scores[c] = cosine(&mv[s * d], ev, d);
    }
    // The prior terms (LinkOptions::prior_weight, rank_weight); both 0 for the release's cosine.
    const std::vector<float> cosines = scores;
    const std::vector<double> prior = count_prior(kb_, ids);
    if (options_.prior_weight != 0 || options_.rank_weight != 0)
      for (size_t c = 0; c < ids.size(); ++c)
        scores[c] += static_cast<float>(options_.prior_weight * std::log(prior[c]) -
                                        options_.rank_weight * std::log1p(static_cast<double>(c)));
    auto norm = min_max_normalise(scores);
    std::vector<size_t> order(ids.size());
    if (options_.ner_cd && !probs.empty()) {
      std::vector<std::string> classes;
      for (int64_t id : ids) classes.push_back(class_of(id));
      auto kept = apply_ner_cd(norm, classes, probs[i], ner_->classes(), options_.cd);
      order = ner_cd_order(scores, norm, kept, options_.quirks.ner_cd_ties);
    } else {
      std::iota(order.begin(), order.end(), 0);
      // Ranking by cosine equals ranking by the normalised score; ties keep the candidate order.
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    }
    std::optional<int64_t> gold;
    if (mentions[i].output) gold = kb_.id_of_title(*mentions[i].output, options_.quirks.title_last_wins);
    for (size_t r = 0; r < order.size(); ++r) {
      if (gold && ids[order[r]] == *gold) out[i].gold_rank = r;
      if (r >= static_cast<size_t>(std::max(1, options_.top))) continue;
      auto e = kb_.entity(ids[order[r]]);
      out[i].ranked.push_back({ids[order[r]], e ? e->title : "", e ? e->ner_class : "", scores[order[r]], norm[order[r]],
                               cosines[order[r]], prior[order[r]], order[r]});
    }
  }
  return out;
}

}  // namespace ner4el
