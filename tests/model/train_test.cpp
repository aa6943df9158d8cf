// Training on the tiny BERT fixture: overfitting a handful of mentions, resume equality, NER-NS.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/linker.h"
#include "ner4el/train.h"
#include "ner4el/torch/bert.h"
#include "test_util.h"

namespace ner4el {
namespace {

namespace fs = std::filesystem;
const std::string kFix = NER4EL_BERT_FIXTURE;

class TrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Six entities, two classes, three ambiguous aliases; the prior is wrong on half the mentions.
    std::string kb;
    const char* classes[] = {"PER", "LOC"};
    for (int id = 1; id <= 6; ++id) {
      // The description shares two words with its mention's context, as real descriptions do.
      std::string desc = "w" + std::to_string(4 + id) + " w" + std::to_string(30 + id) + " w" + std::to_string(10 + 3 * id) +
                         " w" + std::to_string(11 + 3 * id);
      kb += nlohmann::json{{"id", id}, {"title", "E" + std::to_string(id)}, {"description", desc}, {"count", 10 - id},
                           {"class", classes[id % 2]}, {"aliases", {"w" + std::to_string(1 + (id - 1) / 2)}}}
                .dump() + "\n";
    }
    test::write_file(dir.file("kb.jsonl"), kb);
    KbSources src;
    src.entities = dir.file("kb.jsonl");
    build_knowledge_base(src, dir.file("kb"));
    std::string data;
    for (int id = 1; id <= 6; ++id)
      data += nlohmann::json{{"mention", "w" + std::to_string(1 + (id - 1) / 2)},
                             {"left_context", "w" + std::to_string(4 + id) + " w9"},
                             {"right_context", "w" + std::to_string(30 + id)},
                             {"output", "E" + std::to_string(id)}}
                  .dump() + "\n";
    test::write_file(dir.file("train.jsonl"), data);
    config.encoder = kFix + "/ner4el.ckpt";
    config.vocab = kFix + "/hf";
    config.kb = dir.file("kb");
    config.train_data = config.dev_data = dir.file("train.jsonl");
    config.window = 32;
    // K = 4: two candidates per alias plus two NER-NS negatives (with two candidates, min-max
    // normalisation gives exactly {0, 1} and no gradient).
    config.k = 4;
    config.lr = 1e-3;
    config.accumulation = 2;
    config.patience = 100;
    config.threads = 1;
  }
  test::TempDir dir;
  TrainConfig config;
};

TEST_F(TrainTest, TinyEncoderOverfitsAHandfulOfMentions) {
  config.output_dir = dir.file("run");
  config.epochs = 50;
  config.accumulation = 1;
  auto kb = KnowledgeBase::open(dir.file("kb"));
  {
    PriorLinker prior(kb, {.k = 2});
    EXPECT_DOUBLE_EQ(evaluate(prior, kb, read_mentions(config.train_data)).accuracy(), 0.5);
  }
  auto r = train_linker(config);
  EXPECT_EQ(r.train_mentions, 6u);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_DOUBLE_EQ(r.best_dev_accuracy, 1.0) << "epochs run: " << r.epochs.size();
  auto best = LinkerModel::load(r.best_checkpoint);
  BiEncoderLinker linker(kb, best, {.k = 2});
  EXPECT_DOUBLE_EQ(evaluate(linker, kb, read_mentions(config.train_data)).accuracy(), 1.0);
  // The metrics log has one line per epoch; at most keep_best epoch checkpoints remain.
  const std::string metrics = test::read_file(dir.file("run/metrics.jsonl"));
  EXPECT_EQ(static_cast<size_t>(std::count(metrics.begin(), metrics.end(), '\n')), r.epochs.size());
  int kept = 0;
  for (auto& e : fs::directory_iterator(dir.file("run"))) kept += e.path().filename().string().rfind("epoch-", 0) == 0;
  EXPECT_LE(kept, 3);
}

TEST_F(TrainTest, ResumedRunEqualsUninterruptedRun) {
  config.epochs = 3;
  config.output_dir = dir.file("straight");
  train_linker(config);
  config.output_dir = dir.file("interrupted");
  config.epochs = 1;
  train_linker(config);  // "killed" after epoch 1
  config.epochs = 3;
  auto r = train_linker(config);
  EXPECT_TRUE(r.resumed);
  EXPECT_EQ(r.epochs.size(), 3u);
  auto a = read_state_dict(dir.file("straight/last/model/model.safetensors"));
  auto b = read_state_dict(dir.file("interrupted/last/model/model.safetensors"));
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, v] : a) EXPECT_TRUE(torch::equal(v, b.at(k))) << k;
}

TEST_F(TrainTest, StreamedDataIsPreparedOnceAndBlinkLinesTrainAlike) {
  config.epochs = 2;
  config.output_dir = dir.file("ner4el");
  std::vector<std::string> logs;
  TrainCallbacks cb;
  cb.log = [&](const std::string& s) { logs.push_back(s); };
  auto a = train_linker(config, cb);
  // The processed set: shards beside the checkpoints, named by its key, used again by the next run.
  int sets = 0;
  for (auto& e : fs::directory_iterator(dir.file("ner4el")))
    if (e.path().filename().string().rfind("processed-", 0) == 0) {
      ++sets;
      EXPECT_TRUE(fs::exists(e.path() / "meta.json"));
      EXPECT_TRUE(fs::exists(e.path() / "shard-00000.bin"));
    }
  EXPECT_EQ(sets, 1);
  config.epochs = 3;
  logs.clear();
  train_linker(config, cb);
  EXPECT_TRUE(std::any_of(logs.begin(), logs.end(), [](auto& l) { return l.find("using the processed training data") == 0; }));
  // The same mentions in BLINK's fields give the same examples, hence the same run.
  std::string blink;
  for (const auto& m : read_mentions(config.train_data))
    blink += nlohmann::json{{"context_left", m.left_context}, {"mention", m.mention}, {"context_right", m.right_context},
                            {"label_title", *m.output}, {"label", "..."}, {"label_id", 0}}
                 .dump() + "\n";
  test::write_file(dir.file("blink.jsonl"), blink);
  config.train_data = dir.file("blink.jsonl");
  config.output_dir = dir.file("blink");
  config.epochs = 2;
  auto b = train_linker(config);
  EXPECT_EQ(b.train_mentions, a.train_mentions);
  ASSERT_EQ(b.epochs.size(), a.epochs.size());
  for (size_t i = 0; i < a.epochs.size(); ++i) EXPECT_DOUBLE_EQ(b.epochs[i].loss, a.epochs[i].loss);
}

// Training mentions that bring their candidates train on them: mentions that are no alias (all
// dropped without their candidates) make examples, and the dev evaluation ranks the same sets.
TEST_F(TrainTest, MentionsThatBringCandidatesTrainOnThem) {
  std::string data;
  for (int id = 1; id <= 6; ++id)
    data += nlohmann::json{{"mention", "w40"}, {"left_context", "w" + std::to_string(4 + id) + " w9"},
                           {"right_context", "w" + std::to_string(30 + id)}, {"output", "E" + std::to_string(id)},
                           {"candidates", {id, id % 6 + 1, "E" + std::to_string((id + 1) % 6 + 1)}}}
                .dump() + "\n";
  test::write_file(dir.file("given.jsonl"), data);
  config.train_data = config.dev_data = dir.file("given.jsonl");
  config.output_dir = dir.file("given");
  config.epochs = 1;
  auto r = train_linker(config);
  EXPECT_EQ(r.train_mentions, 6u);
  EXPECT_EQ(r.dropped, 0u);
  data.insert(0, nlohmann::json{{"mention", "w40"}, {"left_context", ""}, {"right_context", ""}, {"output", "E1"},
                                {"candidates", {1, 99}}}.dump() + "\n");
  test::write_file(dir.file("given.jsonl"), data);
  config.output_dir = dir.file("given-bad");
  try {
    train_linker(config);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("given.jsonl:1: candidates[1]: no entity with id 99"), std::string::npos) << e.what();
  }
}

TEST_F(TrainTest, TrainingDrawsFromItsOwnGenerators) {
  // Dropout, shuffling and the classifier's initialisation draw from generators of the trainers'
  // own: what a seeded program draws next from libtorch's global generator is unchanged.
  config.epochs = 1;
  config.output_dir = dir.file("run");
  torch::manual_seed(123);
  const auto expected = torch::rand({4});
  torch::manual_seed(123);
  train_linker(config);
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected));
  TrainNerConfig n;
  n.encoder = config.encoder;
  n.vocab = config.vocab;
  n.kb = config.kb;
  n.train_data = n.dev_data = config.train_data;
  n.window = 32;
  n.epochs = 1;
  n.output_dir = dir.file("ner");
  torch::manual_seed(123);
  train_ner_classifier(n);
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected));
}

TEST_F(TrainTest, Bf16AutocastTrainsFp32Weights) {
  // precision: bf16 runs the forward passes under bf16 autocast; weights and Adam stay fp32, and
  // the tiny encoder still learns the handful of mentions.
  config.output_dir = dir.file("bf16");
  config.precision = "bf16";
  config.epochs = 50;
  config.accumulation = 1;
  auto r = train_linker(config);
  EXPECT_DOUBLE_EQ(r.best_dev_accuracy, 1.0) << "epochs run: " << r.epochs.size();
  for (const auto& e : r.epochs) EXPECT_TRUE(std::isfinite(e.loss));
  for (const auto& [k, v] : read_state_dict(dir.file("bf16/last/model/model.safetensors"))) EXPECT_EQ(v.scalar_type(), torch::kFloat32) << k;
  EXPECT_THROW(config.set("precision", "fp16"), InvalidArgument);
}

TEST_F(TrainTest, MaxStepsAndDevicesAreChecked) {
  config.output_dir = dir.file("steps");
  config.epochs = 10;
  config.accumulation = 2;
  config.max_steps = 4;  // 6 mentions, windows of 2: 3 steps an epoch, so the second epoch stops early
  auto r = train_linker(config);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs.back().steps, 4);
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA libtorch: the refusal below is for CPU builds";
  config.output_dir = dir.file("cuda");
  config.device = "cuda";
  try {
    train_linker(config);
    FAIL() << "trained on a device this libtorch lacks";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("this libtorch has no CUDA"), std::string::npos) << e.what();
  }
  config.device = "tpu";
  EXPECT_THROW(train_linker(config), InvalidArgument);
  EXPECT_THROW(resolve_device("cuda:x"), InvalidArgument);
  EXPECT_EQ(resolve_device("cpu"), "cpu");
  EXPECT_THROW(resolve_dtype("int8", "cuda"), InvalidArgument);
  EXPECT_EQ(resolve_dtype("auto", "cuda:1"), "bf16");
}

TEST_F(TrainTest, ConfigFileAndOverrides) {
  test::write_file(dir.file("c.yaml"), "lr: 2.0e-5\nk: 7\nner_ns: false\n");
  auto c = TrainConfig::from_yaml(dir.file("c.yaml"));
  EXPECT_DOUBLE_EQ(c.lr, 2e-5);
  EXPECT_EQ(c.k, 7);
  EXPECT_FALSE(c.ner_ns);
  EXPECT_EQ(c.accumulation, 256);  // the release's default
  c.set("accumulation", "16");
  EXPECT_EQ(c.accumulation, 16);
  EXPECT_THROW(c.set("learning_rate", "1"), InvalidArgument);
  EXPECT_THROW(c.set("k", "many"), InvalidArgument);
  test::write_file(dir.file("bad.yaml"), "lr: 1e-5\nbogus: 3\n");
  try {
    TrainConfig::from_yaml(dir.file("bad.yaml"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:2: unknown training option 'bogus'"), std::string::npos) << e.what();
  }
  // The shipped defaults parse and equal the struct's.
  auto shipped = TrainConfig::from_yaml(std::string(NER4EL_SOURCE_DIR) + "/conf/ner4el.yaml");
  EXPECT_EQ(shipped.accumulation, 256);
  EXPECT_EQ(shipped.k, 40);
  EXPECT_TRUE(shipped.ner_ns);
}

TEST_F(TrainTest, NerClassifierLearnsGoldClasses) {
  TrainNerConfig c;
  c.encoder = kFix + "/ner4el.ckpt";
  c.vocab = kFix + "/hf";
  c.kb = dir.file("kb");
  c.train_data = c.dev_data = dir.file("train.jsonl");
  c.window = 32;
  c.lr = 3e-3;
  c.batch_size = 3;
  c.epochs = 20;
  c.output_dir = dir.file("ner");
  auto r = train_ner_classifier(c);
  EXPECT_EQ(r.train_mentions, 6u);
  EXPECT_DOUBLE_EQ(*std::max_element(r.dev_accuracy.begin(), r.dev_accuracy.end()), 1.0);
  auto clf = NerClassifier::load(r.best_checkpoint, {});
  EXPECT_EQ(clf.classes(), (std::vector<std::string>{"LOC", "PER"}));  // the KB's order
}

}  // namespace
}  // namespace ner4el
