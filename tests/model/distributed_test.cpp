// Data-parallel training over c10d/Gloo on loopback: two processes give the weights of one process
// with the same accumulation windows (float tolerance: the sums are taken in another order).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "ner4el/torch/bert.h"
#include "test_util.h"
#include "train_fixture.h"

namespace ner4el {
namespace {

const std::string kFix = NER4EL_BERT_FIXTURE;

TEST(DataParallel, TwoProcessesGiveTheWeightsOfOne) {
  test::TempDir dir;
  // Windows of 4 over 12 mentions: 3 steps an epoch.
  test::write_training_set(dir, 12, 4, "accumulation: 4\npatience: 100\nepochs: 3\n");
  const std::string train = std::string(NER4EL_TOOL) + " train --config " + dir.file("c.yaml");
  std::string one, two;
  // One thread for each process, as --nproc 2 gives each on two cores: the same products in the same order.
  ASSERT_EQ(test::run("NER4EL_THREADS=1 " + train + " --set output_dir=" + dir.file("one") + " 2>&1", &one), 0) << one;
  ASSERT_EQ(test::run(train + " --nproc 2 --set output_dir=" + dir.file("two") + " 2>&1", &two), 0) << two;
  EXPECT_NE(two.find("starting 2 processes"), std::string::npos) << two;
  EXPECT_EQ(std::count(two.begin(), two.end(), '\n') > 0, true);
  auto a = read_state_dict(dir.file("one/last/model/model.safetensors"));
  auto b = read_state_dict(dir.file("two/last/model/model.safetensors"));
  auto start = read_state_dict(kFix + "/ner4el.ckpt");
  ASSERT_EQ(a.size(), b.size());
  double max_diff = 0, max_moved = 0, diff2 = 0, norm2 = 0;
  int64_t off = 0, total = 0;
  for (const auto& [k, t] : a) {
    auto d = (t - b.at(k)).abs();
    diff2 += d.pow(2).sum().item<double>();
    norm2 += t.pow(2).sum().item<double>();
    // The attention key bias adds the same q.b to every score of a query, which softmax ignores:
    // its gradient is zero in exact arithmetic, rounding noise here, and Adam turns noise of either
    // sign into steps of +-lr. Every other weight must agree to float tolerance.
    if (k.find("attention.self.key.bias") != std::string::npos) continue;
    max_diff = std::max(max_diff, d.max().item<double>());
    off += (d > 1e-5).sum().item<int64_t>();
    total += t.numel();
  }
  std::cerr << "max diff " << max_diff << ", elements off by > 1e-5: " << off << " of " << total
            << ", relative L2 " << std::sqrt(diff2 / norm2) << "\n";
  for (const auto& [k, t] : a)
    for (const auto& [k2, s] : start)
      if (k2.size() >= k.size() && k2.compare(k2.size() - k.size(), k.size(), k) == 0 && s.sizes() == t.sizes())
        max_moved = std::max(max_moved, (t - s).abs().max().item<double>());
  EXPECT_LT(max_diff, 1e-5) << "two processes drifted from one";
  EXPECT_LT(std::sqrt(diff2 / norm2), 1e-3) << "all weights, key biases included";
  EXPECT_GT(max_moved, 1e-3) << "training did not move the weights, so equality would prove nothing";
  // The same metrics, and one log of them (rank 0's).
  EXPECT_EQ(test::read_file(dir.file("one/metrics.jsonl")).size() > 0, true);
  auto lines = [](const std::string& text) {
    std::vector<nlohmann::json> out;
    size_t at = 0;
    while (at < text.size()) {
      const size_t nl = text.find('\n', at);
      out.push_back(nlohmann::json::parse(text.substr(at, nl - at)));
      at = nl + 1;
    }
    return out;
  };
  auto m1 = lines(test::read_file(dir.file("one/metrics.jsonl"))), m2 = lines(test::read_file(dir.file("two/metrics.jsonl")));
  ASSERT_EQ(m1.size(), 3u);
  ASSERT_EQ(m2.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m1[i]["step"], m2[i]["step"]);
    EXPECT_NEAR(m1[i]["loss"].get<double>(), m2[i]["loss"].get<double>(), 1e-5);
    EXPECT_EQ(m1[i]["dev_accuracy"], m2[i]["dev_accuracy"]);
  }
}

TEST(DataParallel, IncompleteEnvironmentIsRefused) {
  std::string out;
  EXPECT_EQ(test::run("WORLD_SIZE=2 RANK=5 " + std::string(NER4EL_TOOL) + " train --set encoder=x --set kb=y --set train_data=z "
                      "--set dev_data=z 2>&1", &out), 1);
  EXPECT_NE(out.find("needs RANK between 0 and 1"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(test::run("WORLD_SIZE=2 RANK=1 " + std::string(NER4EL_TOOL) + " train --set encoder=x --set kb=y --set train_data=z "
                      "--set dev_data=z 2>&1", &out), 1);
  EXPECT_NE(out.find("needs MASTER_ADDR and MASTER_PORT"), std::string::npos) << out;
  // A world of no process is not one process; a port past 65535 is named as such.
  out.clear();
  EXPECT_EQ(test::run("WORLD_SIZE=0 " + std::string(NER4EL_TOOL) + " train --set encoder=x --set kb=y --set train_data=z "
                      "--set dev_data=z 2>&1", &out), 1);
  EXPECT_NE(out.find("WORLD_SIZE=0: a world has at least one process"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(test::run("WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=70000 " + std::string(NER4EL_TOOL) +
                      " train --set encoder=x --set kb=y --set train_data=z --set dev_data=z 2>&1", &out), 1);
  EXPECT_NE(out.find("MASTER_PORT=70000 is not a port"), std::string::npos) << out;
}

}  // namespace
}  // namespace ner4el

#include "ner4el/index.h"

namespace ner4el {
namespace {

// 'ner4el index --nproc 2': two shards (id % 2) encoded by two processes, merged by the first into
// the index one process writes.
TEST(DataParallel, ShardedIndexEqualsOneProcess) {
  test::TempDir dir;
  ASSERT_EQ(test::run(std::string(NER4EL_TOOL) + " convert " + kFix + "/ner4el.ckpt --vocab " + kFix + "/hf --window 32 -o " +
                      dir.file("model") + " >/dev/null"),
            0);
  std::string kb;
  for (int i = 1; i <= 3000; ++i)
    kb += nlohmann::json{{"id", i}, {"title", "E" + std::to_string(i)},
                         {"description", "w" + std::to_string(i % 90) + " w" + std::to_string(i % 7) + " w" + std::to_string(i % 13)},
                         {"class", i % 2 ? "PER" : "LOC"}, {"aliases", {"w" + std::to_string(i % 50)}}}
              .dump() + "\n";
  test::write_file(dir.file("kb.jsonl"), kb);
  ASSERT_EQ(test::run(std::string(NER4EL_TOOL) + " kb build --entities " + dir.file("kb.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  const std::string index = std::string(NER4EL_TOOL) + " index --dtype fp32 --model " + dir.file("model") + " --kb " + dir.file("kb");
  std::string out;
  ASSERT_EQ(test::run(index + " -o " + dir.file("one") + " 2>&1", &out), 0) << out;
  out.clear();
  ASSERT_EQ(test::run(index + " --nproc 2 -o " + dir.file("two") + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("wrote " + dir.file("two") + ": 3000 entity vectors"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("two") + ".partial-0-of-2"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("two") + ".partial-1-of-2.done"));
  auto a = EntityIndex::open(dir.file("one")), b = EntityIndex::open(dir.file("two"));
  ASSERT_EQ(a.size(), 3000u);
  ASSERT_EQ(b.size(), 3000u);
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  std::vector<float> va(static_cast<size_t>(a.dim())), vb(va.size());
  for (int64_t id = 1; id <= 3000; ++id) {
    ASSERT_TRUE(b.vector(id, vb.data())) << id;
    ASSERT_TRUE(a.vector(id, va.data()));
    for (size_t i = 0; i < va.size(); ++i) ASSERT_NEAR(va[i], vb[i], 1e-5) << id;
  }
}

}  // namespace
}  // namespace ner4el
