#include "ner4el/inputs.h"

#include <gtest/gtest.h>

#include "ner4el/error.h"
#include "test_util.h"

namespace ner4el {
namespace {

using Ids = std::vector<int>;

// [PAD]0 [UNK]1 [CLS]2 [SEP]3 [MASK]4 paris5 is6 the7 capital8 of9 france10 .11 in12 europe13 a14
// city15 loc16 [E]17 [\E]18
WordPieceTokenizer make_tokenizer() {
  auto t = WordPieceTokenizer::from_vocab(test::small_vocab(
      {"paris", "is", "the", "capital", "of", "france", ".", "in", "europe", "a", "city", "loc"}));
  EXPECT_EQ(t.add_special_token("[E]"), 17);
  EXPECT_EQ(t.add_special_token("[\\E]"), 18);
  return t;
}

const char* kLeft = "the capital of France is";
const char* kRight = "a city in Europe.";

TEST(MentionInput, ReleaseBehaviourWorkedByHand) {
  auto t = make_tokenizer();
  InputEncoder enc(t, {.window = 8});
  auto in = enc.encode_mention(kLeft, "Paris", kRight);
  // L = [CLS] the capital of | france is (first W/2 = 4 kept), M = [E] paris [\E],
  // R = a city in europe | . [SEP] (first 4 kept: the final [SEP] is lost). Longer than W: not cut.
  EXPECT_EQ(in.ids, (Ids{2, 7, 8, 9, 17, 5, 18, 14, 15, 12, 13}));
  EXPECT_EQ(in.mention_position, 5);
  EXPECT_EQ(in.ids[in.mention_position], 5);  // "paris"
  EXPECT_EQ(in.attention_mask, Ids(11, 1));
}

TEST(MentionInput, FixedTruncationKeepsNearestLeftAndFinalSep) {
  auto t = make_tokenizer();
  InputEncoder enc(t, {.window = 8, .quirk_left_keeps_farthest = false, .quirk_right_may_drop_sep = false});
  auto in = enc.encode_mention(kLeft, "Paris", kRight);
  EXPECT_EQ(in.ids, (Ids{2, 9, 10, 6, 17, 5, 18, 14, 15, 12, 3}));
  EXPECT_EQ(in.mention_position, 5);
}

TEST(MentionInput, ShortInputIsPaddedAndMasked) {
  auto t = make_tokenizer();
  InputEncoder enc(t, {.window = 8});
  auto in = enc.encode_mention("", "PARIS", ".");
  EXPECT_EQ(in.ids, (Ids{2, 17, 5, 18, 11, 3, 0, 0}));
  EXPECT_EQ(in.attention_mask, (Ids{1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(in.mention_position, 2);
}

TEST(MentionInput, LongMentionIsCutToHalfWindow) {
  auto t = make_tokenizer();
  InputEncoder enc(t, {.window = 8});
  auto in = enc.encode_mention("", "paris paris paris paris", "");
  // M = [E] paris paris paris | paris [\E]
  EXPECT_EQ(in.ids, (Ids{2, 17, 5, 5, 5, 3, 0, 0}));
}

TEST(EntityInput, NerRPrefixAndReleaseCut) {
  auto t = make_tokenizer();
  InputEncoder enc(t, {.window = 8});
  auto in = enc.encode_entity("Paris is the capital of France.", "LOC");
  // [CLS] loc [SEP] paris is the capital of | france . [SEP]: cut to W, the [SEP] is lost.
  EXPECT_EQ(in.ids, (Ids{2, 16, 3, 5, 6, 7, 8, 9}));
  EXPECT_EQ(in.attention_mask, Ids(8, 1));
}

TEST(EntityInput, FixedCutKeepsSep) {
  auto t = make_tokenizer();
  InputEncoder enc(t, {.window = 8, .quirk_entity_cut_drops_sep = false});
  EXPECT_EQ(enc.encode_entity("Paris is the capital of France.", "LOC").ids, (Ids{2, 16, 3, 5, 6, 7, 8, 3}));
}

TEST(EntityInput, NoClassAndNoNerR) {
  auto t = make_tokenizer();
  InputEncoder with(t, {.window = 8});
  EXPECT_EQ(with.encode_entity("Paris is", "").ids, (Ids{2, 3, 5, 6, 3, 0, 0, 0}));
  InputEncoder without(t, {.window = 8, .ner_r = false});
  auto in = without.encode_entity("Paris is", "LOC");
  EXPECT_EQ(in.ids, (Ids{2, 5, 6, 3, 0, 0, 0, 0}));
  EXPECT_EQ(in.attention_mask, (Ids{1, 1, 1, 1, 0, 0, 0, 0}));
}

TEST(InputEncoder, RequiresEntityMarkers) {
  auto t = WordPieceTokenizer::from_vocab(test::small_vocab({"paris"}));
  try {
    InputEncoder enc(t);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("[E]"), std::string::npos);
  }
}

}  // namespace
}  // namespace ner4el
