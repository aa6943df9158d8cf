// Training loops of the bi-encoder and the NER classifier.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/stat.h>

#include "model/model_impl.h"
#include "ner4el/candidates.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/linker.h"
#include "ner4el/runtime.h"
#include "ner4el/torch/bert.h"
#include "ner4el/train.h"
#include "train/collective.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {

constexpr int kCacheVersion = 1;

struct Example {
  std::vector<int> mention_ids;
  int mention_position = 0;
  std::vector<std::vector<int>> entity_ids;  // trailing padding trimmed
  int gold = 0;
};

uint64_t fnv(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string file_key(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw NotFound("cannot open " + path);
  return path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec);
}

void log_line(const TrainCallbacks& cb, const std::string& s) {
  if (cb.log) cb.log(s);
}

/// Candidates + negatives + encoder inputs of the training set, cached on disk under a key of
/// everything they depend on (the release's "processed" cache).
std::vector<Example> prepare(const TrainConfig& c, const KnowledgeBase& kb, const InputEncoder& enc, size_t& dropped, bool write_cache,
                             const TrainCallbacks& cb) {
  uint64_t h = 1469598103934665603ull;
  for (const std::string& part :
       {file_key(c.train_data), c.kb + ":" + std::to_string(kb.info().entities) + ":" + std::to_string(kb.info().aliases),
        std::to_string(c.k), std::to_string(c.window), std::to_string(c.ner_r), std::to_string(c.ner_ns),
        std::to_string(c.random_negatives), std::to_string(c.seed), std::to_string(enc.tokenizer().size()),
        [&] { std::string q; for (const auto& n : c.quirks.enabled()) q += n + ","; return q; }(),
        std::to_string(kCacheVersion)})
    h = fnv(h, part + "|");
  char key[17];
  std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(h));
  const fs::path cache = fs::path(c.output_dir) / (std::string("processed-") + key + ".cbor");
  if (fs::exists(cache)) {
    std::ifstream in(cache, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      auto j = nlohmann::json::from_cbor(bytes);
      std::vector<Example> out;
      for (const auto& e : j["examples"])
        out.push_back({e[0].get<std::vector<int>>(), e[1].get<int>(), e[2].get<std::vector<std::vector<int>>>(), e[3].get<int>()});
      dropped = j["dropped"].get<size_t>();
      log_line(cb, "using the processed training data in " + cache.string());
      return out;
    } catch (const nlohmann::json::exception&) {
      log_line(cb, "ignoring the unreadable cache " + cache.string());
    }
  }
  auto mentions = read_mentions(c.train_data, {.require_output = true});
  CandidateGenerator gen(kb, {.k = c.k, .quirks = c.quirks});
  std::mt19937_64 rng(c.seed);
  const NegativeSampling mode = c.ner_ns ? NegativeSampling::NerNs
                                         : c.random_negatives ? NegativeSampling::Random : NegativeSampling::None;
  std::optional<CandidateGenerator::ReleaseNerNsPool> release_pool;
  if (mode == NegativeSampling::NerNs && c.quirks.ner_ns_pool) release_pool.emplace(kb);
  std::vector<Example> out;
  dropped = 0;
  for (size_t i = 0; i < mentions.size(); ++i) {
    const auto& m = mentions[i];
    auto set = gen.candidates(m.mention);
    auto gold = kb.id_of_title(*m.output, c.quirks.title_last_wins);
    // A repeated id (duplicate-ids): the release's target is its last occurrence.
    auto pos = gold ? ner4el::gold_index(set.ids, *gold, c.quirks.duplicate_ids) : std::nullopt;
    if (set.ids.empty() || !pos) {  // training drops these (SPEC)
      ++dropped;
      continue;
    }
    const int gold_index = static_cast<int>(*pos);
    auto brief = kb.brief(*gold);
    if (release_pool) release_pool->add_negatives(set.ids, brief ? brief->class_index : -1, c.k, rng);
    else gen.add_negatives(set.ids, mode, brief ? brief->class_index : -1, rng);
    Example ex;
    auto mi = enc.encode_mention(m.left_context, m.mention, m.right_context);
    trim_padding(mi);
    ex.mention_ids = std::move(mi.ids);
    ex.mention_position = mi.mention_position;
    for (int64_t id : set.ids) {
      auto e = kb.entity(id);
      auto in = enc.encode_entity(e->description, e->ner_class);
      trim_padding(in);
      ex.entity_ids.push_back(in.ids);
    }
    ex.gold = gold_index;
    out.push_back(std::move(ex));
    if (cb.progress && (i % 64 == 0 || i + 1 == mentions.size())) cb.progress("preparing", i + 1, mentions.size());
  }
  if (!write_cache) return out;  // another process of the run writes it
  nlohmann::json j{{"version", kCacheVersion}, {"dropped", dropped}, {"examples", nlohmann::json::array()}};
  for (const auto& e : out) j["examples"].push_back({e.mention_ids, e.mention_position, e.entity_ids, e.gold});
  const fs::path tmp = cache.string() + ".tmp";
  {
    std::ofstream o(tmp, std::ios::binary);
    auto bytes = nlohmann::json::to_cbor(j);
    o.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  fs::rename(tmp, cache);
  return out;
}

std::pair<torch::Tensor, torch::Tensor> pad(const std::vector<std::vector<int>>& rows) {
  size_t T = 1;
  for (const auto& r : rows) T = std::max(T, r.size());
  auto ids = torch::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(T)}, torch::kLong);
  auto a = ids.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t t = 0; t < rows[i].size(); ++t) a[i][t] = rows[i][t];
  return {ids, (ids != 0).to(torch::kLong)};
}

struct State {
  int epoch = 0;  // epochs finished
  int64_t steps = 0;
  int64_t t_cur = 0, t_i = 0;  // cosine warm restarts
  int bad_epochs = 0;
  std::vector<std::pair<double, int>> best;  // (dev accuracy, epoch), best first
  std::vector<EpochLog> history;

  nlohmann::json to_json() const {
    nlohmann::json h = nlohmann::json::array();
    for (const auto& e : history) h.push_back({e.epoch, e.steps, e.loss, e.dev_accuracy, e.seconds});
    return {{"epoch", epoch}, {"steps", steps}, {"t_cur", t_cur}, {"t_i", t_i}, {"bad_epochs", bad_epochs},
            {"best", best}, {"history", h}};
  }
  static State from_json(const nlohmann::json& j) {
    State s;
    s.epoch = j["epoch"];
    s.steps = j["steps"];
    s.t_cur = j["t_cur"];
    s.t_i = j["t_i"];
    s.bad_epochs = j["bad_epochs"];
    s.best = j["best"].get<std::vector<std::pair<double, int>>>();
    for (const auto& e : j["history"]) s.history.push_back({e[0], e[1], e[2], e[3], e[4]});
    return s;
  }
};

}  // namespace

TrainReport train_linker(const TrainConfig& c, const TrainCallbacks& all_cb) {
  if (c.kb.empty() || c.train_data.empty() || c.dev_data.empty() || c.encoder.empty())
    throw InvalidArgument("training needs encoder, kb, train_data and dev_data");
  configure_threads(c.threads);
  // Data-parallel over the processes of torchrun's environment (train/collective.h): each takes
  // every world-th example of each accumulation window, gradients are summed across them before
  // each optimiser step, so the weights equal one process's with the same windows. The first
  // process (rank 0) alone writes checkpoints, logs and the processed-data cache.
  auto comm = train::join_world();
  const bool leader = comm->leader();
  const TrainCallbacks cb = leader ? all_cb : TrainCallbacks{};
  fs::create_directories(c.output_dir);
  const fs::path out(c.output_dir), last = out / "last", last_old = out / "last.old";
  if (leader && !fs::exists(last) && fs::exists(last_old)) fs::rename(last_old, last);  // a kill between two renames
  comm->barrier();
  TrainReport report;
  auto kb = KnowledgeBase::open(c.kb);
  LoadOptions lo;
  lo.vocab = c.vocab;
  lo.window = c.window;
  lo.ner_r = c.ner_r;
  lo.style = "release";  // NER4EL's training reads the mention position and [CLS], whatever the start
  const bool resuming = c.resume && fs::exists(last / "trainer_state.json");
  LinkerModel model = LinkerModel::load(resuming ? (last / "model").string() : c.encoder, lo);
  auto& impl = model.impl();
  std::vector<torch::Tensor> params = impl.mention->parameters();
  if (impl.entity.get() != impl.mention.get())
    for (auto& p : impl.entity->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.adam_eps).weight_decay(c.weight_decay));
  State st;
  st.t_i = c.restart_t0;
  if (resuming) {
    std::ifstream in(last / "trainer_state.json");
    st = State::from_json(nlohmann::json::parse(in));
    torch::load(opt, (last / "optimizer.pt").string());
    report.resumed = true;
    log_line(cb, "resuming after epoch " + std::to_string(st.epoch) + " from " + last.string());
  }
  if (leader) std::ofstream(out / "config.yaml") << c.to_yaml();
  auto examples = prepare(c, kb, model.input_encoder(), report.dropped, leader, cb);
  report.train_mentions = examples.size();
  if (examples.empty()) throw InvalidArgument(c.train_data + ": no training mention has its gold entity among its candidates");
  auto dev = read_mentions(c.dev_data, {.require_output = true});
  // The metrics log is appended to; a line torn by a kill is cut off first.
  if (const fs::path m = out / "metrics.jsonl"; leader && fs::exists(m)) {
    std::string text;
    {
      std::ifstream in(m, std::ios::binary);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (!text.empty() && text.back() != '\n') fs::resize_file(m, text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  }
  std::ofstream metrics;
  if (leader) metrics.open(out / "metrics.jsonl", std::ios::app);
  auto set_lr = [&](double lr) {
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
  };
  auto optimiser_step = [&] {
    opt.step();
    opt.zero_grad();
    ++st.steps;
    if (c.cosine_restarts) {  // SGDR: lr follows a cosine from lr to 0 over T_i steps, then restarts
      if (++st.t_cur >= st.t_i) {
        st.t_cur = 0;
        st.t_i *= c.restart_t_mult;
      }
      set_lr(c.lr * 0.5 * (1 + std::cos(M_PI * static_cast<double>(st.t_cur) / static_cast<double>(st.t_i))));
    }
  };
  if (c.cosine_restarts)
    set_lr(c.lr * 0.5 * (1 + std::cos(M_PI * static_cast<double>(st.t_cur) / static_cast<double>(st.t_i))));
  while (st.epoch < c.epochs && st.bad_epochs < c.patience) {
    const int epoch = st.epoch + 1;
    const auto t0 = std::chrono::steady_clock::now();
    // Everything random derives from (seed, epoch, example): a resumed run repeats an epoch
    // exactly, and so does a run over any number of processes.
    std::vector<size_t> order(examples.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle_rng(c.seed * 7919 + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    impl.mention->train();
    impl.entity->train();
    double loss_sum = 0;
    size_t losses = 0;
    const size_t window = static_cast<size_t>(c.accumulation), world = static_cast<size_t>(comm->world());
    for (size_t start = 0; start < order.size(); start += window) {
      const size_t end = std::min(order.size(), start + window);
      double used = 0;
      for (size_t n = start + static_cast<size_t>(comm->rank()); n < end; n += world) {
        torch::manual_seed(c.seed * 1000003 + static_cast<uint64_t>(epoch) * 7777777 + n);
        const Example& ex = examples[order[n]];
        auto [mids, mmask] = pad({ex.mention_ids});
        auto mv = mention_vectors(impl.mention->forward(mids, mmask), torch::tensor({ex.mention_position}, torch::kLong));
        auto [eids, emask] = pad(ex.entity_ids);
        auto ev = entity_vectors(impl.entity->forward(eids, emask));
        auto scores = normalised_scores(mv, ev.unsqueeze(0));
        if (torch::isnan(scores).any().item<bool>()) continue;  // one candidate (or all equal): skipped, as the release
        auto loss = torch::nn::functional::cross_entropy(scores, torch::tensor({ex.gold}, torch::kLong));
        (loss / c.accumulation).backward();
        loss_sum += loss.item<double>();
        ++losses;
        ++used;
      }
      // A window's gradients summed over the processes; a window nobody used makes no step. The
      // epoch's last window may be partial, as in Lightning.
      if (world > 1) {
        std::vector<torch::Tensor> flat{torch::tensor({static_cast<float>(used)})};
        for (auto& p : params) flat.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}));
        auto all = torch::cat(flat);
        comm->all_reduce_sum(all);
        used = all[0].item<double>();
        int64_t at = 1;
        for (auto& p : params) {
          if (used > 0) {
            if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
            p.mutable_grad().copy_(all.slice(0, at, at + p.numel()).view_as(p));
          }
          at += p.numel();
        }
      }
      if (used > 0) optimiser_step();
      else opt.zero_grad();
      if (cb.progress) cb.progress("epoch " + std::to_string(epoch), end, order.size());
    }
    if (world > 1) {  // the epoch's mean loss over every process
      auto l = torch::tensor({loss_sum, static_cast<double>(losses)}, torch::kFloat64);
      comm->all_reduce_sum(l);
      loss_sum = l[0].item<double>();
      losses = static_cast<size_t>(l[1].item<double>());
    }
    // Dev accuracy with the current weights.
    impl.mention->eval();
    impl.entity->eval();
    LinkOptions eval_options;
    eval_options.k = c.k;
    eval_options.quirks = c.quirks;
    BiEncoderLinker linker(kb, model, eval_options);
    auto counts = evaluate(linker, kb, dev, 64, {}, c.quirks.title_last_wins);
    EpochLog log{epoch, st.steps, losses ? loss_sum / losses : 0, counts.accuracy(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    st.history.push_back(log);
    st.epoch = epoch;
    const bool improved = st.best.empty() || log.dev_accuracy > st.best.front().first;
    st.bad_epochs = improved ? 0 : st.bad_epochs + 1;
    st.best.emplace_back(log.dev_accuracy, epoch);
    std::stable_sort(st.best.begin(), st.best.end(), [](auto& a, auto& b) { return a.first > b.first; });
    const bool keep = std::find(st.best.begin(), st.best.begin() + std::min<size_t>(st.best.size(), c.keep_best),
                                std::make_pair(log.dev_accuracy, epoch)) != st.best.begin() + std::min<size_t>(st.best.size(), c.keep_best);
    // Checkpoint: everything written beside and moved in by renames, so a kill at any point leaves
    // each output absent or whole: the epoch's copy (when it is among the best) first, then last/
    // swapped in with its final state; checkpoints that dropped out of the best go last.
    std::vector<int> dropped;
    while (st.best.size() > static_cast<size_t>(c.keep_best)) {
      dropped.push_back(st.best.back().second);
      st.best.pop_back();
    }
    if (leader) {
      const fs::path tmp = out / "last.tmp";
      fs::remove_all(tmp);
      fs::create_directories(tmp);
      model.save((tmp / "model").string());
      torch::save(opt, (tmp / "optimizer.pt").string());
      std::ofstream(tmp / "trainer_state.json") << st.to_json().dump(2);
      if (keep) {
        const fs::path kept = out / ("epoch-" + std::to_string(epoch)), kept_tmp = kept.string() + ".tmp";
        fs::remove_all(kept_tmp);
        fs::copy(tmp / "model", kept_tmp, fs::copy_options::recursive);
        fs::remove_all(kept);
        fs::rename(kept_tmp, kept);
      }
      if (fs::exists(last)) fs::rename(last, last_old);
      fs::rename(tmp, last);
      fs::remove_all(last_old);
      for (int e : dropped) fs::remove_all(out / ("epoch-" + std::to_string(e)));
      metrics << nlohmann::json{{"epoch", log.epoch}, {"step", log.steps}, {"loss", log.loss},
                                {"dev_accuracy", log.dev_accuracy}, {"time_s", log.seconds}}.dump() << "\n";
      metrics.flush();
    }
    comm->barrier();  // the others go on once the checkpoint is whole
    log_line(cb, "epoch " + std::to_string(epoch) + ": loss " + std::to_string(log.loss) + ", dev accuracy " +
                     std::to_string(100 * log.dev_accuracy) + "%, " + std::to_string(log.seconds) + " s");
  }
  report.epochs = st.history;
  report.early_stopped = st.bad_epochs >= c.patience && st.epoch < c.epochs;
  if (!st.best.empty()) {
    report.best_epoch = st.best.front().second;
    report.best_dev_accuracy = st.best.front().first;
    report.best_checkpoint = (out / ("epoch-" + std::to_string(report.best_epoch))).string();
  }
  return report;
}

TrainNerReport train_ner_classifier(const TrainNerConfig& c, const TrainCallbacks& cb) {
  configure_threads();
  fs::create_directories(c.output_dir);
  auto kb = KnowledgeBase::open(c.kb);
  std::vector<std::string> classes;
  for (const auto& cl : kb.info().classes) classes.push_back(cl.first);
  if (classes.empty()) throw InvalidArgument(c.kb + ": the knowledge base has no NER classes to learn");
  LoadOptions lo;
  lo.vocab = c.vocab;
  lo.window = c.window;
  lo.style = "release";
  auto base = LinkerModel::load(c.encoder, lo);
  auto impl = std::make_unique<NerClassifier::Impl>();
  impl->encoder = base.impl().mention;
  impl->tokenizer = std::move(base.impl().tokenizer);
  impl->inputs = std::move(base.impl().inputs);
  impl->config = impl->encoder->config;
  impl->classes = classes;
  impl->window = c.window;
  torch::manual_seed(c.seed);
  impl->linear = torch::nn::Linear(impl->config.hidden_size, static_cast<int64_t>(classes.size()));
  NerClassifier clf(std::move(impl));
  auto& im = clf.impl();
  // Labels: the class of each mention's gold entity.
  auto label = [&](const std::vector<Mention>& ms, std::vector<MentionInput>& in, std::vector<int64_t>& y, size_t& dropped) {
    for (const auto& m : ms) {
      auto gold = kb.id_of_title(*m.output);
      auto b = gold ? kb.brief(*gold) : std::nullopt;
      if (!b || b->class_index < 0) {
        ++dropped;
        continue;
      }
      in.push_back(im.inputs->encode_mention(m.left_context, m.mention, m.right_context));
      y.push_back(b->class_index);
    }
  };
  TrainNerReport rep;
  std::vector<MentionInput> tr_in, dv_in;
  std::vector<int64_t> tr_y, dv_y;
  size_t dev_dropped = 0;
  label(read_mentions(c.train_data, {.require_output = true}), tr_in, tr_y, rep.dropped);
  label(read_mentions(c.dev_data, {.require_output = true}), dv_in, dv_y, dev_dropped);
  rep.train_mentions = tr_in.size();
  if (tr_in.empty()) throw InvalidArgument(c.train_data + ": no training mention has a gold entity with a class");
  std::vector<torch::Tensor> params = im.encoder->parameters();
  params.push_back(im.linear->weight);
  params.push_back(im.linear->bias);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(c.lr));
  torch::nn::Dropout dropout(0.5);  // SPEC: dropout 0.5 before the linear layer
  double best = -1;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    torch::manual_seed(c.seed * 1000003 + static_cast<uint64_t>(epoch));
    std::vector<size_t> order(tr_in.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(c.seed * 7919 + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    im.encoder->train();
    dropout->train();
    for (size_t b = 0; b < order.size(); b += c.batch_size) {
      std::vector<std::vector<int>> rows;
      std::vector<int64_t> pos, y;
      for (size_t i = b; i < std::min(order.size(), b + c.batch_size); ++i) {
        rows.push_back(tr_in[order[i]].ids);
        pos.push_back(tr_in[order[i]].mention_position);
        y.push_back(tr_y[order[i]]);
      }
      auto [ids, mask] = pad(rows);
      auto mv = mention_vectors(im.encoder->forward(ids, mask), torch::tensor(pos, torch::kLong));
      auto loss = torch::nn::functional::cross_entropy(im.linear->forward(dropout->forward(mv)), torch::tensor(y, torch::kLong));
      opt.zero_grad();
      loss.backward();
      opt.step();
      if (cb.progress) cb.progress("epoch " + std::to_string(epoch), std::min(order.size(), b + c.batch_size), order.size());
    }
    im.encoder->eval();
    size_t correct = 0;
    auto probs = clf.predict(dv_in);
    for (size_t i = 0; i < probs.size(); ++i)
      correct += static_cast<int64_t>(std::max_element(probs[i].begin(), probs[i].end()) - probs[i].begin()) == dv_y[i];
    const double acc = dv_in.empty() ? 0 : static_cast<double>(correct) / dv_in.size();
    rep.dev_accuracy.push_back(acc);
    log_line(cb, "epoch " + std::to_string(epoch) + ": dev class accuracy " + std::to_string(100 * acc) + "%");
    if (acc > best) {
      best = acc;
      rep.best_checkpoint = (fs::path(c.output_dir) / "best").string();
      clf.save(rep.best_checkpoint);
    }
  }
  return rep;
}

}  // namespace ner4el
