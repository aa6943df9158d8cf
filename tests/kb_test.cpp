#include "ner4el/kb.h"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "ner4el/candidates.h"
#include "ner4el/error.h"
#include "ner4el/pipeline.h"
#include "test_util.h"

namespace ner4el {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<int64_t>;

// Release-format resources from tests/data/make_kb_fixture.py, built into a KB.
class ReleaseKb : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    ASSERT_EQ(test::run(std::string(NER4EL_PYTHON) + " " + NER4EL_TEST_DATA + "/make_kb_fixture.py " + dir.path().string() +
                        " --protocol " + std::to_string(GetParam())),
              0);
    src = {.aliases = dir.file("aliases.pickle"), .descriptions = dir.file("descriptions.csv"),
           .counts = dir.file("counts.csv"), .titles = dir.file("titles.pickle"), .types = dir.file("id2ner.pickle")};
    report = build_knowledge_base(src, dir.file("kb"));
  }
  test::TempDir dir;
  KbSources src;
  KbBuildReport report;
};

TEST_P(ReleaseKb, ContentsAndInfo) {
  auto kb = KnowledgeBase::open(dir.file("kb"));
  const auto& info = kb.info();
  EXPECT_EQ(info.format_version, kKbFormatVersion);
  EXPECT_EQ(info.entities, 8u);
  EXPECT_EQ(info.entities_with_description, 7u);
  EXPECT_EQ(info.aliases, 5u);
  ASSERT_EQ(info.classes.size(), 4u);  // order of first appearance in id2ner
  EXPECT_EQ(info.classes[0], (std::pair<std::string, uint64_t>{"PER", 2}));
  EXPECT_EQ(info.classes[1], (std::pair<std::string, uint64_t>{"LOC", 4}));
  EXPECT_EQ(info.classes[2].first, "SUPER");
  EXPECT_EQ(info.classes[3].first, "ORG");
  auto e = kb.entity(2);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->title, "Paris Hilton");
  EXPECT_EQ(e->description, "Paris Whitney Hilton is an American \"media personality\", businesswoman, and socialite.");
  EXPECT_EQ(e->count, 300);
  EXPECT_EQ(e->ner_class, "PER");
  EXPECT_EQ(kb.entity(3)->description, "Paris is a city in Lamar County,\nTexas, United States.");
  EXPECT_EQ(kb.entity(7)->count, 0);  // missing count
  EXPECT_FALSE(kb.entity(4)->has_description);
  EXPECT_FALSE(kb.entity(99));
  EXPECT_EQ(kb.id_of_title("Paris, Texas"), 3);
  EXPECT_FALSE(kb.id_of_title("Atlantis"));
  EXPECT_EQ(report.dropped_alias_links, 2u);  // entity 4 under "paris" and "ghost"
}

TEST_P(ReleaseKb, CandidatesFollowSpec) {
  auto kb = KnowledgeBase::open(dir.file("kb"));
  CandidateGenerator gen(kb, {.k = 40});
  // No description -> dropped (4); by count; the 300/300 tie keeps the alias-table order (2 before 3).
  EXPECT_EQ(gen.candidates("Paris").ids, (Ids{1, 2, 3}));
  EXPECT_EQ(gen.candidates("PARIS").ids, (Ids{1, 2, 3}));
  EXPECT_EQ(gen.candidates("lincoln").ids, (Ids{5, 6, 7}));
  EXPECT_EQ(gen.candidates("abe").ids, (Ids{5}));  // duplicates in the table appear once
  auto ghost = gen.candidates("ghost");
  EXPECT_TRUE(ghost.ids.empty());
  EXPECT_EQ(ghost.miss, CandidateMiss::NoCandidates);
  EXPECT_EQ(gen.candidates("Atlantis").miss, CandidateMiss::NotInAliasTable);
  CandidateGenerator top2(kb, {.k = 2});
  EXPECT_EQ(top2.candidates("paris").ids, (Ids{1, 2}));
}

INSTANTIATE_TEST_SUITE_P(Protocols, ReleaseKb, ::testing::Values(2, 3, 4, 5));

class OwnKb : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir.file("entities.jsonl"),
                     R"({"id": 1, "title": "Paris", "description": "capital of France", "count": 50, "class": "LOC", "aliases": ["Paris", "City of Light"]})"
                     "\n"
                     R"({"id": 2, "title": "Paris Hilton", "description": "an American socialite", "count": 20, "class": "PER", "aliases": ["Paris"]})"
                     "\n"
                     R"({"id": 3, "title": "Lyon", "description": "a French city", "count": 30, "class": "LOC", "aliases": ["Lyon"]})"
                     "\n"
                     R"({"id": 4, "title": "Marseille", "description": "a port", "count": 5, "class": "LOC"})"
                     "\n"
                     R"({"id": 5, "title": "Nice", "description": "a city on the Riviera", "class": "LOC"})"
                     "\n");
    build_knowledge_base({.entities = dir.file("entities.jsonl")}, dir.file("kb"));
  }
  test::TempDir dir;
};

TEST_F(OwnKb, JsonLinesKbAndNegatives) {
  auto kb = KnowledgeBase::open(dir.file("kb"));
  CandidateGenerator gen(kb, {.k = 4});
  EXPECT_EQ(gen.candidates("paris").ids, (Ids{1, 2}));
  EXPECT_EQ(gen.candidates("city of light").ids, (Ids{1}));
  // Random negatives: fill to K with distinct described entities, deterministic per seed.
  auto ids = gen.candidates("paris").ids;
  std::mt19937_64 rng(2);
  gen.add_negatives(ids, NegativeSampling::Random, -1, rng);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 4u);
  auto again = gen.candidates("paris").ids;
  std::mt19937_64 rng2(2);
  gen.add_negatives(again, NegativeSampling::Random, -1, rng2);
  EXPECT_EQ(ids, again);
  // NER-NS draws only from the gold class: LOC has 1, 3, 4, 5.
  int32_t loc = kb.class_index("LOC");
  for (int seed = 0; seed < 20; ++seed) {
    Ids c{2};
    std::mt19937_64 r(seed);
    gen.add_negatives(c, NegativeSampling::NerNs, loc, r);
    ASSERT_EQ(c.size(), 4u);
    for (size_t i = 1; i < c.size(); ++i) EXPECT_EQ(kb.entity(c[i])->ner_class, "LOC");
  }
  // A class pool smaller than needed gives what it has.
  Ids c{1};
  std::mt19937_64 r(1);
  gen.add_negatives(c, NegativeSampling::NerNs, kb.class_index("PER"), r);
  EXPECT_EQ(c, (Ids{1, 2}));
}

TEST(KbBuild, BadInputNamesFileLineAndFieldAndLeavesNothing) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"), R"({"id": 1, "description": "x"})" "\n" R"({"id": "one", "description": "y"})" "\n");
  try {
    build_knowledge_base({.entities = dir.file("e.jsonl")}, dir.file("kb"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("e.jsonl:2: field 'id': expected an integer, found 'one'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.file("kb")));
  for (auto& p : fs::directory_iterator(dir.path())) EXPECT_EQ(p.path().string().find(".tmp-"), std::string::npos);

  test::write_file(dir.file("d.csv"), "text_id,text\n1,ok\nzz,bad\n");
  test::write_file(dir.file("a.tsv"), "paris\t1\n");
  try {
    build_knowledge_base({.aliases = dir.file("a.tsv"), .descriptions = dir.file("d.csv")}, dir.file("kb"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("d.csv:3: field 'text_id': expected an integer"), std::string::npos) << e.what();
  }
  test::write_file(dir.file("c.csv"), "id,value\n1,2\n");
  try {
    build_knowledge_base({.aliases = dir.file("a.tsv"), .descriptions = dir.file("d.csv"), .counts = dir.file("c.csv")},
                         dir.file("kb"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("c.csv:1: header has no column counts or count"), std::string::npos) << e.what();
  }
}

TEST(KbBuild, RefusesToOverwriteAndMaliciousPicklesImportAsData) {
  test::TempDir dir;
  test::write_file(dir.file("d.tsv"), "1\tParis\n");
  test::write_file(dir.file("a.tsv"), "alias\tids\nparis\t1,2\n");
  build_knowledge_base({.aliases = dir.file("a.tsv"), .descriptions = dir.file("d.tsv")}, dir.file("kb"));
  EXPECT_EQ(KnowledgeBase::open(dir.file("kb")).alias("Paris"), (Ids{1}));
  EXPECT_THROW(build_knowledge_base({.aliases = dir.file("a.tsv"), .descriptions = dir.file("d.tsv")}, dir.file("kb")),
               InvalidArgument);
  const std::string marker = dir.file("pwned");
  test::write_file(dir.file("gen.py"), "import pickle, os\nclass Evil:\n    def __reduce__(self):\n        return (os.system, ('touch " +
                                           marker + "',))\nopen('" + dir.file("evil.pickle") +
                                           "', 'wb').write(pickle.dumps({'paris': Evil()}))\n");
  ASSERT_EQ(test::run(std::string(NER4EL_PYTHON) + " " + dir.file("gen.py")), 0);
  try {
    build_knowledge_base({.aliases = dir.file("evil.pickle"), .descriptions = dir.file("d.tsv")}, dir.file("kb2"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("alias 'paris': expected a list of ids, found posix.system"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(marker));
}

// Rewrites the version in a KB's info record, as an older or newer ner4el would have written it.
void set_format_version(const std::string& dir, int version) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), MDB_NOLOCK, 0644), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi meta;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
  MDB_val k{4, const_cast<char*>("info")}, v;
  ASSERT_EQ(mdb_get(txn, meta, &k, &v), 0);
  auto j = nlohmann::json::parse(std::string(static_cast<const char*>(v.mv_data), v.mv_size));
  j["format_version"] = version;
  std::string text = j.dump();
  MDB_val nv{text.size(), text.data()};
  ASSERT_EQ(mdb_put(txn, meta, &k, &nv, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

TEST(KbOpen, MissingOlderAndFutureVersions) {
  test::TempDir dir;
  EXPECT_THROW(KnowledgeBase::open(dir.path().string()), NotFound);
  test::write_file(dir.file("d.tsv"), "1\tParis\n2\tParis Hilton\n");
  test::write_file(dir.file("a.tsv"), "paris\t2,1\n");
  test::write_file(dir.file("c.tsv"), "1\t9\n2\t3\n");
  KbSources src;
  src.aliases = dir.file("a.tsv");
  src.descriptions = dir.file("d.tsv");
  src.counts = dir.file("c.tsv");
  build_knowledge_base(src, dir.file("kb"));
  EXPECT_TRUE(fs::exists(dir.file("kb/aliases.hash")));
  EXPECT_EQ(KnowledgeBase::open(dir.file("kb")).alias("PARIS"), (Ids{1, 2}));
  // Version 2 needs its hash file.
  fs::rename(dir.file("kb/aliases.hash"), dir.file("aliases.hash"));
  try {
    KnowledgeBase::open(dir.file("kb"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("aliases.hash is missing"), std::string::npos) << e.what();
  }
  // A version 1 KB (no hash file) is read through its B-tree, with the same answers.
  set_format_version(dir.file("kb"), 1);
  EXPECT_EQ(KnowledgeBase::open(dir.file("kb")).alias("paris"), (Ids{1, 2}));
  EXPECT_FALSE(KnowledgeBase::open(dir.file("kb")).alias("lyon"));
  set_format_version(dir.file("kb"), 99);
  try {
    KnowledgeBase::open(dir.file("kb"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("format version 99"), std::string::npos) << e.what();
  }
  // A version 2 KB has no release views: the release's alias quirks ask for a rebuild.
  set_format_version(dir.file("kb"), 2);
  fs::copy_file(dir.file("aliases.hash"), dir.file("kb/aliases.hash"));
  {
    auto kb2 = KnowledgeBase::open(dir.file("kb"));
    EXPECT_FALSE(kb2.has_release_views());
    ReleaseQuirks q;
    q.enable("exact-alias-keys");
    EXPECT_THROW(CandidateGenerator(kb2, {.quirks = q}), InvalidArgument);
    EXPECT_NO_THROW(CandidateGenerator(kb2, {}));
  }
  // A truncated hash file is refused, not read past its end.
  std::string bytes = test::read_file(dir.file("aliases.hash"));
  test::write_file(dir.file("kb/aliases.hash"), bytes.substr(0, 60));
  EXPECT_THROW(KnowledgeBase::open(dir.file("kb")), FormatError);
}

}  // namespace
}  // namespace ner4el

#include "kb/alias_hash.h"

namespace ner4el {
namespace {

// A corrupt aliases.hash (issue #11): a full slot table once made look-ups loop forever, a tagged
// slot with offset 0 read before the data. Both are now errors naming the file.
TEST(KbHostile, CorruptAliasHashGivesErrorsNotHangs) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"), R"({"id": 1, "title": "Paris", "description": "a city", "aliases": ["Paris", "Lutetia"]})" "\n");
  KbSources src;
  src.entities = dir.file("e.jsonl");
  build_knowledge_base(src, dir.file("kb"));
  const std::string hash = dir.file("kb/aliases.hash");
  const std::string good = test::read_file(hash);
  uint64_t n;
  std::memcpy(&n, good.data() + 16, 8);
  auto with_slots = [&](uint64_t value) {
    std::string b = good;
    for (uint64_t i = 0; i < n; ++i) std::memcpy(b.data() + 40 + i * 8, &value, 8);
    test::write_file(hash, b);
  };
  auto expect_error = [&](const std::string& key, const std::string& what) {
    auto kb = KnowledgeBase::open(dir.file("kb"));
    try {
      kb.alias(key);
      FAIL() << "no error for " << key;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("aliases.hash"), std::string::npos) << e.what();
    }
  };
  // Every slot taken by a record of another tag: no empty slot to stop the probe.
  const uint64_t other_tag = ((kb::alias_hash("nowhere") >> 48) ^ 1) << 48;
  with_slots(other_tag | 1);
  expect_error("nowhere", "no empty slot");
  // The key's own tag with offset 0.
  with_slots((kb::alias_hash("nowhere") >> 48) << 48);
  expect_error("nowhere", "has a tag but no record");
  // The key's tag with an offset far past the data.
  with_slots(((kb::alias_hash("nowhere") >> 48) << 48) | ((1ull << 48) - 1));
  expect_error("nowhere", "out of range");
  // More entries announced than slots.
  std::string b = good;
  std::memcpy(b.data() + 24, &n, 8);
  test::write_file(hash, b);
  EXPECT_THROW(KnowledgeBase::open(dir.file("kb")), FormatError);
  test::write_file(hash, good);
  EXPECT_EQ(KnowledgeBase::open(dir.file("kb")).alias("lutetia")->size(), 1u);
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// A truncated or foreign data.mdb once crashed inside LMDB (SIGBUS on the first read past its end).
TEST(KbHostile, TruncatedOrForeignStoreIsRefusedBeforeLmdbReadsIt) {
  test::TempDir dir;
  std::string lines;
  for (int i = 1; i <= 3000; ++i)
    lines += R"({"id": )" + std::to_string(i) + R"(, "title": "E)" + std::to_string(i) + R"(", "description": ")" +
             std::string(200, 'x') + R"(", "aliases": ["a)" + std::to_string(i) + R"("]})" "\n";
  test::write_file(dir.file("e.jsonl"), lines);
  KbSources src;
  src.entities = dir.file("e.jsonl");
  build_knowledge_base(src, dir.file("kb"));
  const std::string store = dir.file("kb/data.mdb");
  const std::string good = test::read_file(store);
  ASSERT_GT(good.size(), 100000u);
  auto expect_refused = [&](const std::string& bytes, const std::string& what) {
    test::write_file(store, bytes);
    try {
      KnowledgeBase::open(dir.file("kb"));
      FAIL() << what;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("rebuild it"), std::string::npos) << e.what();
    }
  };
  expect_refused(good.substr(0, good.size() / 2), "is truncated");
  expect_refused(std::string(good.size(), 'x'), "has no LMDB meta page");
  expect_refused(good.substr(0, 100), "too short");
  test::write_file(store, good);
  EXPECT_EQ(KnowledgeBase::open(dir.file("kb")).entity(2999)->title, "E2999");

  // Crafted pages (LMDB trusts them: one made it loop for minutes, others read past the file): the
  // page walk at open names the page. Pages: 16-byte header (number, pad, flags, lower, upper), then
  // 2-byte node offsets; a node: size or child page (4 bytes), flags (2), key size (2), key, data.
  const size_t psize = 4096;
  auto u16 = [](const std::string& b, size_t at) { return uint16_t(uint8_t(b[at]) | uint8_t(b[at + 1]) << 8); };
  auto put16 = [](std::string& b, size_t at, uint16_t v) { b[at] = char(v & 0xff); b[at + 1] = char(v >> 8); };
  size_t leaf = 0, branch = 0;
  for (size_t pg = 2; pg * psize < good.size(); ++pg) {
    const uint16_t flags = u16(good, pg * psize + 10);
    if (flags == 0x02 && !leaf) leaf = pg;
    if (flags == 0x01 && !branch) branch = pg;
  }
  ASSERT_TRUE(leaf && branch) << "the test KB should have branch and leaf pages";
  std::string b = good;
  put16(b, leaf * psize + 10, 0x40);
  expect_refused(b, "page " + std::to_string(leaf) + ": neither a branch nor a leaf page");
  b = good;
  put16(b, leaf * psize + 12, 4);
  expect_refused(b, "page header bounds out of place");
  b = good;
  put16(b, leaf * psize + u16(good, leaf * psize + 16) + 6, 60000);  // first node's key size
  expect_refused(b, "runs past the page");
  b = good;
  const size_t child = branch * psize + u16(good, branch * psize + 16);  // the branch's first child
  put16(b, child, uint16_t(branch & 0xffff));
  put16(b, child + 2, uint16_t(branch >> 16));
  put16(b, child + 4, 0);
  expect_refused(b, "reached twice");
}

// With the page walk switched off (as for a KB over 256 MiB), LMDB reading past the file's end
// (SIGBUS) is caught by the fault guard and becomes the same error. The inputs are the fuzzer's
// findings (fuzz/corpus/kb_open/regression-bus-*), data.mdb files of its two-entity seed KB.
// A KB's aliases.hash cut short in place while the KB is open (a rebuild into the same folder by
// hand, a full disk) faults on the pages past its new end: each look-up is an error naming the
// file, and the process lives on (it died of SIGBUS).
TEST(KbHostile, AliasHashCutShortUnderAnOpenKbGivesErrors) {
  test::TempDir dir;
  std::string lines;
  for (int i = 1; i <= 2000; ++i)
    lines += R"({"id": )" + std::to_string(i) + R"(, "title": "T)" + std::to_string(i) + R"(", "description": "d", "aliases": ["alias )" +
             std::to_string(i) + "\"]}\n";
  test::write_file(dir.file("e.jsonl"), lines);
  KbSources src;
  src.entities = dir.file("e.jsonl");
  build_knowledge_base(src, dir.file("kb"));
  auto kb = KnowledgeBase::open(dir.file("kb"));
  ASSERT_TRUE(kb.alias("alias 1500"));
  std::filesystem::resize_file(dir.file("kb/aliases.hash"), 0);
  for (const char* key : {"alias 1500", "alias 7", "nothing"}) {
    try {
      (void)kb.alias(key);
      ADD_FAILURE() << key << ": no error";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("aliases.hash: the alias hash was cut short or rewritten while open"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(kb.entity(1500));  // the rest of the KB still answers
}

TEST(KbHostile, FaultsInsideLmdbBecomeErrors) {
  test::TempDir dir;
  test::write_file(dir.file("e.jsonl"),
                   R"({"id": 1, "title": "Paris", "description": "capital of France", "count": 50, "class": "LOC", "aliases": ["Paris"]})" "\n"
                   R"({"id": 2, "title": "Paris Hilton", "description": "a socialite", "count": 20, "class": "PER", "aliases": ["Paris", "Hilton"]})" "\n");
  KbSources src;
  src.entities = dir.file("e.jsonl");
  build_knowledge_base(src, dir.file("kb"));
  setenv("NER4EL_KB_VERIFY", "0", 1);
  for (const char* name : {"regression-bus-past-end", "regression-bus-txn-begin"}) {
    test::write_file(dir.file("kb/data.mdb"), test::read_file(std::string(NER4EL_SOURCE_DIR) + "/fuzz/corpus/kb_open/" + name));
    std::string error;
    try {
      auto kb = KnowledgeBase::open(dir.file("kb"));
      for (int64_t id : {1, 2, 3}) (void)kb.entity(id);
      (void)kb.id_of_title("Paris");
    } catch (const FormatError& e) {
      error = e.what();
    }
    EXPECT_NE(error.find("corrupt knowledge base"), std::string::npos) << name << ": " << error;
  }
  unsetenv("NER4EL_KB_VERIFY");
  // And with the walk, they are refused before LMDB reads a page.
  test::write_file(dir.file("kb/data.mdb"), test::read_file(std::string(NER4EL_SOURCE_DIR) + "/fuzz/corpus/kb_open/regression-bus-past-end"));
  EXPECT_THROW(KnowledgeBase::open(dir.file("kb")), FormatError);
}

}  // namespace
}  // namespace ner4el

namespace ner4el {
namespace {

// Text enters the KB once, at the build: invalid UTF-8 in a description, a title or an alias is
// replaced by U+FFFD there (with a warning), so every query of the KB gives valid text (such a KB
// once made every query abort).
TEST(KbBuild, InvalidUtf8IsReplacedWhereTextEnters) {
  test::TempDir dir;
  test::write_file(dir.file("d.tsv"), "1\tPar\xff\xfeis is a city\n2\tParis Hilton\n");
  test::write_file(dir.file("t.tsv"), "1\tPar\xc3is\n2\tParis Hilton\n");
  test::write_file(dir.file("a.tsv"), "paris\t1,2\npar\xe2\x82is\t1\n");
  KbSources src;
  src.aliases = dir.file("a.tsv");
  src.descriptions = dir.file("d.tsv");
  src.titles = dir.file("t.tsv");
  auto rep = build_knowledge_base(src, dir.file("kb"));
  bool warned = false;
  for (const auto& w : rep.warnings) warned |= w.find("invalid UTF-8") != std::string::npos;
  EXPECT_TRUE(warned);
  auto kb = KnowledgeBase::open(dir.file("kb"));
  auto e = kb.entity(1);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->description, "Par\xef\xbf\xbd\xef\xbf\xbdis is a city");
  EXPECT_EQ(e->title, "Par\xef\xbf\xbdis");
  EXPECT_EQ(valid_utf8(e->title), e->title);
  EXPECT_TRUE(kb.alias("par\xef\xbf\xbd\xef\xbf\xbdis"));  // one U+FFFD per bad byte
  EXPECT_EQ(kb.entity(2)->title, "Paris Hilton");
}

}  // namespace
}  // namespace ner4el
