// Training loops of the bi-encoder and the NER classifier.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/stat.h>

#include <thread>

#include "model/trainee.h"
#include "ner4el/candidates.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/linker.h"
#include "ner4el/runtime.h"
#include "ner4el/torch/bert.h"
#include "ner4el/train.h"
#include "train/collective.h"
#include "train/shards.h"

namespace ner4el {

namespace fs = std::filesystem;

namespace {

constexpr int kCacheVersion = 2;  // 2: shards of candidate ids (train/shards.h); 1 was one CBOR file

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

uint64_t count_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
    n += static_cast<uint64_t>(std::count(buf.data(), buf.data() + in.gcount(), '\n'));
  return n + 1;
}

/// The processed training set (the release's "processed" cache): candidates with their negatives
/// and the mention's input, as shards on disk under a key of everything they depend on. Made in one
/// streaming pass by the first process; the others wait for it (output_dir is shared, as for the
/// checkpoints). Memory stays flat whatever the number of mentions.
train::ShardedSet prepare(const TrainConfig& c, const KnowledgeBase& kb, const InputEncoder& enc, bool leader,
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
  const std::string dir = (fs::path(c.output_dir) / (std::string("processed-") + key)).string();
  if (auto set = train::ShardedSet::open(dir, key)) {
    log_line(cb, "using the processed training data in " + dir);
    return std::move(*set);
  }
  if (!leader) {  // the first process writes it
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      if (auto set = train::ShardedSet::open(dir, key)) return std::move(*set);
    }
  }
  const uint64_t lines = count_lines(c.train_data);
  train::ShardWriter writer(dir, key, lines, c.seed);
  CandidateGenerator gen(kb, {.k = c.k, .quirks = c.quirks});
  std::mt19937_64 rng(c.seed);
  const NegativeSampling mode = c.ner_ns ? NegativeSampling::NerNs
                                         : c.random_negatives ? NegativeSampling::Random : NegativeSampling::None;
  std::optional<CandidateGenerator::ReleaseNerNsPool> release_pool;
  if (mode == NegativeSampling::NerNs && c.quirks.ner_ns_pool) release_pool.emplace(kb);
  uint64_t dropped = 0, seen = 0;
  for_each_mention(c.train_data, {.require_output = true}, [&](Mention&& m, size_t line) {
    ++seen;
    if (cb.progress && (seen % 256 == 0)) cb.progress("preparing", std::min<uint64_t>(line, lines), lines);
    auto set = gen.candidates(m.mention);
    auto gold = kb.id_of_title(*m.output, c.quirks.title_last_wins);
    // A repeated id (duplicate-ids): the release's target is its last occurrence.
    auto pos = gold ? ner4el::gold_index(set.ids, *gold, c.quirks.duplicate_ids) : std::nullopt;
    if (set.ids.empty() || !pos) {  // training drops these (SPEC)
      ++dropped;
      return;
    }
    auto brief = kb.brief(*gold);
    if (release_pool) release_pool->add_negatives(set.ids, brief ? brief->class_index : -1, c.k, rng);
    else gen.add_negatives(set.ids, mode, brief ? brief->class_index : -1, rng);
    auto mi = enc.encode_mention(m.left_context, m.mention, m.right_context);
    trim_padding(mi);
    train::ShardExample ex;
    ex.mention_ids.assign(mi.ids.begin(), mi.ids.end());
    ex.mention_position = mi.mention_position;
    ex.candidates.assign(set.ids.begin(), set.ids.end());
    ex.gold = static_cast<int32_t>(*pos);
    writer.add(ex);
  });
  if (cb.progress) cb.progress("preparing", lines, lines);
  writer.finish(dropped);
  auto set = train::ShardedSet::open(dir, key);
  if (!set) throw Error(dir + ": the processed training data just written cannot be read back");
  log_line(cb, "processed training data: " + std::to_string(set->size()) + " examples in " + std::to_string(set->shards()) +
                   " shard(s) in " + dir);
  return std::move(*set);
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
  lo.device = c.device;
  const bool resuming = c.resume && fs::exists(last / "trainer_state.json");
  train::LinkerTrainee trainee(resuming ? (last / "model").string() : c.encoder, lo, c.precision);
  std::vector<torch::Tensor> params = trainee.parameters();
  torch::optim::Adam opt(params, torch::optim::AdamOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.adam_eps).weight_decay(c.weight_decay));
  State st;
  st.t_i = c.restart_t0;
  if (resuming) {
    std::ifstream in(last / "trainer_state.json");
    st = State::from_json(nlohmann::json::parse(in));
    torch::load(opt, (last / "optimizer.pt").string(), trainee.device());
    report.resumed = true;
    log_line(cb, "resuming after epoch " + std::to_string(st.epoch) + " from " + last.string());
  }
  if (leader) std::ofstream(out / "config.yaml") << c.to_yaml();
  const InputEncoder& enc = trainee.inputs();
  const train::ShardedSet examples = prepare(c, kb, enc, leader, cb);
  report.train_mentions = examples.size();
  report.dropped = examples.dropped();
  if (examples.size() == 0) throw InvalidArgument(c.train_data + ": no training mention has its gold entity among its candidates");
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
  const int64_t vocab = static_cast<int64_t>(enc.tokenizer().size());
  // One example's candidates as encoder inputs, read from the KB (not stored in the shards).
  auto candidate_rows = [&](const train::ShardExample& ex, uint32_t shard, uint64_t record) {
    for (int32_t t : ex.mention_ids)
      if (t < 0 || t >= vocab)
        throw FormatError("processed training data, shard " + std::to_string(shard) + " record " + std::to_string(record) +
                          ": token id " + std::to_string(t) + " outside the vocabulary of " + std::to_string(vocab));
    std::vector<std::vector<int>> rows;
    rows.reserve(ex.candidates.size());
    for (int64_t id : ex.candidates) {
      auto e = kb.entity(id);
      if (!e)
        throw FormatError("processed training data, shard " + std::to_string(shard) + " record " + std::to_string(record) +
                          ": entity id " + std::to_string(id) + " is not in " + c.kb);
      auto in = enc.encode_entity(e->description, e->ner_class);
      trim_padding(in);
      rows.push_back(std::move(in.ids));
    }
    return rows;
  };
  auto steps_left = [&] { return c.max_steps == 0 || static_cast<uint64_t>(st.steps) < c.max_steps; };
  while (st.epoch < c.epochs && st.bad_epochs < c.patience && steps_left()) {
    const int epoch = st.epoch + 1;
    const auto t0 = std::chrono::steady_clock::now();
    // Everything random derives from (seed, epoch, position): a resumed run repeats an epoch
    // exactly, and so does a run over any number of processes. The order streams through the
    // shards a group at a time (ShardedSet::epoch_order).
    auto order = examples.epoch_order(c.seed, epoch);
    trainee.set_training(true);
    double loss_sum = 0;
    size_t losses = 0;
    const size_t window = static_cast<size_t>(c.accumulation), world = static_cast<size_t>(comm->world());
    std::vector<std::pair<uint32_t, uint64_t>> win;
    for (size_t start = 0; steps_left(); start += window) {
      win.clear();
      for (uint32_t shard; win.size() < window;) {
        uint64_t record;
        if (!order.next(shard, record)) break;
        win.emplace_back(shard, record);
      }
      if (win.empty()) break;
      double used = 0;
      for (size_t i = static_cast<size_t>(comm->rank()); i < win.size(); i += world) {
        const size_t n = start + i;
        trainee.seed_dropout(c.seed * 1000003 + static_cast<uint64_t>(epoch) * 7777777 + n);
        const train::ShardExample ex = examples.read(win[i].first, win[i].second);
        auto scores = trainee.scores(ex.mention_ids, ex.mention_position, candidate_rows(ex, win[i].first, win[i].second));
        if (torch::isnan(scores).any().item<bool>()) continue;  // one candidate (or all equal): skipped, as the release
        auto loss = torch::nn::functional::cross_entropy(scores, torch::tensor({ex.gold}, torch::kLong).to(trainee.device()));
        (loss / c.accumulation).backward();
        loss_sum += loss.item<double>();
        ++losses;
        ++used;
      }
      // A window's gradients summed over the processes; a window nobody used makes no step. The
      // epoch's last window may be partial, as in Lightning. Gloo reduces CPU tensors.
      if (world > 1) {
        std::vector<torch::Tensor> flat{torch::tensor({static_cast<float>(used)})};
        for (auto& p : params) flat.push_back(p.grad().defined() ? p.grad().reshape(-1).to(torch::kCPU) : torch::zeros({p.numel()}));
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
      if (cb.progress) cb.progress("epoch " + std::to_string(epoch), start + win.size(), examples.size());
    }
    if (world > 1) {  // the epoch's mean loss over every process
      auto l = torch::tensor({loss_sum, static_cast<double>(losses)}, torch::kFloat64);
      comm->all_reduce_sum(l);
      loss_sum = l[0].item<double>();
      losses = static_cast<size_t>(l[1].item<double>());
    }
    // Dev accuracy with the current weights.
    trainee.set_training(false);
    LinkOptions eval_options;
    eval_options.k = c.k;
    eval_options.quirks = c.quirks;
    BiEncoderLinker linker(kb, trainee.model(), eval_options);
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
      trainee.model().save((tmp / "model").string());
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
  lo.device = c.device;
  train::NerTrainee trainee(c.encoder, lo, classes, c.window, c.seed);
  const InputEncoder& enc = trainee.inputs();
  // Labels: the class of each mention's gold entity.
  auto label = [&](const std::vector<Mention>& ms, std::vector<MentionInput>& in, std::vector<int64_t>& y, size_t& dropped) {
    for (const auto& m : ms) {
      auto gold = kb.id_of_title(*m.output);
      auto b = gold ? kb.brief(*gold) : std::nullopt;
      if (!b || b->class_index < 0) {
        ++dropped;
        continue;
      }
      in.push_back(enc.encode_mention(m.left_context, m.mention, m.right_context));
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
  torch::optim::Adam opt(trainee.parameters(), torch::optim::AdamOptions(c.lr));
  double best = -1;
  for (int epoch = 1; epoch <= c.epochs; ++epoch) {
    trainee.seed_dropout(c.seed * 1000003 + static_cast<uint64_t>(epoch));
    std::vector<size_t> order(tr_in.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(c.seed * 7919 + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    trainee.set_training(true);
    for (size_t b = 0; b < order.size(); b += c.batch_size) {
      std::vector<std::vector<int>> rows;
      std::vector<int64_t> pos, y;
      for (size_t i = b; i < std::min(order.size(), b + c.batch_size); ++i) {
        rows.push_back(tr_in[order[i]].ids);
        pos.push_back(tr_in[order[i]].mention_position);
        y.push_back(tr_y[order[i]]);
      }
      auto loss = torch::nn::functional::cross_entropy(trainee.logits(rows, pos), torch::tensor(y, torch::kLong).to(trainee.device()));
      opt.zero_grad();
      loss.backward();
      opt.step();
      if (cb.progress) cb.progress("epoch " + std::to_string(epoch), std::min(order.size(), b + c.batch_size), order.size());
    }
    trainee.set_training(false);
    size_t correct = 0;
    auto probs = trainee.classifier().predict(dv_in);
    for (size_t i = 0; i < probs.size(); ++i)
      correct += static_cast<int64_t>(std::max_element(probs[i].begin(), probs[i].end()) - probs[i].begin()) == dv_y[i];
    const double acc = dv_in.empty() ? 0 : static_cast<double>(correct) / dv_in.size();
    rep.dev_accuracy.push_back(acc);
    log_line(cb, "epoch " + std::to_string(epoch) + ": dev class accuracy " + std::to_string(100 * acc) + "%");
    if (acc > best) {
      best = acc;
      rep.best_checkpoint = (fs::path(c.output_dir) / "best").string();
      trainee.classifier().save(rep.best_checkpoint);
    }
  }
  return rep;
}

}  // namespace ner4el
