// Training the NER tagger's head over a frozen encoder (train.h train_tagger).
#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <set>

#include "model/tagger_impl.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/runtime.h"
#include "ner4el/train.h"

namespace ner4el {

namespace {

/// One encoder window of a document, with what the head needs of it.
struct CachedWindow {
  size_t doc = 0;
  TaggerWindow window;
  torch::Tensor states;           ///< [words, S, H] fp16
  std::vector<int64_t> shapes;    ///< per word of the window
  std::vector<int64_t> labels;    ///< BIO tag per word of the window
};

struct CachedSet {
  std::vector<Document> docs;
  std::vector<TaggedText> texts;
  std::vector<CachedWindow> windows;
  size_t words = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// Reads a set, splits its words and encodes every window once.
CachedSet encode_set(const std::string& path, const char* stage, Tagger::Impl& m, const std::vector<std::string>& types,
                     const TrainCallbacks& cb) {
  CachedSet set;
  set.docs = read_documents(path);
  const int cap = std::min(100, (m.options.window - 2) / 2);
  std::vector<CachedWindow> pending;
  for (size_t d = 0; d < set.docs.size(); ++d) {
    set.texts.push_back(prepare_text(set.docs[d].text, m.encoder->tokenizer(), cap));
    const auto& t = set.texts.back();
    set.words += t.words.size();
    const auto labels = bio_labels(t.words, set.docs[d].ner_spans, types);
    for (const auto& w : plan_windows(t.pieces, m.options.window, m.options.margin)) {
      CachedWindow c;
      c.doc = d;
      c.window = w;
      c.shapes.assign(t.shapes.begin() + static_cast<std::ptrdiff_t>(w.first), t.shapes.begin() + static_cast<std::ptrdiff_t>(w.last));
      c.labels.assign(labels.begin() + static_cast<std::ptrdiff_t>(w.first), labels.begin() + static_cast<std::ptrdiff_t>(w.last));
      set.windows.push_back(std::move(c));
    }
  }
  c10::InferenceMode guard;
  const size_t step = static_cast<size_t>(m.options.batch);
  for (size_t b = 0; b < set.windows.size(); b += step) {
    const size_t e = std::min(set.windows.size(), b + step);
    std::vector<const TaggedText*> tt;
    std::vector<TaggerWindow> ww;
    for (size_t k = b; k < e; ++k) tt.push_back(&set.texts[set.windows[k].doc]), ww.push_back(set.windows[k].window);
    auto states = encode_windows(m.bert(), m.device(), tt, ww, m.cls, m.sep).first.to(torch::kCPU, torch::kHalf);
    for (size_t k = b; k < e; ++k) {
      const auto n = static_cast<int64_t>(set.windows[k].window.last - set.windows[k].window.first);
      set.windows[k].states = states[static_cast<int64_t>(k - b)].slice(0, 0, n).clone();
    }
    if (cb.progress) cb.progress(stage, e, set.windows.size());
  }
  return set;
}

/// A batch of cached windows as the head's inputs: states [B, T, S, H], shapes [B, T], lengths [B],
/// labels [B, T] (-100 beyond a window's words).
struct Batch {
  torch::Tensor states, shapes, lengths, labels;
};
Batch make_batch(const CachedSet& set, const std::vector<size_t>& rows, torch::Device device) {
  int64_t T = 1;
  for (size_t r : rows) T = std::max<int64_t>(T, set.windows[r].states.size(0));
  const auto& first = set.windows[rows[0]].states;
  const int64_t B = static_cast<int64_t>(rows.size()), S = first.size(1), H = first.size(2);
  Batch b;
  b.states = torch::zeros({B, T, S, H}, torch::kHalf);
  b.shapes = torch::zeros({B, T}, torch::kLong);
  b.labels = torch::full({B, T}, -100, torch::kLong);
  b.lengths = torch::zeros({B}, torch::kLong);
  auto sa = b.shapes.accessor<int64_t, 2>(), la = b.labels.accessor<int64_t, 2>();
  auto na = b.lengths.accessor<int64_t, 1>();
  for (int64_t i = 0; i < B; ++i) {
    const auto& w = set.windows[rows[static_cast<size_t>(i)]];
    const int64_t n = w.states.size(0);
    b.states[i].slice(0, 0, n).copy_(w.states);
    for (int64_t t = 0; t < n; ++t) {
      sa[i][t] = w.shapes[static_cast<size_t>(t)];
      la[i][t] = w.labels[static_cast<size_t>(t)];
    }
    na[i] = n;
  }
  b.states = b.states.to(device);
  b.shapes = b.shapes.to(device);
  b.labels = b.labels.to(device);
  return b;
}

/// Tags the dev set from its cached windows, as Tagger::tag does, and scores it.
NerScore evaluate_cached(const CachedSet& set, Tagger::Impl& m) {
  c10::InferenceMode guard;
  m.head->eval();
  const int tags = m.head_config.tags;
  std::vector<std::vector<int>> path(set.docs.size());
  std::vector<std::vector<float>> prob(set.docs.size());
  const size_t step = 32;
  for (size_t b = 0; b < set.windows.size(); b += step) {
    std::vector<size_t> rows(std::min(step, set.windows.size() - b));
    std::iota(rows.begin(), rows.end(), b);
    const Batch batch = make_batch(set, rows, m.device());
    auto logp = torch::log_softmax(m.head->forward(batch.states, batch.shapes, batch.lengths), -1)
                    .to(torch::kCPU, torch::kFloat32)
                    .contiguous();
    for (size_t k = 0; k < rows.size(); ++k) {
      const auto& w = set.windows[rows[k]];
      const float* lp = logp[static_cast<int64_t>(k)][static_cast<int64_t>(w.window.own_first - w.window.first)].data_ptr<float>();
      decode_window(lp, w.window.own_last - w.window.own_first, tags, path[w.doc], prob[w.doc]);
    }
  }
  NerScore score;
  for (size_t d = 0; d < set.docs.size(); ++d)
    score.add(set.docs[d].ner_spans, spans_of(set.docs[d].text, set.texts[d], path[d], prob[d], m.types));
  m.head->train();
  return score;
}

std::vector<std::string> types_of(const std::string& path) {
  std::set<std::string> types;
  for_each_document(path, [&](Document&& d, size_t) {
    for (const auto& s : d.ner_spans)
      if (!s.type.empty()) types.insert(s.type);
  });
  if (types.empty()) throw InvalidArgument(path + ": no NER span with a type (\"ner_spans\": [{\"start\", \"end\", \"type\"}])");
  if (types.size() > 64) throw InvalidArgument(path + ": more than 64 NER types");
  return {types.begin(), types.end()};
}

}  // namespace

TaggerTrainReport train_tagger(const TaggerTrainConfig& c, const TrainCallbacks& cb) {
  auto log = [&](const std::string& s) {
    if (cb.log) cb.log(s);
  };
  if (c.epochs < 1 || c.batch_size < 1 || c.patience < 1 || !(c.lr > 0) || c.dropout < 0 || c.dropout >= 1)
    throw InvalidArgument("train-tagger: epochs, batch size and patience must be at least 1, lr positive, dropout in [0, 1)");
  TaggerTrainReport report;
  report.types = types_of(c.train_data);
  TaggerHeadConfig head;
  head.lstm = c.lstm;
  head.shape_dim = c.shape_dim;
  head.dropout = c.dropout;
  TaggerOptions windows;
  windows.window = c.window;
  windows.margin = c.margin;
  LoadOptions load;
  load.device = c.device;
  Tagger tagger = train::TaggerTrainee::fresh(c.encoder, report.types, head, windows, load, c.seed);
  Tagger::Impl& m = train::TaggerTrainee::parts(tagger);
  torch::manual_seed(c.seed);

  const auto t0 = std::chrono::steady_clock::now();
  CachedSet train = encode_set(c.train_data, "encoding train", m, report.types, cb);
  CachedSet dev = encode_set(c.dev_data, "encoding dev", m, report.types, cb);
  report.encode_seconds = seconds_since(t0);
  report.train_documents = train.docs.size();
  report.train_words = train.words;
  report.dev_documents = dev.docs.size();
  log("encoded " + std::to_string(train.windows.size()) + " train windows (" + std::to_string(train.words) + " words) and " +
      std::to_string(dev.windows.size()) + " dev windows in " + std::to_string(static_cast<int>(report.encode_seconds)) + " s");

  // The head's operations are small: one thread runs them faster than a pool that wakes for each.
  // (OpenBLAS's pool too: configure_threads sets both.)
  const int encoder_threads = torch::get_num_threads();
  configure_threads(1, "fp32");
  struct RestoreThreads {
    int n;
    ~RestoreThreads() { configure_threads(n, "fp32"); }
  } restore{encoder_threads};
  torch::optim::Adam adam(m.head->parameters(), torch::optim::AdamOptions(c.lr));
  std::mt19937_64 rng(c.seed);
  m.head->train();
  int since_best = 0;
  for (int epoch = 1; epoch <= c.epochs && since_best < c.patience; ++epoch) {
    const auto te = std::chrono::steady_clock::now();
    std::vector<size_t> order(train.windows.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    size_t steps = 0;
    for (size_t b = 0; b < order.size(); b += static_cast<size_t>(c.batch_size)) {
      std::vector<size_t> rows(order.begin() + static_cast<std::ptrdiff_t>(b),
                               order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), b + static_cast<size_t>(c.batch_size))));
      const Batch batch = make_batch(train, rows, m.device());
      auto logits = m.head->forward(batch.states, batch.shapes, batch.lengths);
      auto loss = torch::nn::functional::cross_entropy(
          logits.reshape({-1, logits.size(-1)}), batch.labels.reshape({-1}),
          torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
      adam.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(m.head->parameters(), 5.0);
      adam.step();
      loss_sum += loss.item<double>();
      ++steps;
      if (cb.progress) cb.progress("epoch " + std::to_string(epoch), std::min(order.size(), b + rows.size()), order.size());
    }
    const NerScore score = evaluate_cached(dev, m);
    TaggerEpochLog e{epoch, loss_sum / static_cast<double>(std::max<size_t>(1, steps)), score.all.f1(), seconds_since(te)};
    report.epochs.push_back(e);
    char line[160];
    std::snprintf(line, sizeof line, "epoch %d: loss %.4f, dev F1 %.2f (P %.2f R %.2f), %.0f s", epoch, e.loss, 100 * e.dev_f1,
                  100 * score.all.precision(), 100 * score.all.recall(), e.seconds);
    log(line);
    if (e.dev_f1 > report.best_dev_f1) {
      report.best_dev_f1 = e.dev_f1;
      report.best_epoch = epoch;
      since_best = 0;
      nlohmann::json info = {{"command", c.info}, {"epoch", epoch}, {"dev_f1", e.dev_f1}, {"seed", c.seed},
                             {"train_data", c.train_data}, {"dev_data", c.dev_data}, {"lr", c.lr}, {"batch_size", c.batch_size}};
      tagger.save(c.output_dir, info.dump());
    } else {
      ++since_best;
    }
  }
  return report;
}

}  // namespace ner4el
