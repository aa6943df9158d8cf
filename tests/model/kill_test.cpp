// 'ner4el index' and 'ner4el train' killed (SIGKILL) at random points: every output is absent or
// whole after each kill, and the run started again resumes and ends as an uninterrupted one.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "ner4el/index.h"
#include "ner4el/model.h"
#include "ner4el/train.h"
#include "test_util.h"
#include "train_fixture.h"

namespace ner4el {
namespace {

namespace fs = std::filesystem;
const std::string kFix = NER4EL_BERT_FIXTURE;

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(NER4EL_TOOL, argv.data());
    _exit(127);
  }
  return pid;
}

/// Waits until ready() (the child is at work), then `after` more, and kills it; false when the
/// child had already finished.
bool kill_when(pid_t pid, const std::function<bool()>& ready, std::chrono::milliseconds after) {
  for (int i = 0; i < 1200 && !ready(); ++i) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::this_thread::sleep_for(after);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status);
}

TEST(Kill, IndexIsAbsentOrWholeAndResumes) {
  test::TempDir dir;
  ASSERT_EQ(test::run(std::string(NER4EL_TOOL) + " convert " + kFix + "/ner4el.ckpt --vocab " + kFix + "/hf --window 32 -o " +
                      dir.file("model") + " >/dev/null"),
            0);
  {
    std::ofstream kb(dir.file("kb.jsonl"));
    for (int i = 1; i <= 40000; ++i)
      kb << nlohmann::json{{"id", i}, {"title", "E" + std::to_string(i)},
                           {"description", "w" + std::to_string(i % 90) + " w" + std::to_string(i % 7) + " w" + std::to_string(i % 13)},
                           {"class", i % 2 ? "PER" : "LOC"}, {"aliases", {"w" + std::to_string(i % 50)}}}
                .dump()
         << "\n";
  }
  ASSERT_EQ(test::run(std::string(NER4EL_TOOL) + " kb build --entities " + dir.file("kb.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  const std::vector<std::string> args{NER4EL_TOOL, "index", "--dtype", "fp32", "--model", dir.file("model"),
                                      "--kb", dir.file("kb"), "-o", dir.file("idx"), "--batch", "64"};
  const std::string partial = dir.file("idx") + ".partial";
  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  size_t last_partial = 0;
  bool finished = false;
  for (int round = 0; round < 3; ++round) {
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 600)(rng));
    const pid_t pid = spawn(args);
    const bool killed = kill_when(pid, [&] { return fs::exists(partial) && fs::file_size(partial) > last_partial + 64; }, delay);
    if (!killed) {  // it finished before the kill, resuming the killed runs: whole, checked below
      finished = true;
      break;
    }
    ++kills;
    if (fs::exists(dir.file("idx"))) {  // killed after it wrote the index (on its way out): whole
      EXPECT_EQ(EntityIndex::open(dir.file("idx")).size(), 40000u) << "killed after " << delay.count() << " ms";
      EXPECT_FALSE(fs::exists(partial));
      finished = true;
      break;
    }
    ASSERT_TRUE(fs::exists(partial));
    last_partial = fs::file_size(partial);
  }
  EXPECT_GE(kills, 1) << "the index finished before any kill; make the KB larger";
  if (!finished) {  // the last run was killed: one more resumes it
    std::string out;
    ASSERT_EQ(test::run([&] {
                std::string c;
                for (auto& a : args) c += a + " ";
                return c + "2>/dev/null";
              }(), &out),
              0);
    EXPECT_NE(out.find("from the interrupted run"), std::string::npos) << out;
  }
  EXPECT_FALSE(fs::exists(partial));
  // The same as an uninterrupted build, vector for vector.
  auto straight_args = args;
  straight_args[straight_args.size() - 3] = dir.file("idx2");
  std::string c;
  for (auto& a : straight_args) c += a + " ";
  ASSERT_EQ(test::run(c + ">/dev/null 2>&1"), 0);
  auto a = EntityIndex::open(dir.file("idx")), b = EntityIndex::open(dir.file("idx2"));
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.size(), 40000u);
  std::vector<float> va(static_cast<size_t>(a.dim())), vb(va.size());
  for (int64_t id = 1; id <= 40000; id += 997) {
    ASSERT_TRUE(a.vector(id, va.data()));
    ASSERT_TRUE(b.vector(id, vb.data()));
    for (size_t i = 0; i < va.size(); ++i) ASSERT_NEAR(va[i], vb[i], 1e-6) << id;
  }
}

TEST(Kill, TrainingCheckpointsAreAbsentOrWholeAndTrainingResumes) {
  test::TempDir dir;
  test::write_training_set(dir, 40, 8,
                           "output_dir: " + dir.file("run") + "\naccumulation: 1\npatience: 1000\nkeep_best: 2\nthreads: 1\nepochs: 40\n");
  const std::vector<std::string> args{NER4EL_TOOL, "train", "--config", dir.file("c.yaml")};
  const fs::path run = dir.file("run");
  auto state_epoch = [&]() -> int {
    std::ifstream in(run / "last" / "trainer_state.json");
    return in ? nlohmann::json::parse(in).at("epoch").get<int>() : 0;
  };
  // What a kill may leave: last/ whole (its model loads, its state parses) or absent; every kept
  // epoch-N whole; the metrics log whole lines.
  auto check_outputs = [&](const std::string& when) {
    if (fs::exists(run / "last")) {
      EXPECT_NO_THROW(LinkerModel::load((run / "last" / "model").string())) << when;
      EXPECT_TRUE(fs::exists(run / "last" / "optimizer.pt")) << when;
      EXPECT_NO_THROW(state_epoch()) << when;
    }
    for (const auto& e : fs::directory_iterator(run)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("epoch-", 0) == 0 && name.find(".tmp") == std::string::npos)
        EXPECT_NO_THROW(LinkerModel::load(e.path().string())) << when << ": " << name;
    }
  };
  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  for (int round = 0; round < 4; ++round) {
    const int before = state_epoch();
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng));
    const pid_t pid = spawn(args);
    // At work once it has finished an epoch beyond where it started.
    const bool killed = kill_when(pid, [&] {
      try {
        return state_epoch() > before;
      } catch (...) {
        return false;
      }
    }, delay);
    if (!killed) break;
    ++kills;
    check_outputs("after kill " + std::to_string(kills) + " (" + std::to_string(delay.count()) + " ms after epoch " +
                  std::to_string(before + 1) + ")");
  }
  EXPECT_GE(kills, 2) << "training finished too soon to be killed";
  std::string out;
  ASSERT_EQ(test::run(std::string(NER4EL_TOOL) + " train --config " + dir.file("c.yaml") + " 2>/dev/null", &out), 0) << out;
  check_outputs("at the end");
  EXPECT_EQ(state_epoch(), 40);
  // One metrics line per epoch, each whole JSON, epochs in order.
  std::ifstream metrics(run / "metrics.jsonl");
  std::string line;
  int expected = 1;
  while (std::getline(metrics, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_LE(j["epoch"].get<int>(), expected);
    expected = j["epoch"].get<int>() + 1;
  }
  EXPECT_EQ(expected, 41);
  int kept = 0;
  for (const auto& e : fs::directory_iterator(run)) kept += e.path().filename().string().rfind("epoch-", 0) == 0;
  EXPECT_LE(kept, 2 + kills);  // keep_best, plus any a kill left before it was pruned
}

}  // namespace
}  // namespace ner4el
