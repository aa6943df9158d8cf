// The processed training set on disk (src/train/shards.h): what is written is read back, each
// epoch's order visits every example once and depends on (seed, epoch) alone, and damaged shards
// are refused with the file, record and field.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <set>

#include "ner4el/error.h"
#include "test_util.h"
#include "train/shards.h"

namespace ner4el {
namespace {

train::ShardExample example(int i) {
  train::ShardExample e;
  for (int t = 0; t < 3 + i % 7; ++t) e.mention_ids.push_back(100 + i + t);
  e.mention_position = i % 3;
  for (int c = 0; c < 1 + i % 5; ++c) e.candidates.push_back(int64_t{1} << 40 | (i * 10 + c));
  e.gold = i % (1 + i % 5);
  return e;
}

std::string write_set(const test::TempDir& tmp, int n, uint64_t per_shard) {
  const std::string dir = tmp.file("set");
  train::ShardWriter w(dir, "key-1", n, 7, per_shard);
  for (int i = 0; i < n; ++i) w.add(example(i));
  w.finish(3);
  return dir;
}

// Which example a record holds: its first token id is 100 + i.
int id_of(const train::ShardExample& e) { return e.mention_ids.at(0) - 100; }

TEST(TrainShards, WrittenExamplesReadBackInShuffledOrderOncePerEpoch) {
  test::TempDir tmp;
  const std::string dir = write_set(tmp, 1000, 64);
  EXPECT_FALSE(std::filesystem::exists(dir + ".tmp"));
  auto set = train::ShardedSet::open(dir, "key-1");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 1000u);
  EXPECT_EQ(set->dropped(), 3u);
  EXPECT_EQ(set->shards(), 16u);
  auto visit = [&](int epoch) {
    std::vector<int> ids;
    auto order = set->epoch_order(2, epoch);
    uint32_t shard;
    uint64_t record;
    while (order.next(shard, record)) {
      auto e = set->read(shard, record);
      const int i = id_of(e);
      const auto want = example(i);
      EXPECT_EQ(e.mention_ids, want.mention_ids);
      EXPECT_EQ(e.mention_position, want.mention_position);
      EXPECT_EQ(e.candidates, want.candidates);
      EXPECT_EQ(e.gold, want.gold);
      ids.push_back(i);
    }
    return ids;
  };
  const auto a = visit(1), again = visit(1), b = visit(2);
  EXPECT_EQ(std::set<int>(a.begin(), a.end()).size(), 1000u);  // each example once
  EXPECT_EQ(a.size(), 1000u);
  EXPECT_EQ(a, again);  // a function of (seed, epoch)
  EXPECT_NE(a, b);
  // Shuffled across the input's order: the first hundred of an epoch come from all over it.
  int early = 0;
  for (int k = 0; k < 100; ++k) early += a[k] < 250;
  EXPECT_GT(early, 5);
  EXPECT_LT(early, 60);
  // Another key (another data set or option) is not this set.
  EXPECT_FALSE(train::ShardedSet::open(dir, "key-2"));
  EXPECT_FALSE(train::ShardedSet::open(tmp.file("absent"), "key-1"));
}

TEST(TrainShards, DamagedShardsNameTheFileRecordAndField) {
  test::TempDir tmp;
  const std::string dir = write_set(tmp, 50, 1000);
  const std::string shard = dir + "/shard-00000.bin";
  const std::string good = test::read_file(shard);
  auto expect_error = [&](const std::string& bytes, const std::string& needle, bool at_open) {
    test::write_file(shard, bytes);
    try {
      auto set = train::ShardedSet::open(dir, "key-1");
      ASSERT_FALSE(at_open) << "opened a damaged set; expected: " << needle;
      for (uint64_t r = 0; r < set->size(); ++r) (void)set->read(0, r);
      FAIL() << "no error; expected: " << needle;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("shard-00000.bin"), std::string::npos) << e.what();
    }
  };
  expect_error(good.substr(0, good.size() - 3), "no footer", true);  // truncated
  std::string huge_count = good;
  const uint64_t big = ~uint64_t{0} / 4;
  std::memcpy(huge_count.data() + huge_count.size() - 16, &big, 8);
  expect_error(huge_count, "record count", true);
  // A record whose sizes do not add up, a gold index and a mention position out of range.
  std::string sizes = good;
  const uint32_t tokens = 60000;
  std::memcpy(sizes.data() + 8, &tokens, 4);
  expect_error(sizes, "do not match", false);
  std::string gold = good;
  const int32_t bad_gold = 99;
  std::memcpy(gold.data() + 4, &bad_gold, 4);
  expect_error(gold, "gold index 99", false);
  std::string position = good;
  const int32_t bad_position = -4;
  std::memcpy(position.data(), &bad_position, 4);
  expect_error(position, "mention position -4", false);
  // meta.json that lies about the count.
  test::write_file(shard, good);
  std::string meta = test::read_file(dir + "/meta.json");
  meta.replace(meta.find("\"examples\": 50"), 14, "\"examples\": 51");
  test::write_file(dir + "/meta.json", meta);
  EXPECT_THROW(train::ShardedSet::open(dir, "key-1"), FormatError);
}

TEST(TrainShards, AFailedOrKilledWriteLeavesNoSetAndIsRedone) {
  test::TempDir tmp;
  const std::string dir = tmp.file("set");
  try {  // an error part-way: the writer is destroyed unfinished and its partial set goes
    train::ShardWriter w(dir, "k", 10, 1, 4);
    for (int i = 0; i < 5; ++i) w.add(example(i));
    throw Error("a bad example");
  } catch (const Error&) {
  }
  EXPECT_FALSE(train::ShardedSet::open(dir, "k"));
  EXPECT_FALSE(std::filesystem::exists(dir + ".tmp"));
  // What a killed run leaves (no destructor runs): a half-written DIR.tmp.
  std::filesystem::create_directories(dir + ".tmp");
  test::write_file(dir + ".tmp/shard-00000.bin", "half a record");
  EXPECT_FALSE(train::ShardedSet::open(dir, "k"));
  train::ShardWriter w(dir, "k", 10, 1, 4);  // the next run starts over
  for (int i = 0; i < 10; ++i) w.add(example(i));
  w.finish(0);
  auto set = train::ShardedSet::open(dir, "k");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 10u);
  EXPECT_FALSE(std::filesystem::exists(dir + ".tmp"));
}

}  // namespace
}  // namespace ner4el
