#include "ner4el/wordnet.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ner4el/candidates.h"
#include "ner4el/error.h"
#include "ner4el/linker.h"
#include "test_util.h"

namespace ner4el {
namespace {

// WordNet and the typer load once for the whole suite (about a second).
class WordNetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    wn_ = new WordNet(WordNet::load());
    typer_ = new NerTyper(*wn_, std::string(NER4EL_SOURCE_DIR) + "/conf/wordnet_classes.tsv");
  }
  static void TearDownTestSuite() {
    delete typer_;
    delete wn_;
  }
  static WordNet* wn_;
  static NerTyper* typer_;
};
WordNet* WordNetTest::wn_ = nullptr;
NerTyper* WordNetTest::typer_ = nullptr;

TEST_F(WordNetTest, ReadsTheNounDatabase) {
  EXPECT_GT(wn_->size(), 80000u);
  EXPECT_EQ(wn_->instances().size(), 7730u);  // wordnet-base 3.0's named-entity instances
  auto person = wn_->find("person.n.01");
  ASSERT_TRUE(person);
  EXPECT_EQ(wn_->synset(*person)->gloss.rfind("a human being", 0), 0u);
  // "paris" has four noun senses; the French capital is the first.
  const auto& paris = wn_->senses("Paris");
  ASSERT_EQ(paris.size(), 4u);
  EXPECT_EQ(wn_->synset(paris[0])->gloss.rfind("the capital and largest city of France", 0), 0u);
  EXPECT_GT(wn_->synset(paris[0])->tag_count, 0u);  // from cntlist.rev
  EXPECT_EQ(wn_->base_forms("children"), (std::vector<std::string>{"child"}));  // noun.exc
  EXPECT_EQ(wn_->base_forms("cities"), (std::vector<std::string>{"city"}));      // -ies -> -y
  EXPECT_TRUE(wn_->base_forms("qwertyuiop").empty());
}

TEST_F(WordNetTest, MissingDatabaseIsAClearError) {
  try {
    WordNet::load("/nonexistent");
    FAIL();
  } catch (const NotFound& e) {
    EXPECT_NE(std::string(e.what()).find("wordnet-base"), std::string::npos) << e.what();
  }
}

TEST_F(WordNetTest, TypesDescriptionsOfEveryClass) {
  const std::pair<const char*, const char*> cases[] = {
      {"an American singer and actress", "PER"},
      {"Paris is the capital and most populous city of France.", "LOC"},
      {"a river in Africa", "LOC"},
      {"an American rock band", "ORG"},
      {"a German automobile manufacturer", "ORG"},
      {"a breed of dog", "ANIM"},
      {"a species of bird", "ANIM"},
      {"a bacterium that lives in the gut", "BIO"},
      {"an organ of the body", "BIO"},
      {"the fourth planet from the Sun", "CEL"},
      {"an infectious disease caused by a virus", "DIS"},
      {"a battle of the Second World War", "EVE"},
      {"a cheese made from sheep's milk", "FOOD"},
      {"a device for measuring air pressure", "INST"},
      {"a 1994 novel by Stephen King", "MEDIA"},
      {"the official currency of the European Union", "MON"},
      {"a prime number", "NUM"},
      {"a tropical storm in the Atlantic", "PHYS"},
      {"a kind of tree", "PLANT"},
      {"a Roman goddess of love", "SUPER"},
      {"the ninth month of the Gregorian calendar", "TIME"},
      {"a submarine of the US Navy", "VEHI"},
  };
  for (auto [text, cls] : cases) EXPECT_EQ(typer_->type_description(text), cls) << text;
  EXPECT_EQ(typer_->head_noun("an American singer and actress"), "singer");
  // A compound WordNet knows beats its head's first sense (plant: an industrial plant).
  EXPECT_EQ(typer_->type_description("a flowering plant"), "PLANT");
  // Newspapers are print media (MEDIA), not the instrumentality the hypernym path reaches first.
  EXPECT_EQ(typer_->type_description("a daily newspaper published in London"), "MEDIA");
  // Agreement with WordNet's own instance hypernyms over its 7,535 typed named entities (README):
  // 80.4% with the first classed sense alone; the compounds and the context raise it.
  size_t agree = 0, total = 0;
  for (uint32_t off : wn_->instances()) {
    const std::string want = typer_->type_synset(off);
    if (want.empty()) continue;
    ++total;
    agree += typer_->type_description(wn_->synset(off)->gloss) == want;
  }
  EXPECT_GT(static_cast<double>(agree) / total, 0.81) << agree << " of " << total;
  EXPECT_EQ(typer_->type_description(""), "");
  EXPECT_EQ(typer_->type_description("qwerty zxcvb"), "");
}

TEST_F(WordNetTest, TypesSynsetsByHypernymPaths) {
  const auto& paris = wn_->senses("paris");
  EXPECT_EQ(typer_->type_synset(paris[0]), "LOC");    // the French capital
  EXPECT_EQ(typer_->type_synset(*wn_->find("lincoln.n.01")), "PER");
  EXPECT_EQ(typer_->type_synset(*wn_->find("dog.n.01")), "ANIM");
}

TEST_F(WordNetTest, MappingFileErrorsNameTheLine) {
  test::TempDir dir;
  test::write_file(dir.file("m.tsv"), "# comment\nperson.n.01\tPER\nnosuchthing.n.01\tLOC\n");
  try {
    NerTyper t(*wn_, dir.file("m.tsv"));
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("m.tsv:3: WordNet has no noun sense 'nosuchthing.n.01'"), std::string::npos) << e.what();
  }
}

TEST_F(WordNetTest, DefaultKbHasParisAndLincoln) {
  test::TempDir dir;
  build_wordnet_kb(*wn_, *typer_, dir.file("kb"));
  auto kb = KnowledgeBase::open(dir.file("kb"));
  EXPECT_EQ(kb.info().entities, 7730u);
  CandidateGenerator gen(kb);
  auto paris = gen.candidates("Paris").ids;
  ASSERT_GE(paris.size(), 3u);
  auto capital = kb.entity(paris[0]);
  EXPECT_EQ(capital->title, "Paris");
  EXPECT_EQ(capital->ner_class, "LOC");
  EXPECT_NE(capital->description.find("capital and largest city of France"), std::string::npos);
  bool president = false;
  for (int64_t id : gen.candidates("lincoln").ids) {
    auto e = kb.entity(id);
    president |= e->ner_class == "PER" && e->description.find("16th President") != std::string::npos;
  }
  EXPECT_TRUE(president);
  // Multi-word lemmas become space-separated aliases; titles are unique.
  EXPECT_FALSE(gen.candidates("abraham lincoln").ids.empty());
  EXPECT_TRUE(kb.id_of_title("Paris (mythical being)"));
  // The count prior links the capital.
  PriorLinker linker(kb);
  auto r = linker.link({.mention = "Paris", .left_context = "flew to", .right_context = "", .output = "Paris"});
  ASSERT_FALSE(r.ranked.empty());
  EXPECT_EQ(r.ranked[0].title, "Paris");
  EXPECT_EQ(r.gold_rank, 0u);
}

}  // namespace
}  // namespace ner4el
