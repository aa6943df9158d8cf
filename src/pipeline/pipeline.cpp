#include "ner4el/pipeline.h"

// The pipeline opens its parts once (KB, encoder, index, classifier, spotter, batch queue) and
// sends every call through one linker: per-call options are resolved by the linker, not by copies.
#include <algorithm>
#include <cstdio>
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
  std::unique_ptr<BatchQueue> queue;  ///< over linker (declared after it: stops first)
  std::unique_ptr<Spotter> spotter;
  std::unique_ptr<Tagger> tagger;
  std::string mentions = "spotter";
  std::string description = "count prior";
  std::vector<std::string> notices;
  /// What every call goes through: the queue, or the linker when it gains nothing from batches.
  const Linker& front() const { return queue ? static_cast<const Linker&>(*queue) : *linker; }
};

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

namespace {

/// The model a configuration names, and the options it links with: "" is the installed pretrained
/// encoder with its fitted prior weights (or the count prior, with a notice, when none is installed).
std::string choose_model(const PipelineConfig& config, LinkOptions& options, bool& pretrained,
                         std::vector<std::string>& notices) {
  std::string model = config.model;
  pretrained = false;
  if (model.empty()) {
    if (auto dir = default_model_dir()) {
      model = *dir;
      pretrained = true;
      auto d = default_linker_settings();
      options.prior_weight = d.prior_weight;
      options.rank_weight = d.rank_weight;
    } else {
      notices.emplace_back("no pretrained model installed (scripts/install-deps); linking with the count prior");
      model = "prior";
    }
  }
  if (config.prior_weight >= 0) options.prior_weight = config.prior_weight;
  if (config.rank_weight >= 0) options.rank_weight = config.rank_weight;
  return model;
}

/// Loads the encoder, its index and the NER classifier, with device, dtype and threads resolved
/// once (resolve_compute) for all of them.
void load_encoders(Pipeline::Impl& s, const PipelineConfig& config, const std::string& model) {
  LoadOptions lo;
  lo.vocab = config.vocab;
  lo.style = config.style;
  const Compute compute = resolve_compute({config.device, config.dtype, config.threads});
  lo.device = compute.device;
  lo.dtype = compute.dtype;
  s.model = std::make_unique<LinkerModel>(LinkerModel::load(model, lo));
  for (const auto& w : s.model->warnings()) s.notices.push_back("warning: " + w);
  if (!config.index.empty()) {
    s.index = std::make_unique<EntityIndex>(EntityIndex::open(config.index));
    s.index->check_model(*s.model, config.index);
  }
  if (!config.ner_model.empty()) {
    std::vector<std::string> classes;
    for (const auto& c : s.kb->info().classes) classes.push_back(c.first);
    s.ner = std::make_unique<NerClassifier>(NerClassifier::load(config.ner_model, classes, lo));
  }
}

void check_mentions_mode(const std::string& mode) {
  if (mode != "spotter" && mode != "tagger" && mode != "both")
    throw InvalidArgument("mention detection must be spotter, tagger or both, got '" + mode + "'");
}

/// Opens the NER tagger when the configuration needs it, on the pipeline's device and dtype.
void open_tagger(Pipeline::Impl& s, const PipelineConfig& config) {
  s.mentions = config.mentions;
  if (s.mentions == "auto") {
    s.mentions = "tagger";
    if (config.tagger.empty() && !default_tagger_dir()) {
      s.notices.emplace_back("no NER tagger found (taggers/" + std::string(kDefaultTaggerName) +
                             "); mentions are found by the KB's aliases (--mentions spotter)");
      s.mentions = "spotter";
    } else if (!default_model_dir()) {
      s.notices.emplace_back("no pretrained encoder installed for the NER tagger (scripts/install-deps); mentions are "
                             "found by the KB's aliases (--mentions spotter)");
      s.mentions = "spotter";
    }
  }
  check_mentions_mode(s.mentions);
  if (s.mentions == "spotter" && config.tagger.empty()) return;
  const Compute compute = resolve_compute({config.device, config.dtype, config.threads});
  LoadOptions lo;
  lo.device = compute.device;
  lo.dtype = compute.dtype;
  s.tagger = std::make_unique<Tagger>(
      Tagger::load(config.tagger.empty() ? require_default_tagger("tagger (--tagger)") : config.tagger, "", lo));
}

/// The tagger's spans, then the spotter's that overlap none of them, in text order.
std::vector<TextSpan> merged(std::vector<TextSpan> tagged, const std::vector<TextSpan>& spotted) {
  std::vector<TextSpan> out = tagged;
  for (const auto& s : spotted) {
    bool overlaps = false;
    for (const auto& t : tagged) overlaps |= s.start < t.end && t.start < s.end;
    if (!overlaps) out.push_back(s);
  }
  std::stable_sort(out.begin(), out.end(), [](const TextSpan& a, const TextSpan& b) { return a.start < b.start; });
  return out;
}

}  // namespace

Pipeline Pipeline::open(const PipelineConfig& config) {
  check_link_options(config.link);
  auto s = std::make_unique<Impl>();
  s->kb = std::make_unique<KnowledgeBase>(KnowledgeBase::open(config.kb));
  s->spotter = std::make_unique<Spotter>(*s->kb, config.spotter);
  open_tagger(*s, config);
  LinkOptions options = config.link;
  bool pretrained = false;
  const std::string model = choose_model(config, options, pretrained, s->notices);
  if (model == "prior") {
    if (!config.index.empty()) throw InvalidArgument("--index needs the --model it was built with");
    if (options.ner_cd || options.ner_cg) throw InvalidArgument("--ner-cd and --ner-cg need a trained --model");
    if (!config.ner_model.empty()) throw InvalidArgument("--ner-model needs a trained --model");
    s->linker = std::make_unique<PriorLinker>(*s->kb, options);
    return Pipeline(std::move(s));
  }
  load_encoders(*s, config, model);
  s->linker = std::make_unique<BiEncoderLinker>(*s->kb, *s->model, options, s->index.get(), s->ner.get());
  s->queue = std::make_unique<BatchQueue>(*s->linker, config.batch);
  s->description = pretrained ? "pretrained encoder + prior" : "bi-encoder";
  if (options.prior_weight != 0 || options.rank_weight != 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " (prior %.3g, rank %.3g)", options.prior_weight, options.rank_weight);
    s->description += buf;
  }
  return Pipeline(std::move(s));
}

std::vector<LinkResult> Pipeline::link(const std::vector<Mention>& mentions, const CallOptions& options) const {
  check_candidates(mentions);
  return impl_->front().link(mentions, options);
}

void Pipeline::check_candidates(const std::vector<Mention>& mentions, const std::string& where) const {
  // Before the queue: one caller's unknown candidate must not fail a batch shared with others.
  for (size_t i = 0; i < mentions.size(); ++i)
    if (mentions[i].candidates) check_candidates(mentions[i], where + "[" + std::to_string(i) + "]");
}

void Pipeline::check_candidates(const Mention& mention, const std::string& where) const {
  if (!mention.candidates) return;
  // Titles resolve as the linker resolves them (its release quirks); the generator holds references only.
  const CandidateGenerator generator(*impl_->kb, {.quirks = impl_->linker->options().quirks});
  (void)generator.given(*mention.candidates, 0, where);
}

std::vector<TextSpan> Pipeline::detect(std::string_view text, const SpotterOptions* spotter) const {
  CallOptions spot;
  spot.mentions = "spotter";
  if (spotter) spot.spotter = *spotter;
  return detect(text, spot);
}

namespace {
/// Mention detection of texts already made valid UTF-8 (what detect() and annotate() share).
std::vector<std::vector<TextSpan>> detect_valid(const Pipeline::Impl& s, const std::vector<std::string>& texts,
                                                const CallOptions& options) {
  const std::string& mode = options.mentions ? *options.mentions : s.mentions;
  check_mentions_mode(mode);
  if (mode != "spotter" && !s.tagger)
    throw InvalidArgument("mention detection '" + mode + "' needs the NER tagger: open the pipeline with one (--tagger, or --mentions tagger/both)");
  std::optional<Spotter> custom;
  if (options.spotter) custom.emplace(*s.kb, *options.spotter);
  const Spotter& sp = options.spotter ? *custom : *s.spotter;
  std::vector<std::vector<TextSpan>> spans;
  if (mode != "spotter") spans = s.tagger->tag(texts);
  if (mode == "tagger") return spans;
  spans.resize(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    auto spotted = sp.spot(texts[i]);
    spans[i] = mode == "spotter" ? std::move(spotted) : merged(std::move(spans[i]), spotted);
  }
  return spans;
}

std::vector<std::string> valid_texts(const std::vector<std::string>& texts_in) {
  std::vector<std::string> texts;
  texts.reserve(texts_in.size());
  for (const auto& t : texts_in) texts.push_back(valid_utf8(t));
  return texts;
}
}  // namespace

std::vector<std::vector<TextSpan>> Pipeline::detect(const std::vector<std::string>& texts, const CallOptions& options) const {
  return detect_valid(*impl_, valid_texts(texts), options);
}

std::vector<TextSpan> Pipeline::detect(std::string_view text, const CallOptions& options) const {
  return std::move(detect_valid(*impl_, {valid_utf8(text)}, options).front());
}

std::vector<std::vector<LinkedSpan>> Pipeline::annotate(const std::vector<std::string>& texts_in,
                                                        const CallOptions& options) const {
  const Linker& linker = impl_->front();
  (void)linker.options_for(options);  // bad options are refused before detection
  const std::vector<std::string> texts = valid_texts(texts_in);
  return link_text_spans(linker, texts, detect_valid(*impl_, texts, options), options);
}

std::vector<LinkedSpan> Pipeline::link_spans(std::string_view text, const std::vector<TextSpan>& spans,
                                             const CallOptions& options) const {
  return std::move(link_text_spans(impl_->front(), {valid_utf8(text)}, {spans}, options).front());
}

std::vector<std::vector<LinkedSpan>> Pipeline::link_spans(const std::vector<std::string>& texts_in,
                                                          const std::vector<std::vector<TextSpan>>& spans,
                                                          const CallOptions& options) const {
  if (texts_in.size() != spans.size())
    throw InvalidArgument("link_spans: " + std::to_string(texts_in.size()) + " texts but " +
                          std::to_string(spans.size()) + " span lists");
  return link_text_spans(impl_->front(), valid_texts(texts_in), spans, options);
}

void Pipeline::set_threads(int threads) const {
  configure_threads(threads, impl_->model ? impl_->model->dtype() : "fp32");
}

const KnowledgeBase& Pipeline::kb() const { return *impl_->kb; }
const Linker& Pipeline::linker() const { return impl_->front(); }
const Tagger* Pipeline::tagger() const { return impl_->tagger.get(); }
const std::string& Pipeline::mentions() const { return impl_->mentions; }
const SpotterOptions& Pipeline::spotter_options() const { return impl_->spotter->options(); }
const LinkerModel* Pipeline::model() const { return impl_->model.get(); }
const std::string& Pipeline::description() const { return impl_->description; }
const std::vector<std::string>& Pipeline::notices() const { return impl_->notices; }

}  // namespace ner4el
