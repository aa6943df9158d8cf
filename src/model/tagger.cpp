// The NER tagger: words, windows, the head, BIO decoding (src/model/tagger_impl.h).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "model/model_impl.h"
#include "model/tagger_impl.h"
#include "ner4el/default_model.h"
#include "ner4el/error.h"
#include "ner4el/files.h"
#include "ner4el/json.h"

namespace fs = std::filesystem;

namespace ner4el {

namespace {
constexpr int kTaggerFormatVersion = 1;
constexpr int kMaxWordPieces = 100;  // BERT's max_input_chars_per_word: a longer word is one [UNK]

int64_t i64(size_t v) { return static_cast<int64_t>(v); }

/// An integer field of tagger.json within [lo, hi].
int int_field(const nlohmann::json& j, const char* key, int lo, int hi, const std::string& file) {
  if (!j.contains(key) || !j[key].is_number_integer())
    throw FormatError(file + ": field '" + key + "' is missing or not an integer");
  const auto v = j[key].get<int64_t>();
  if (v < lo || v > hi)
    throw FormatError(file + ": field '" + key + "' is " + std::to_string(v) + ", expected " + std::to_string(lo) + ".." +
                      std::to_string(hi));
  return static_cast<int>(v);
}

void check_options(const TaggerOptions& o, int max_positions) {
  if (o.window < 8 || o.window > max_positions)
    throw InvalidArgument("tagger window must be 8.." + std::to_string(max_positions) + " pieces, got " +
                          std::to_string(o.window));
  if (o.margin < 0 || o.margin > (o.window - 2) / 4)
    throw InvalidArgument("tagger margin must be 0.." + std::to_string((o.window - 2) / 4) + " pieces (a quarter of the window), got " +
                          std::to_string(o.margin));
  if (o.batch < 1) throw InvalidArgument("tagger batch must be at least 1");
}
}  // namespace

// ---- the head ----

TaggerHeadImpl::TaggerHeadImpl(const TaggerHeadConfig& c) : config(c) {
  mix = register_parameter("mix", torch::zeros({c.states}));
  scale = register_parameter("scale", torch::ones({1}));
  shape = register_module("shape", torch::nn::Embedding(2 * kWordShapes, c.shape_dim));
  lstm = register_module(
      "lstm", torch::nn::LSTM(torch::nn::LSTMOptions(c.hidden + c.shape_dim, c.lstm).bidirectional(true).batch_first(true)));
  out = register_module("out", torch::nn::Linear(2 * c.lstm, c.tags));
  dropout = register_module("dropout", torch::nn::Dropout(c.dropout));
}

torch::Tensor TaggerHeadImpl::forward(const torch::Tensor& states, const torch::Tensor& shapes, const torch::Tensor& lengths) {
  namespace rnn = torch::nn::utils::rnn;
  const auto w = torch::softmax(mix, 0).view({1, 1, -1, 1});
  auto mixed = (states.to(torch::kFloat32) * w).sum(2) * scale;
  auto x = torch::cat({dropout->forward(mixed), shape->forward(shapes)}, -1);
  const int64_t T = x.size(1);
  auto packed = rnn::pack_padded_sequence(x, lengths.to(torch::kCPU), /*batch_first=*/true, /*enforce_sorted=*/false);
  auto y = std::get<0>(rnn::pad_packed_sequence(std::get<0>(lstm->forward_with_packed_input(packed)), true, 0.0, T));
  return out->forward(dropout->forward(y));
}

// ---- words and windows ----

TaggedText prepare_text(std::string_view text, const WordPieceTokenizer& tokenizer, int cap) {
  TaggedText t;
  size_t previous_end = 0;
  bool first = true;
  for (const Word& w : split_words(text)) {
    std::vector<int> ids = tokenizer.encode(text.substr(w.byte_start, w.byte_end - w.byte_start));
    if (ids.empty()) continue;
    if (ids.size() > static_cast<size_t>(cap)) ids.resize(static_cast<size_t>(cap));
    const bool line_start = first || text.substr(previous_end, w.byte_start - previous_end).find('\n') != std::string_view::npos;
    t.shapes.push_back(word_shape(text.substr(w.byte_start, w.byte_end - w.byte_start)) + (line_start ? kWordShapes : 0));
    t.words.push_back(w);
    t.pieces.push_back(std::move(ids));
    previous_end = w.byte_end;
    first = false;
  }
  return t;
}

std::vector<TaggerWindow> plan_windows(const std::vector<std::vector<int>>& pieces, int window, int margin) {
  const size_t n = pieces.size(), budget = static_cast<size_t>(window - 2), shared = 2 * static_cast<size_t>(margin);
  std::vector<TaggerWindow> out;
  size_t a = 0, own_from = 0;
  while (a < n) {
    size_t b = a, used = 0;
    while (b < n && (b == a || used + pieces[b].size() <= budget)) used += pieces[b++].size();
    if (b == n) {
      out.push_back({a, n, own_from, n});
      break;
    }
    // The next window starts where the last `shared` pieces of this one begin (at least one word on).
    size_t next = b, tail = 0;
    while (next > a + 1 && tail + pieces[next - 1].size() <= shared) tail += pieces[--next].size();
    // The shared words go to the window where they are farther from the edge: split them in the middle.
    size_t mid = next, half = 0;
    while (mid < b && 2 * (half + pieces[mid].size()) <= tail) half += pieces[mid++].size();
    out.push_back({a, b, own_from, mid});
    own_from = mid;
    a = next;
  }
  return out;
}

std::pair<torch::Tensor, torch::Tensor> encode_windows(BertEncoderImpl& encoder, torch::Device device,
                                                       const std::vector<const TaggedText*>& texts,
                                                       const std::vector<TaggerWindow>& windows, int cls, int sep) {
  const int64_t B = i64(windows.size());
  int64_t T = 0, W = 1;
  for (size_t b = 0; b < windows.size(); ++b) {
    int64_t len = 2;
    for (size_t w = windows[b].first; w < windows[b].last; ++w) len += i64(texts[b]->pieces[w].size());
    T = std::max(T, len);
    W = std::max(W, i64(windows[b].last - windows[b].first));
  }
  auto ids = torch::zeros({B, T}, torch::kLong), mask = torch::zeros({B, T}, torch::kLong);
  auto index = torch::zeros({B, W}, torch::kLong), counts = torch::zeros({B}, torch::kLong);
  auto ia = ids.accessor<int64_t, 2>(), ma = mask.accessor<int64_t, 2>(), xa = index.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& win = windows[static_cast<size_t>(b)];
    const auto& text = *texts[static_cast<size_t>(b)];
    int64_t t = 0;
    ia[b][t++] = cls;
    for (size_t w = win.first; w < win.last; ++w) {
      xa[b][i64(w - win.first)] = b * T + t;
      for (int id : text.pieces[w]) ia[b][t++] = id;
    }
    ia[b][t++] = sep;
    for (int64_t k = 0; k < t; ++k) ma[b][k] = 1;
    counts[b] = i64(win.last - win.first);
  }
  auto layers = encoder.forward_layers(ids.to(device), mask.to(device));
  auto stacked = torch::stack(layers, 2);  // [B, T, S, H]
  const int64_t S = stacked.size(2), H = stacked.size(3);
  auto words = stacked.reshape({B * T, S, H}).index_select(0, index.view({-1}).to(device)).view({B, W, S, H});
  auto valid = torch::arange(W).view({1, W}).lt(counts.view({B, 1})).to(device);
  return {words * valid.view({B, W, 1, 1}).to(words.scalar_type()), counts};
}

// ---- tags ----

std::vector<std::string> tag_names(const std::vector<std::string>& types) {
  std::vector<std::string> names{"O"};
  for (const auto& t : types) {
    names.push_back("B-" + t);
    names.push_back("I-" + t);
  }
  return names;
}

std::vector<int64_t> bio_labels(const std::vector<Word>& words, const std::vector<GoldSpan>& spans,
                                const std::vector<std::string>& types) {
  std::vector<int64_t> labels(words.size(), 0);
  for (const auto& s : spans) {
    const auto it = std::find(types.begin(), types.end(), s.type);
    if (it == types.end()) continue;
    const int64_t k = it - types.begin();
    bool begun = false;
    for (size_t i = 0; i < words.size(); ++i) {
      if (words[i].start < s.start || words[i].end > s.end) continue;
      labels[i] = begun ? 2 + 2 * k : 1 + 2 * k;
      begun = true;
    }
  }
  return labels;
}

std::vector<int> viterbi(const float* logp, size_t n, int tags, int previous) {
  auto allowed = [](int from, int to) { return to == 0 || to % 2 == 1 || (from != 0 && (from + 1) / 2 == to / 2); };
  constexpr float kNo = -std::numeric_limits<float>::infinity();
  const size_t T = static_cast<size_t>(tags);
  std::vector<float> score(T), next(T);
  std::vector<int> back(n * T, 0);
  for (size_t t = 0; t < T; ++t) score[t] = allowed(previous, static_cast<int>(t)) ? logp[t] : kNo;
  for (size_t i = 1; i < n; ++i) {
    for (size_t t = 0; t < T; ++t) {
      float best = kNo;
      int arg = 0;
      for (size_t f = 0; f < T; ++f)
        if (allowed(static_cast<int>(f), static_cast<int>(t)) && score[f] > best) best = score[f], arg = static_cast<int>(f);
      next[t] = best + logp[i * T + t];
      back[i * T + t] = arg;
    }
    score.swap(next);
  }
  std::vector<int> path(n);
  if (n == 0) return path;
  path[n - 1] = static_cast<int>(std::max_element(score.begin(), score.end()) - score.begin());
  for (size_t i = n - 1; i > 0; --i) path[i - 1] = back[i * T + static_cast<size_t>(path[i])];
  return path;
}

// ---- the tagger ----

BertEncoderImpl& Tagger::Impl::bert() const { return *encoder->impl_->mention; }
torch::Device Tagger::Impl::device() const { return encoder->impl_->device; }

Tagger::Tagger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tagger::~Tagger() = default;
Tagger::Tagger(Tagger&&) noexcept = default;
Tagger& Tagger::operator=(Tagger&&) noexcept = default;

const std::vector<std::string>& Tagger::types() const { return impl_->types; }
const TaggerOptions& Tagger::options() const { return impl_->options; }
const LinkerModel& Tagger::encoder() const { return *impl_->encoder; }

/// Opens the encoder of a tagger and checks it against the head's configuration.
void open_tagger_encoder(Tagger::Impl& m, const std::string& dir, const std::string& encoder, const LoadOptions& options) {
  const TaggerHeadConfig& hc = m.head_config;
  const std::string enc_path = encoder.empty() ? require_default_model("--encoder") : encoder;
  LoadOptions lo = options;
  lo.style = "auto";
  m.encoder = std::make_unique<LinkerModel>(LinkerModel::load(enc_path, lo));
  const BertConfig& bc = m.encoder->config();
  if (bc.hidden_size != hc.hidden || bc.num_hidden_layers + 1 != hc.states)
    throw InvalidArgument(dir + ": the head was made for an encoder of " + std::to_string(hc.states - 1) + " layers of " +
                          std::to_string(hc.hidden) + ", but " + enc_path + " has " + std::to_string(bc.num_hidden_layers) +
                          " of " + std::to_string(bc.hidden_size));
  if (!m.encoder_fingerprint.empty() && m.encoder->fingerprint() != m.encoder_fingerprint)
    throw InvalidArgument(dir + ": the head was trained on encoder weights with fingerprint " + m.encoder_fingerprint + ", but " +
                          enc_path + " has " + m.encoder->fingerprint() + " (pass the encoder it was trained on with --encoder)");
  check_options(m.options, bc.max_position_embeddings);
  const auto& tok = m.encoder->tokenizer();
  m.cls = tok.require_id("[CLS]");
  m.sep = tok.require_id("[SEP]");
}

Tagger Tagger::load(const std::string& dir, const std::string& encoder, const LoadOptions& options) {
  const fs::path folder(dir), meta_path = folder / "tagger.json", weights = folder / "head.safetensors";
  if (!fs::is_regular_file(meta_path))
    throw NotFound(dir + ": no tagger.json here (expected a tagger folder from 'ner4el train-tagger')");
  const std::string file = meta_path.string();
  const nlohmann::json j = parse_json(read_text_file(file, "tagger configuration"), file);
  if (!j.is_object() || j.value("format", "") != "ner4el-tagger")
    throw FormatError(file + ": field 'format' is not \"ner4el-tagger\"");
  const int version = int_field(j, "format_version", 1, 1 << 20, file);
  if (version > kTaggerFormatVersion)
    throw FormatError(file + ": tagger format version " + std::to_string(version) + ", this build reads up to " +
                      std::to_string(kTaggerFormatVersion) + "; upgrade ner4el");
  auto impl = std::make_unique<Impl>();
  if (!j.contains("types") || !j["types"].is_array() || j["types"].empty() || j["types"].size() > 64)
    throw FormatError(file + ": field 'types' must be a list of 1..64 type names");
  for (const auto& t : j["types"]) {
    if (!t.is_string() || t.get<std::string>().empty() || t.get<std::string>().size() > 64)
      throw FormatError(file + ": field 'types' holds something other than a type name of 1..64 bytes");
    impl->types.push_back(t.get<std::string>());
  }
  if (!j.contains("head") || !j["head"].is_object()) throw FormatError(file + ": field 'head' is missing");
  const auto& h = j["head"];
  TaggerHeadConfig& hc = impl->head_config;
  hc.states = int_field(h, "states", 1, 256, file);
  hc.hidden = int_field(h, "hidden", 1, 1 << 14, file);
  hc.shape_dim = int_field(h, "shape_dim", 1, 1024, file);
  hc.lstm = int_field(h, "lstm", 1, 4096, file);
  hc.tags = 1 + 2 * static_cast<int>(impl->types.size());
  impl->options.window = int_field(j, "window", 8, 1 << 16, file);
  impl->options.margin = int_field(j, "margin", 0, 1 << 16, file);
  impl->encoder_fingerprint = j.value("encoder_fingerprint", "");

  open_tagger_encoder(*impl, dir, encoder, options);
  KeepGlobalGenerator keep;
  impl->head = TaggerHead(hc);
  StateDict sd = read_state_dict(weights.string());
  torch::NoGradGuard no_grad;
  for (auto& p : impl->head->named_parameters()) {
    auto it = sd.find(p.key());
    if (it == sd.end()) throw FormatError(weights.string() + ": missing tensor '" + p.key() + "'");
    if (it->second.sizes() != p.value().sizes())
      throw FormatError(weights.string() + ": tensor '" + p.key() + "' has shape " + c10::str(it->second.sizes()) + ", expected " +
                        c10::str(p.value().sizes()));
    p.value().copy_(it->second);
    sd.erase(it);
  }
  if (!sd.empty()) throw FormatError(weights.string() + ": unexpected tensor '" + sd.begin()->first + "'");
  impl->head->eval();
  impl->head->to(impl->device());
  return Tagger(std::move(impl));
}

namespace train {
Tagger TaggerTrainee::fresh(const std::string& encoder, const std::vector<std::string>& types, TaggerHeadConfig head,
                            const TaggerOptions& options, const LoadOptions& load, uint64_t seed) {
  auto impl = std::make_unique<Tagger::Impl>();
  impl->types = types;
  impl->options = options;
  open_tagger_encoder(*impl, "the new tagger", encoder, load);  // (no fingerprint to check yet)
  head.states = impl->encoder->config().num_hidden_layers + 1;
  head.hidden = impl->encoder->config().hidden_size;
  head.tags = 1 + 2 * static_cast<int>(types.size());
  impl->head_config = head;
  impl->encoder_fingerprint = impl->encoder->fingerprint();
  {
    KeepGlobalGenerator keep;
    torch::manual_seed(seed);
    impl->head = TaggerHead(head);
  }
  impl->head->to(impl->device());
  return Tagger(std::move(impl));
}
}  // namespace train

void Tagger::save(const std::string& dir, const std::string& info_json) const {
  const fs::path out(dir), tmp = dir + ".tmp";
  if (fs::exists(out) && !fs::is_regular_file(out / "tagger.json"))
    throw InvalidArgument(dir + " exists and is not a tagger folder; it is left as it is (choose another output)");
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  StateDict sd;
  for (const auto& p : impl_->head->named_parameters()) sd[p.key()] = p.value().detach().to(torch::kCPU).contiguous();
  write_safetensors((tmp / "head.safetensors").string(), sd, {{"format", "pt"}, {"producer", "ner4el"}});
  const auto& hc = impl_->head_config;
  nlohmann::json j = {{"format", "ner4el-tagger"},
                      {"format_version", kTaggerFormatVersion},
                      {"scheme", "BIO"},
                      {"types", impl_->types},
                      {"tags", tag_names(impl_->types)},
                      {"window", impl_->options.window},
                      {"margin", impl_->options.margin},
                      {"encoder_fingerprint", impl_->encoder->fingerprint()},
                      {"head", {{"states", hc.states}, {"hidden", hc.hidden}, {"shape_dim", hc.shape_dim}, {"lstm", hc.lstm}}},
                      {"training", parse_json(info_json, "training info")}};
  std::ofstream(tmp / "tagger.json") << j.dump(2) << "\n";
  replace_dir(tmp.string(), out.string());
}

std::vector<TextSpan> Tagger::tag(std::string_view text) const { return tag(std::vector<std::string>{std::string(text)})[0]; }

std::vector<TextSpan> spans_of(std::string_view text, const TaggedText& t, const std::vector<int>& tags,
                               const std::vector<float>& prob, const std::vector<std::string>& types) {
  std::vector<TextSpan> spans;
  size_t count = 0;
  auto close = [&] {
    if (count == 0) return;
    auto& s = spans.back();
    s.detection_score /= static_cast<double>(count);
    s.mention = std::string(text.substr(s.byte_start, s.byte_end - s.byte_start));
    count = 0;
  };
  for (size_t i = 0; i < tags.size(); ++i) {
    const int tag = tags[i];
    if (tag == 0 || tag % 2 == 1) close();
    if (tag == 0) continue;
    const Word& w = t.words[i];
    if (tag % 2 == 1) {
      TextSpan s;
      s.start = w.start;
      s.byte_start = w.byte_start;
      s.type = types[static_cast<size_t>((tag - 1) / 2)];
      s.detection_score = 0;
      spans.push_back(std::move(s));
    }
    auto& s = spans.back();
    s.end = w.end;
    s.byte_end = w.byte_end;
    s.detection_score += prob[i];
    ++count;
  }
  close();
  return spans;
}

void decode_window(const float* lp, size_t n, int tags, std::vector<int>& path, std::vector<float>& prob) {
  if (n == 0) return;
  const auto decoded = viterbi(lp, n, tags, path.empty() ? 0 : path.back());
  for (size_t i = 0; i < n; ++i) {
    path.push_back(decoded[i]);
    prob.push_back(std::exp(lp[i * static_cast<size_t>(tags) + static_cast<size_t>(decoded[i])]));
  }
}

std::vector<std::vector<TextSpan>> Tagger::tag(const std::vector<std::string>& texts_in) const {
  c10::InferenceMode guard;
  const Impl& m = *impl_;
  const auto& tok = m.encoder->tokenizer();
  const int cap = std::min(kMaxWordPieces, (m.options.window - 2) / 2);
  std::vector<std::string> texts;
  for (const auto& t : texts_in) texts.push_back(valid_utf8(t));
  std::vector<TaggedText> prepared;
  struct Job {
    size_t text;
    TaggerWindow window;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < texts.size(); ++i) {
    prepared.push_back(prepare_text(texts[i], tok, cap));
    for (const auto& w : plan_windows(prepared.back().pieces, m.options.window, m.options.margin)) jobs.push_back({i, w});
  }
  const int tags = m.head_config.tags;
  std::vector<std::vector<int>> tag_of(texts.size());
  std::vector<std::vector<float>> prob_of(texts.size());
  const size_t step = static_cast<size_t>(m.options.batch);
  for (size_t b = 0; b < jobs.size(); b += step) {
    const size_t e = std::min(jobs.size(), b + step);
    std::vector<const TaggedText*> tt;
    std::vector<TaggerWindow> ww;
    for (size_t k = b; k < e; ++k) tt.push_back(&prepared[jobs[k].text]), ww.push_back(jobs[k].window);
    auto [states, counts] = encode_windows(m.bert(), m.device(), tt, ww, m.cls, m.sep);
    std::vector<int64_t> shape_rows(static_cast<size_t>(states.size(0) * states.size(1)), 0);
    for (size_t k = 0; k < ww.size(); ++k)
      for (size_t w = ww[k].first; w < ww[k].last; ++w)
        shape_rows[k * static_cast<size_t>(states.size(1)) + (w - ww[k].first)] = tt[k]->shapes[w];
    auto shapes = torch::from_blob(shape_rows.data(), {states.size(0), states.size(1)}, torch::kLong).clone().to(m.device());
    auto logp = torch::log_softmax(m.head.ptr()->forward(states, shapes, counts), -1).to(torch::kCPU, torch::kFloat32).contiguous();
    for (size_t k = 0; k < ww.size(); ++k) {
      const auto& w = ww[k];
      const size_t text = jobs[b + k].text;
      const float* lp = logp[static_cast<int64_t>(k)][static_cast<int64_t>(w.own_first - w.first)].data_ptr<float>();
      decode_window(lp, w.own_last - w.own_first, tags, tag_of[text], prob_of[text]);
    }
  }
  std::vector<std::vector<TextSpan>> out;
  for (size_t i = 0; i < texts.size(); ++i) out.push_back(spans_of(texts[i], prepared[i], tag_of[i], prob_of[i], m.types));
  return out;
}

}  // namespace ner4el
