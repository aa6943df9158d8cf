// --release-compat: each quirk of the release on a case worked out by hand from its code
// (src/pl_data/dataset.py, src/pl_modules/model.py; docs/reference.md "Release quirks"), and the sane default.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "ner4el/candidates.h"
#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/kb.h"
#include "ner4el/linker.h"
#include "ner4el/ner.h"
#include "ner4el/release_compat.h"
#include "test_util.h"

namespace ner4el {
namespace {

using Ids = std::vector<int64_t>;

// A KB whose alias table has every shape the quirks act on:
//   "paris"  1,2,3,2,9   lower-case key; 2 listed twice; 9 has no description
//   "Paris"  3,5         capital key, lower-cases to "paris" too
//   "Troy"   4,7         only a capital key: the release can never match "troy"
//   "helen"  8
// counts 1:10 2:50 3:30 4:5 5:100 7:20 8:40 (6 has none); titles read in this order: 7 "Troy",
// 4 "Troy" (a title shared: count says 7, the release's reversed dict says 4), then the rest.
class ReleaseCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir.file("aliases.tsv"), "paris\t1,2,3,2,9\nParis\t3,5\nTroy\t4,7\nhelen\t8\n");
    test::write_file(dir.file("descriptions.tsv"),
                     "1\tcapital of France\n2\tsocialite\n3\ttown in Texas\n4\tancient city\n5\tcountry\n"
                     "6\tvillage\n7\tTrojan War\n8\tHelen of Troy\n");
    test::write_file(dir.file("counts.tsv"), "1\t10\n2\t50\n3\t30\n4\t5\n5\t100\n7\t20\n8\t40\n");
    test::write_file(dir.file("titles.tsv"),
                     "7\tTroy\n4\tTroy\n1\tParis\n2\tParis Hilton\n3\tParis, Texas\n5\tFrance\n8\tHelen\n");
    test::write_file(dir.file("types.tsv"), "1\tLOC\n2\tPER\n3\tLOC\n4\tLOC\n5\tLOC\n6\tLOC\n7\tEVE\n8\tPER\n");
    build_knowledge_base({.aliases = dir.file("aliases.tsv"), .descriptions = dir.file("descriptions.tsv"),
                          .counts = dir.file("counts.tsv"), .titles = dir.file("titles.tsv"), .types = dir.file("types.tsv")},
                         dir.file("kb"));
    kb = std::make_unique<KnowledgeBase>(KnowledgeBase::open(dir.file("kb")));
  }
  Ids cands(const std::string& m, ReleaseQuirks q, int k = 40) {
    return CandidateGenerator(*kb, {.k = k, .quirks = q}).candidates(m).ids;
  }
  static ReleaseQuirks only(const char* name) {
    ReleaseQuirks q;
    q.enable(name);
    return q;
  }
  test::TempDir dir;
  std::unique_ptr<KnowledgeBase> kb;
};

TEST_F(ReleaseCompat, SaneCandidatesMergeKeysDeduplicateAndSortByCount) {
  // Every form of "paris": 1,2,3,2,3,5 -> once each -> by count 5(100) 2(50) 3(30) 1(10).
  EXPECT_EQ(cands("Paris", {}), (Ids{5, 2, 3, 1}));
  EXPECT_EQ(cands("TROY", {}), (Ids{7, 4}));
  EXPECT_TRUE(kb->has_release_views());
}

TEST_F(ReleaseCompat, ExactAliasKeysMissCapitalKeys) {
  // Only the key "paris" as stored (1,2,3,2): deduplicated and sorted, 2(50) 3(30) 1(10).
  EXPECT_EQ(cands("Paris", only("exact-alias-keys")), (Ids{2, 3, 1}));
  auto set = CandidateGenerator(*kb, {.quirks = only("exact-alias-keys")}).candidates("Troy");
  EXPECT_EQ(set.miss, CandidateMiss::NotInAliasTable);  // "Troy" is stored with a capital
  EXPECT_EQ(cands("Helen", only("exact-alias-keys")), (Ids{8}));
}

TEST_F(ReleaseCompat, AliasTableOrderKeepsShortListsUnsorted) {
  EXPECT_EQ(cands("paris", only("alias-table-order")), (Ids{1, 2, 3, 5}));
  // Longer than K: torch.topk over the counts, largest first.
  EXPECT_EQ(cands("paris", only("alias-table-order"), 2), (Ids{5, 2}));
}

TEST_F(ReleaseCompat, DuplicateIdsAreKept) {
  // 1,2,3,2,3,5 sorted by count, stable: 5, 2, 2, 3, 3, 1.
  EXPECT_EQ(cands("paris", only("duplicate-ids")), (Ids{5, 2, 2, 3, 3, 1}));
}

TEST_F(ReleaseCompat, AllAliasQuirksTogether) {
  const auto all = ReleaseQuirks::all();
  EXPECT_EQ(cands("Paris", all), (Ids{1, 2, 3, 2}));  // the stored list, undescribed 9 removed
  EXPECT_EQ(cands("Paris", all, 2), (Ids{2, 2}));     // topk([10,50,30,50], 2): both copies of 2
  EXPECT_EQ(cands("Paris", all, 4), (Ids{1, 2, 3, 2}));  // exactly K: not sorted
}

TEST_F(ReleaseCompat, GoldIndexIsTheLastOccurrence) {
  const Ids ids{1, 2, 3, 2};
  EXPECT_EQ(gold_index(ids, 2, /*last_occurrence=*/true), 3u);
  EXPECT_EQ(gold_index(ids, 2, false), 1u);
  EXPECT_FALSE(gold_index(ids, 9, true));
}

TEST_F(ReleaseCompat, SharedTitleResolvesToTheLastIdWithTheQuirk) {
  EXPECT_EQ(kb->id_of_title("Troy"), 7);        // sane: the higher count (20 against 5)
  EXPECT_EQ(kb->id_of_title("Troy", true), 4);  // release: dict((v, k) ...) keeps the last, 4
  EXPECT_EQ(kb->id_of_title("Paris", true), 1);  // unshared titles are the same either way
  EXPECT_FALSE(kb->id_of_title("troy", true));   // exact, case-sensitive
  // In evaluation: the prior links "troy" to 7; the release's gold for "Troy" is 4, so it is wrong.
  PriorLinker prior(*kb);
  std::vector<Mention> ms{{.mention = "Troy", .left_context = "", .right_context = "", .output = "Troy"}};
  EXPECT_EQ(evaluate(prior, *kb, ms).correct, 1u);
  EXPECT_EQ(evaluate(prior, *kb, ms, 64, {}, /*title_last_wins=*/true).correct, 0u);
}

TEST_F(ReleaseCompat, NerNsReleasePoolShrinksByEachMentionsCandidates) {
  const int32_t loc = kb->class_index("LOC");
  // Sane pool of LOC: every described LOC entity, 6 included (it has no count).
  EXPECT_EQ(Ids(kb->described_entities_of_class(loc).begin(), kb->described_entities_of_class(loc).end()),
            (Ids{1, 3, 4, 5, 6}));
  CandidateGenerator::ReleaseNerNsPool pool(*kb);
  EXPECT_EQ(pool.pool_size(loc), 4u);  // the release's pool iterates the count table: no 6
  std::mt19937_64 rng(2);
  Ids ids{1};
  pool.add_negatives(ids, loc, 3, rng);  // removes 1 for good, draws 2 of {3, 4, 5}
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(pool.pool_size(loc), 3u);
  for (size_t i = 1; i < 3; ++i) EXPECT_TRUE(std::set<int64_t>({3, 4, 5}).count(ids[i])) << ids[i];
  EXPECT_NE(ids[1], ids[2]);
  Ids next{3};
  pool.add_negatives(next, loc, 2, rng);  // removes 3: one of {4, 5}
  EXPECT_EQ(pool.pool_size(loc), 2u);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_TRUE(next[1] == 4 || next[1] == 5);
  Ids full{4, 5};
  pool.add_negatives(full, loc, 2, rng);  // K already: no draw, and the pool is left alone
  EXPECT_EQ(pool.pool_size(loc), 2u);
  Ids untyped{8};
  pool.add_negatives(untyped, -1, 3, rng);  // the gold has no class: no negatives
  EXPECT_EQ(untyped.size(), 1u);
}

TEST_F(ReleaseCompat, QuirkNames) {
  EXPECT_THROW(ReleaseQuirks().enable("no-such-quirk"), InvalidArgument);
  EXPECT_EQ(ReleaseQuirks::all().enabled(), ReleaseQuirks::names());
  EXPECT_FALSE(ReleaseQuirks().any());
}

TEST(ReleaseCompatDecoding, ZeroedCandidateCanWinTheTieAsInTheRelease) {
  // Cosines 0.9, 0.1, 0.5; NER-CD keeps only the second. Min-max: 1, 0, 0.5 -> zeroed: 0, 0, 0.
  const std::vector<float> cos{0.9f, 0.1f, 0.5f};
  std::vector<float> norm{1.0f, 0.0f, 0.5f};  // min-max of the cosines
  const std::vector<bool> kept{false, true, false};
  for (size_t i = 0; i < kept.size(); ++i)
    if (!kept[i]) norm[i] = 0;
  // The release's argmax over all-zero scores: index 0, a zeroed candidate.
  EXPECT_EQ(ner_cd_order(cos, norm, kept, /*release_ties=*/true).front(), 0u);
  // Sane: the kept candidate first, then the zeroed ones by cosine.
  EXPECT_EQ(ner_cd_order(cos, norm, kept, false), (std::vector<size_t>{1, 0, 2}));
  // Nothing kept: the constraint cannot hold, rank by cosine.
  EXPECT_EQ(ner_cd_order(cos, {0, 0, 0}, {false, false, false}, false), (std::vector<size_t>{0, 2, 1}));
}

TEST(ReleaseCompatDecoding, SingleCandidateIsReturned) {
  const std::vector<float> norm{std::nanf("")};  // min-max of one score: 0/0, which training skips
  EXPECT_EQ(ner_cd_order({0.3f}, norm, {true}, true), (std::vector<size_t>{0}));
  EXPECT_EQ(ner_cd_order({0.3f}, norm, {true}, false), (std::vector<size_t>{0}));
}

}  // namespace
}  // namespace ner4el

#include "ner4el/train.h"

namespace ner4el {
namespace {

TEST(ReleaseCompatConfig, TrainingYamlTakesReleaseCompatAndAListOfQuirks) {
  test::TempDir dir;
  test::write_file(dir.file("a.yaml"), "k: 40\nrelease_compat: true\n");
  EXPECT_EQ(TrainConfig::from_yaml(dir.file("a.yaml")).quirks.enabled(), ReleaseQuirks::names());
  test::write_file(dir.file("b.yaml"), "release_quirks: [duplicate-ids, ner-ns-pool]\n");
  EXPECT_EQ(TrainConfig::from_yaml(dir.file("b.yaml")).quirks.enabled(),
            (std::vector<std::string>{"duplicate-ids", "ner-ns-pool"}));
  EXPECT_FALSE(TrainConfig{}.quirks.any());
  test::write_file(dir.file("c.yaml"), "k: 40\nrelease_quirks: [no-such]\n");
  try {
    TrainConfig::from_yaml(dir.file("c.yaml"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("c.yaml:2"), std::string::npos) << e.what();
  }
  // The quirks survive the YAML the trainer writes beside its checkpoints.
  auto c = TrainConfig::from_yaml(dir.file("b.yaml"));
  test::write_file(dir.file("d.yaml"), c.to_yaml());
  EXPECT_EQ(TrainConfig::from_yaml(dir.file("d.yaml")).quirks.enabled(), c.quirks.enabled());
}

}  // namespace
}  // namespace ner4el
