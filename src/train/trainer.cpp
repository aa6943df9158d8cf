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
#include "ner4el/files.h"
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
    auto set = gen.for_mention(m, 0, location(c.train_data, line));  // the alias table's, or those it brought
    auto gold = kb.id_of_title(*m.output, c.quirks.title_last_wins);
    // A repeated id (duplicate-ids): the release's target is its last occurrence.
    auto pos = gold ? ner4el::gold_index(set.ids, *gold, c.quirks.duplicate_ids) : std::nullopt;
    if (set.ids.empty() || !pos) {  // training drops these (docs/reference.md)
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

/// One run of train_linker, cut at its stages: set-up (data-parallel world, resume, prepared
/// data), each epoch's optimiser windows with their gradients summed across processes, the dev
/// evaluation, the checkpoint.
class LinkerRun {
 public:
  LinkerRun(const TrainConfig& c, const TrainCallbacks& all_cb);
  TrainReport run();

 private:
  void resume_state();
  void open_metrics();
  void set_lr(double lr);
  void optimiser_step();
  bool steps_left() const { return c_.max_steps == 0 || static_cast<uint64_t>(st_.steps) < c_.max_steps; }
  std::vector<std::vector<int>> candidate_rows(const train::ShardExample& ex, uint32_t shard, uint64_t record) const;
  /// One epoch's optimiser steps; returns (loss sum, losses) over every process.
  std::pair<double, size_t> train_epoch(int epoch);
  /// The window's gradients summed over the processes; returns the examples used by all of them.
  double sum_gradients(double used);
  /// Dev accuracy, best-of bookkeeping and the checkpoint of an epoch.
  EpochLog finish_epoch(int epoch, double loss_sum, size_t losses, std::chrono::steady_clock::time_point t0);
  void write_checkpoint(const EpochLog& log, bool keep, const std::vector<int>& dropped);

  const TrainConfig& c_;
  std::unique_ptr<train::Collective> comm_;
  bool leader_;
  TrainCallbacks cb_;
  fs::path out_, last_;
  TrainReport report_;
  std::optional<KnowledgeBase> kb_;
  std::optional<train::LinkerTrainee> trainee_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Adam> opt_;
  State st_;
  std::optional<train::ShardedSet> examples_;
  std::vector<Mention> dev_;
  std::ofstream metrics_;
};

LinkerRun::LinkerRun(const TrainConfig& c, const TrainCallbacks& all_cb) : c_(c) {
  if (c.kb.empty() || c.train_data.empty() || c.dev_data.empty() || c.encoder.empty())
    throw InvalidArgument("training needs encoder, kb, train_data and dev_data");
  configure_threads(c.threads);
  // Data-parallel over the processes of torchrun's environment (train/collective.h): each takes
  // every world-th example of each accumulation window, gradients are summed across them before
  // each optimiser step, so the weights equal one process's with the same windows. The first
  // process (rank 0) alone writes checkpoints, logs and the processed-data cache.
  comm_ = train::join_world();
  leader_ = comm_->leader();
  cb_ = leader_ ? all_cb : TrainCallbacks{};
  fs::create_directories(c.output_dir);
  out_ = c.output_dir;
  last_ = out_ / "last";
  const fs::path last_old = out_ / "last.old";
  if (leader_ && !fs::exists(last_) && fs::exists(last_old)) fs::rename(last_old, last_);  // a kill between two renames
  comm_->barrier();
  kb_.emplace(KnowledgeBase::open(c.kb));
  LoadOptions lo;
  lo.vocab = c.vocab;
  lo.window = c.window;
  lo.ner_r = c.ner_r;
  lo.device = c.device;
  const bool resuming = c.resume && fs::exists(last_ / "trainer_state.json");
  trainee_.emplace(resuming ? (last_ / "model").string() : c.encoder, lo, c.precision);
  params_ = trainee_->parameters();
  opt_ = std::make_unique<torch::optim::Adam>(
      params_, torch::optim::AdamOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.adam_eps).weight_decay(c.weight_decay));
  st_.t_i = c.restart_t0;
  if (resuming) resume_state();
  if (leader_) std::ofstream(out_ / "config.yaml") << c.to_yaml();
  examples_.emplace(prepare(c, *kb_, trainee_->inputs(), leader_, cb_));
  report_.train_mentions = examples_->size();
  report_.dropped = examples_->dropped();
  if (examples_->size() == 0) throw InvalidArgument(c.train_data + ": no training mention has its gold entity among its candidates");
  dev_ = read_mentions(c.dev_data, {.require_output = true});
  open_metrics();
  if (c.cosine_restarts)
    set_lr(c.lr * 0.5 * (1 + std::cos(M_PI * static_cast<double>(st_.t_cur) / static_cast<double>(st_.t_i))));
}

void LinkerRun::resume_state() {
  std::ifstream in(last_ / "trainer_state.json");
  st_ = State::from_json(nlohmann::json::parse(in));
  torch::load(*opt_, (last_ / "optimizer.pt").string(), trainee_->device());
  report_.resumed = true;
  log_line(cb_, "resuming after epoch " + std::to_string(st_.epoch) + " from " + last_.string());
}

void LinkerRun::open_metrics() {
  // The metrics log is appended to; a line torn by a kill is cut off first.
  if (const fs::path m = out_ / "metrics.jsonl"; leader_ && fs::exists(m)) {
    std::string text;
    {
      std::ifstream in(m, std::ios::binary);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (!text.empty() && text.back() != '\n') fs::resize_file(m, text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  }
  if (leader_) metrics_.open(out_ / "metrics.jsonl", std::ios::app);
}

void LinkerRun::set_lr(double lr) {
  for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

void LinkerRun::optimiser_step() {
  opt_->step();
  opt_->zero_grad();
  ++st_.steps;
  if (c_.cosine_restarts) {  // SGDR: lr follows a cosine from lr to 0 over T_i steps, then restarts
    if (++st_.t_cur >= st_.t_i) {
      st_.t_cur = 0;
      st_.t_i *= c_.restart_t_mult;
    }
    set_lr(c_.lr * 0.5 * (1 + std::cos(M_PI * static_cast<double>(st_.t_cur) / static_cast<double>(st_.t_i))));
  }
}

// One example's candidates as encoder inputs, read from the KB (not stored in the shards).
std::vector<std::vector<int>> LinkerRun::candidate_rows(const train::ShardExample& ex, uint32_t shard,
                                                        uint64_t record) const {
  const InputEncoder& enc = trainee_->inputs();
  const int64_t vocab = static_cast<int64_t>(enc.tokenizer().size());
  for (int32_t t : ex.mention_ids)
    if (t < 0 || t >= vocab)
      throw FormatError("processed training data, shard " + std::to_string(shard) + " record " + std::to_string(record) +
                        ": token id " + std::to_string(t) + " outside the vocabulary of " + std::to_string(vocab));
  std::vector<std::vector<int>> rows;
  rows.reserve(ex.candidates.size());
  for (int64_t id : ex.candidates) {
    auto e = kb_->entity(id);
    if (!e)
      throw FormatError("processed training data, shard " + std::to_string(shard) + " record " + std::to_string(record) +
                        ": entity id " + std::to_string(id) + " is not in " + c_.kb);
    auto in = enc.encode_entity(e->description, e->ner_class);
    trim_padding(in);
    rows.push_back(std::move(in.ids));
  }
  return rows;
}

std::pair<double, size_t> LinkerRun::train_epoch(int epoch) {
  // Everything random derives from (seed, epoch, position): a resumed run repeats an epoch
  // exactly, and so does a run over any number of processes. The order streams through the
  // shards a group at a time (ShardedSet::epoch_order).
  auto order = examples_->epoch_order(c_.seed, epoch);
  trainee_->set_training(true);
  double loss_sum = 0;
  size_t losses = 0;
  const size_t window = static_cast<size_t>(c_.accumulation), world = static_cast<size_t>(comm_->world());
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
    for (size_t i = static_cast<size_t>(comm_->rank()); i < win.size(); i += world) {
      const size_t n = start + i;
      trainee_->seed_dropout(c_.seed * 1000003 + static_cast<uint64_t>(epoch) * 7777777 + n);
      const train::ShardExample ex = examples_->read(win[i].first, win[i].second);
      auto scores = trainee_->scores(ex.mention_ids, ex.mention_position, candidate_rows(ex, win[i].first, win[i].second));
      if (torch::isnan(scores).any().item<bool>()) continue;  // one candidate (or all equal): skipped, as the release
      auto loss = torch::nn::functional::cross_entropy(scores, torch::tensor({ex.gold}, torch::kLong).to(trainee_->device()));
      (loss / c_.accumulation).backward();
      loss_sum += loss.item<double>();
      ++losses;
      ++used;
    }
    if (world > 1) used = sum_gradients(used);
    if (used > 0) optimiser_step();
    else opt_->zero_grad();
    if (cb_.progress) cb_.progress("epoch " + std::to_string(epoch), start + win.size(), examples_->size());
  }
  if (world > 1) {  // the epoch's mean loss over every process
    auto l = torch::tensor({loss_sum, static_cast<double>(losses)}, torch::kFloat64);
    comm_->all_reduce_sum(l);
    loss_sum = l[0].item<double>();
    losses = static_cast<size_t>(l[1].item<double>());
  }
  return {loss_sum, losses};
}

// A window's gradients summed over the processes; a window nobody used makes no step. The epoch's
// last window may be partial, as in Lightning. Gloo reduces CPU tensors.
double LinkerRun::sum_gradients(double used) {
  std::vector<torch::Tensor> flat{torch::tensor({static_cast<float>(used)})};
  for (auto& p : params_) flat.push_back(p.grad().defined() ? p.grad().reshape(-1).to(torch::kCPU) : torch::zeros({p.numel()}));
  auto all = torch::cat(flat);
  comm_->all_reduce_sum(all);
  used = all[0].item<double>();
  int64_t at = 1;
  for (auto& p : params_) {
    if (used > 0) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      p.mutable_grad().copy_(all.slice(0, at, at + p.numel()).view_as(p));
    }
    at += p.numel();
  }
  return used;
}

EpochLog LinkerRun::finish_epoch(int epoch, double loss_sum, size_t losses, std::chrono::steady_clock::time_point t0) {
  // Dev accuracy with the current weights.
  trainee_->set_training(false);
  LinkOptions eval_options;
  eval_options.k = c_.k;
  eval_options.quirks = c_.quirks;
  BiEncoderLinker linker(*kb_, trainee_->model(), eval_options);
  auto counts = evaluate(linker, *kb_, dev_, 64, {}, c_.quirks.title_last_wins);
  EpochLog log{epoch, st_.steps, losses ? loss_sum / losses : 0, counts.accuracy(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  st_.history.push_back(log);
  st_.epoch = epoch;
  const bool improved = st_.best.empty() || log.dev_accuracy > st_.best.front().first;
  st_.bad_epochs = improved ? 0 : st_.bad_epochs + 1;
  st_.best.emplace_back(log.dev_accuracy, epoch);
  std::stable_sort(st_.best.begin(), st_.best.end(), [](auto& a, auto& b) { return a.first > b.first; });
  const auto kept_end = st_.best.begin() + std::min<size_t>(st_.best.size(), c_.keep_best);
  const bool keep = std::find(st_.best.begin(), kept_end, std::make_pair(log.dev_accuracy, epoch)) != kept_end;
  std::vector<int> dropped;
  while (st_.best.size() > static_cast<size_t>(c_.keep_best)) {
    dropped.push_back(st_.best.back().second);
    st_.best.pop_back();
  }
  if (leader_) write_checkpoint(log, keep, dropped);
  comm_->barrier();  // the others go on once the checkpoint is whole
  log_line(cb_, "epoch " + std::to_string(epoch) + ": loss " + std::to_string(log.loss) + ", dev accuracy " +
                    std::to_string(100 * log.dev_accuracy) + "%, " + std::to_string(log.seconds) + " s");
  return log;
}

// Checkpoint: everything written beside and moved in by renames, so a kill at any point leaves each
// output absent or whole: the epoch's copy (when it is among the best) first, then last/ swapped in
// with its final state; checkpoints that dropped out of the best go last.
void LinkerRun::write_checkpoint(const EpochLog& log, bool keep, const std::vector<int>& dropped) {
  const fs::path tmp = out_ / "last.tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  trainee_->model().save((tmp / "model").string());
  torch::save(*opt_, (tmp / "optimizer.pt").string());
  std::ofstream(tmp / "trainer_state.json") << st_.to_json().dump(2);
  if (keep) {
    const fs::path kept = out_ / ("epoch-" + std::to_string(log.epoch)), kept_tmp = kept.string() + ".tmp";
    fs::remove_all(kept_tmp);
    fs::copy(tmp / "model", kept_tmp, fs::copy_options::recursive);
    fs::remove_all(kept);
    fs::rename(kept_tmp, kept);
  }
  replace_dir(tmp.string(), last_.string());  // a kill between its renames leaves last.old (constructor)
  for (int e : dropped) fs::remove_all(out_ / ("epoch-" + std::to_string(e)));
  metrics_ << nlohmann::json{{"epoch", log.epoch}, {"step", log.steps}, {"loss", log.loss},
                             {"dev_accuracy", log.dev_accuracy}, {"time_s", log.seconds}}.dump() << "\n";
  metrics_.flush();
}

TrainReport LinkerRun::run() {
  while (st_.epoch < c_.epochs && st_.bad_epochs < c_.patience && steps_left()) {
    const int epoch = st_.epoch + 1;
    const auto t0 = std::chrono::steady_clock::now();
    const auto [loss_sum, losses] = train_epoch(epoch);
    finish_epoch(epoch, loss_sum, losses, t0);
  }
  report_.epochs = st_.history;
  report_.early_stopped = st_.bad_epochs >= c_.patience && st_.epoch < c_.epochs;
  if (!st_.best.empty()) {
    report_.best_epoch = st_.best.front().second;
    report_.best_dev_accuracy = st_.best.front().first;
    report_.best_checkpoint = (out_ / ("epoch-" + std::to_string(report_.best_epoch))).string();
  }
  return report_;
}

}  // namespace

TrainReport train_linker(const TrainConfig& c, const TrainCallbacks& all_cb) { return LinkerRun(c, all_cb).run(); }

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
