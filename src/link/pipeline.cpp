#include "ner4el/pipeline.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <tuple>
#include <optional>

#include "ner4el/default_model.h"
#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/model.h"
#include "ner4el/runtime.h"

namespace ner4el {

// ---------------------------------------------------------------------------------------------
// Pipeline

struct Pipeline::Impl {
  std::unique_ptr<KnowledgeBase> kb;
  std::unique_ptr<LinkerModel> model;
  std::unique_ptr<EntityIndex> index;
  std::unique_ptr<NerClassifier> ner;
  std::unique_ptr<Linker> linker;
  std::unique_ptr<Spotter> spotter;
  std::string description = "count prior";
  std::vector<std::string> notices;
  LinkOptions options;  ///< what linker was made with
  std::mutex variants_mutex;
  std::map<std::tuple<int, int, bool>, std::unique_ptr<Linker>> variants;  ///< per-call option sets
};

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

namespace {
void check_k(int k) {
  if (k < 1 || k > 10000) throw InvalidArgument("k must be between 1 and 10000, got " + std::to_string(k));
}
void check_top(int top) {
  if (top < 1 || top > 1000) throw InvalidArgument("top must be between 1 and 1000, got " + std::to_string(top));
}
}  // namespace

Pipeline Pipeline::open(const PipelineConfig& config) {
  check_k(config.link.k);
  check_top(config.link.top);
  auto s = std::make_unique<Impl>();
  s->kb = std::make_unique<KnowledgeBase>(KnowledgeBase::open(config.kb));
  s->spotter = std::make_unique<Spotter>(*s->kb, config.spotter);
  LinkOptions options = config.link;
  std::string model = config.model;
  bool pretrained = false;
  if (model.empty()) {
    if (auto dir = default_model_dir()) {
      model = *dir;
      pretrained = true;
      auto d = default_linker_settings();
      options.prior_weight = d.prior_weight;
      options.rank_weight = d.rank_weight;
    } else {
      s->notices.push_back("no pretrained model installed (scripts/install-deps); linking with the count prior");
      model = "prior";
    }
  }
  if (config.prior_weight >= 0) options.prior_weight = config.prior_weight;
  if (config.rank_weight >= 0) options.rank_weight = config.rank_weight;
  if (model == "prior") {
    if (!config.index.empty()) throw InvalidArgument("--index needs the --model it was built with");
    if (options.ner_cd || options.ner_cg) throw InvalidArgument("--ner-cd and --ner-cg need a trained --model");
    s->linker = std::make_unique<PriorLinker>(*s->kb, options);
    s->options = options;
    return Pipeline(std::move(s));
  }
  LoadOptions lo;
  lo.vocab = config.vocab;
  lo.style = config.style;
  lo.device = resolve_device(config.device);
  lo.dtype = resolve_dtype(config.dtype, lo.device);
  configure_threads(config.threads, lo.dtype);
  s->model = std::make_unique<LinkerModel>(LinkerModel::load(model, lo));
  for (const auto& w : s->model->warnings()) s->notices.push_back("warning: " + w);
  if (!config.index.empty()) {
    s->index = std::make_unique<EntityIndex>(EntityIndex::open(config.index));
    s->index->check_model(*s->model, config.index);
  }
  if (!config.ner_model.empty()) {
    std::vector<std::string> classes;
    for (const auto& c : s->kb->info().classes) classes.push_back(c.first);
    s->ner = std::make_unique<NerClassifier>(NerClassifier::load(config.ner_model, classes, lo));
  }
  s->linker = std::make_unique<BiEncoderLinker>(*s->kb, *s->model, options, s->index.get(), s->ner.get());
  s->options = options;
  s->description = pretrained ? "pretrained encoder + prior" : "bi-encoder";
  if (options.prior_weight != 0 || options.rank_weight != 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " (prior %.3g, rank %.3g)", options.prior_weight, options.rank_weight);
    s->description += buf;
  }
  return Pipeline(std::move(s));
}

const Linker& Pipeline::linker(const CallOptions& o) const {
  if (!o.any_link_option()) return *impl_->linker;
  LinkOptions lo = impl_->options;
  if (o.k) {
    check_k(*o.k);
    lo.k = *o.k;
  }
  if (o.top) {
    check_top(*o.top);
    lo.top = *o.top;
  }
  if (o.ner_cd) {
    if (*o.ner_cd && !impl_->ner) throw InvalidArgument("ner_cd needs the NER classifier (open the pipeline with one)");
    lo.ner_cd = *o.ner_cd;
  }
  if (lo.k == impl_->options.k && lo.top == impl_->options.top && lo.ner_cd == impl_->options.ner_cd) return *impl_->linker;
  std::lock_guard<std::mutex> lock(impl_->variants_mutex);
  auto& slot = impl_->variants[{lo.k, lo.top, lo.ner_cd}];
  if (!slot) {
    if (impl_->variants.size() > 64) {
      impl_->variants.erase({lo.k, lo.top, lo.ner_cd});
      throw InvalidArgument("more than 64 distinct per-call option sets; use fewer values of k, top and ner_cd");
    }
    if (impl_->model)
      slot = std::make_unique<BiEncoderLinker>(*impl_->kb, *impl_->model, lo, impl_->index.get(), impl_->ner.get());
    else
      slot = std::make_unique<PriorLinker>(*impl_->kb, lo);
  }
  return *slot;
}

std::vector<LinkResult> Pipeline::link(const std::vector<Mention>& mentions, const CallOptions& options) const {
  return linker(options).link(mentions);
}

std::vector<TextSpan> Pipeline::detect(std::string_view text, const SpotterOptions* spotter) const {
  if (spotter) return Spotter(*impl_->kb, *spotter).spot(valid_utf8(text));
  return impl_->spotter->spot(valid_utf8(text));
}

std::vector<std::vector<LinkedSpan>> link_text_spans(const Linker& linker, const std::vector<std::string>& texts,
                                                   std::vector<std::vector<TextSpan>> spans) {
  std::vector<std::vector<LinkedSpan>> out(texts.size());
  std::vector<Mention> mentions;
  for (size_t d = 0; d < texts.size(); ++d)
    for (auto& s : spans[d]) {
      mentions.push_back(mention_in(texts[d], s));
      out[d].push_back({std::move(s), {}});
    }
  auto results = linker.link(mentions);
  size_t at = 0;
  for (auto& doc : out)
    for (auto& ls : doc) ls.result = std::move(results[at++]);
  return out;
}

std::vector<std::vector<LinkedSpan>> Pipeline::annotate(const std::vector<std::string>& texts_in,
                                                        const CallOptions& options) const {
  std::optional<Spotter> custom;
  if (options.spotter) custom.emplace(*impl_->kb, *options.spotter);
  const Spotter& sp = options.spotter ? *custom : *impl_->spotter;
  std::vector<std::string> texts;
  std::vector<std::vector<TextSpan>> spans;
  for (const auto& t : texts_in) {
    texts.push_back(valid_utf8(t));
    spans.push_back(sp.spot(texts.back()));
  }
  return link_text_spans(linker(options), texts, std::move(spans));
}

std::vector<LinkedSpan> Pipeline::link_spans(std::string_view text, const std::vector<TextSpan>& spans,
                                             const CallOptions& options) const {
  return std::move(link_text_spans(linker(options), {valid_utf8(text)}, {spans}).front());
}

std::vector<std::vector<LinkedSpan>> Pipeline::link_spans(const std::vector<std::string>& texts_in,
                                                          const std::vector<std::vector<TextSpan>>& spans,
                                                          const CallOptions& options) const {
  if (texts_in.size() != spans.size())
    throw InvalidArgument("link_spans: " + std::to_string(texts_in.size()) + " texts but " +
                          std::to_string(spans.size()) + " span lists");
  std::vector<std::string> texts;
  for (const auto& t : texts_in) texts.push_back(valid_utf8(t));
  return link_text_spans(linker(options), texts, spans);
}

const KnowledgeBase& Pipeline::kb() const { return *impl_->kb; }
const Linker& Pipeline::linker() const { return *impl_->linker; }
const SpotterOptions& Pipeline::spotter_options() const { return impl_->spotter->options(); }
const LinkerModel* Pipeline::model() const { return impl_->model.get(); }
const std::string& Pipeline::description() const { return impl_->description; }
const std::vector<std::string>& Pipeline::notices() const { return impl_->notices; }

}  // namespace ner4el
