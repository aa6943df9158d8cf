#include "ner4el/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "test_util.h"

namespace ner4el {
namespace {

using Pieces = std::vector<std::string>;

WordPieceTokenizer make_tokenizer() {
  auto t = WordPieceTokenizer::from_vocab(test::small_vocab(
      {"hello", "world", ",", "!", "un", "##aff", "##able", "cafe", "naive", "中", "国", "a", "b", "##a", "$", "^",
       "—", "paris", "[", "]", "e", "\\", "##world", "the", "quick", "fox", "'", "s", "don", "t", "1", "##9", "##2"}));
  t.add_special_token("[E]");
  t.add_special_token("[\\E]");
  return t;
}

TEST(Tokenizer, SplitsOnWhitespaceAndPunctuationAndLowercases) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize("Hello, World!"), (Pieces{"hello", ",", "world", "!"}));
  EXPECT_EQ(t.tokenize("  hello\tworld\n"), (Pieces{"hello", "world"}));
  EXPECT_EQ(t.tokenize("don't"), (Pieces{"don", "'", "t"}));
}

TEST(Tokenizer, StripsAccentsThroughNfd) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize("Café"), (Pieces{"cafe"}));
  EXPECT_EQ(t.tokenize("NAÏVE"), (Pieces{"naive"}));
  // Decomposed input (e + combining acute) gives the same.
  EXPECT_EQ(t.tokenize("cafe\xCC\x81"), (Pieces{"cafe"}));
}

TEST(Tokenizer, CjkCharactersAreWords) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize("中国"), (Pieces{"中", "国"}));
  EXPECT_EQ(t.tokenize("a中b"), (Pieces{"a", "中", "b"}));
}

TEST(Tokenizer, PunctuationByUnicodeCategoryAndBertAsciiRanges) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize("hello—world"), (Pieces{"hello", "—", "world"}));  // U+2014 is Pd
  EXPECT_EQ(t.tokenize("a$b"), (Pieces{"a", "$", "b"}));                  // '$' is Sc, in BERT's ASCII ranges
  EXPECT_EQ(t.tokenize("a^b"), (Pieces{"a", "^", "b"}));                  // '^' is Sk, likewise
  EXPECT_EQ(t.tokenize("a«b"), (Pieces{"a", "[UNK]", "b"}));              // U+00AB is Pi: split, unknown
}

TEST(Tokenizer, GreedyLongestMatchWordPiece) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize("unaffable"), (Pieces{"un", "##aff", "##able"}));
  EXPECT_EQ(t.tokenize("1992"), (Pieces{"1", "##9", "##9", "##2"}));
  EXPECT_EQ(t.encode("unaffable"), (std::vector<int>{9, 10, 11}));
}

TEST(Tokenizer, UnknownWordsBecomeOneUnk) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize("unaffablex hello"), (Pieces{"[UNK]", "hello"}));
  EXPECT_EQ(t.tokenize("zebra"), (Pieces{"[UNK]"}));
}

TEST(Tokenizer, WordsOverOneHundredCharactersAreUnknown) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize(std::string(100, 'a')).size(), 100u);
  EXPECT_EQ(t.tokenize(std::string(101, 'a')), (Pieces{"[UNK]"}));
}

TEST(Tokenizer, SpecialTokensAreMatchedBeforeSplittingAndNeverLowercased) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize("[E]Paris[\\E]"), (Pieces{"[E]", "paris", "[\\E]"}));
  EXPECT_EQ(t.tokenize("[CLS]hello world[SEP]"), (Pieces{"[CLS]", "hello", "world", "[SEP]"}));
  // Lower-case look-alikes are ordinary text.
  EXPECT_EQ(t.tokenize("[e]"), (Pieces{"[", "e", "]"}));
  EXPECT_EQ(t.encode("[E]hello[\\E]"), (std::vector<int>{t.size() - 2, 5, t.size() - 1}));
}

TEST(Tokenizer, CleansControlCharactersAndOddWhitespace) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize(std::string("hel\0lo", 6)), (Pieces{"hello"}));
  EXPECT_EQ(t.tokenize("hel\u200Blo"), (Pieces{"hello"}));            // zero-width space is Cf
  EXPECT_EQ(t.tokenize("hello\u00A0world"), (Pieces{"hello", "world"}));  // no-break space is Zs
}

TEST(Tokenizer, InvalidUtf8BytesAreDroppedNotFatal) {
  auto t = make_tokenizer();
  EXPECT_EQ(t.tokenize("hello\xFFworld"), (Pieces{"hello", "##world"}));
  EXPECT_EQ(t.tokenize("\xC3"), (Pieces{}));
}

TEST(Tokenizer, LowerCaseFollowsPython) {
  EXPECT_EQ(lower_case("ΟΔΟΣ"), "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82");  // final sigma
  EXPECT_EQ(lower_case("Σ"), "σ");
  EXPECT_EQ(lower_case("İ"), "i\xCC\x87");
  EXPECT_EQ(lower_case("New YORK"), "new york");
}

TEST(Tokenizer, AddedTokensTakeTheNextIds) {
  test::TempDir dir;
  std::vector<std::string> vocab = test::small_vocab({"hello"});
  std::string txt;
  for (auto& v : vocab) txt += v + "\n";
  test::write_file(dir.file("vocab.txt"), txt);
  auto t = WordPieceTokenizer::from_path(dir.path().string());
  EXPECT_EQ(t.size(), 8);
  EXPECT_EQ(t.token_to_id("[E]"), 6);
  EXPECT_EQ(t.token_to_id("[\\E]"), 7);
  // Re-adding is a no-op returning the existing id.
  EXPECT_EQ(t.add_special_token("[E]"), 6);
}

TEST(Tokenizer, TokenizerJsonMatchesVocabTxt) {
  test::TempDir dir;
  std::vector<std::string> vocab = test::small_vocab({"hello", "world", "##s"});
  nlohmann::json j;
  j["model"]["type"] = "WordPiece";
  for (size_t i = 0; i < vocab.size(); ++i) j["model"]["vocab"][vocab[i]] = i;
  j["added_tokens"] = nlohmann::json::array({{{"id", 0}, {"content", "[PAD]"}}, {{"id", 8}, {"content", "[E]"}}});
  test::write_file(dir.file("tokenizer.json"), j.dump());
  auto t = WordPieceTokenizer::from_path(dir.file("tokenizer.json"));
  EXPECT_EQ(t.token_to_id("[E]"), 8);
  EXPECT_EQ(t.token_to_id("[\\E]"), 9);
  EXPECT_EQ(t.tokenize("[E]Hellos world"), (Pieces{"[E]", "hello", "##s", "world"}));
}

TEST(Tokenizer, BadFilesGiveClearErrors) {
  test::TempDir dir;
  EXPECT_THROW(WordPieceTokenizer::from_path(dir.path().string()), NotFound);
  test::write_file(dir.file("tokenizer.json"), R"({"model": {"type": "BPE", "vocab": {}}})");
  try {
    WordPieceTokenizer::from_path(dir.file("tokenizer.json"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("model.type"), std::string::npos) << e.what();
  }
  test::write_file(dir.file("vocab.txt"), "[PAD]\nhello\n");
  EXPECT_THROW(WordPieceTokenizer::from_path(dir.file("vocab.txt")), InvalidArgument);  // no [UNK]
  test::write_file(dir.file("vocab.txt"), "[PAD]\n[UNK]\n");
  test::write_file(dir.file("added_tokens.json"), R"({"[E]": 7})");
  std::filesystem::remove(dir.file("tokenizer.json"));
  try {
    WordPieceTokenizer::from_path(dir.path().string());
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("next free id 2"), std::string::npos) << e.what();
  }
}

// Every line of the shared benchmark sets tokenizes without error and ids map back to the pieces.
TEST(Tokenizer, SharedDataSetsRoundTrip) {
  std::vector<std::string> tokens;
  for (char c = '!'; c <= '~'; ++c) {
    tokens.emplace_back(1, c);
    if (std::isalnum(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)))
      tokens.push_back(std::string("##") + c);
  }
  for (const char* w : {"the", "of", "and", "in", "to", "new", "york", "president", "##ing", "##ed"})
    tokens.push_back(w);
  auto t = WordPieceTokenizer::from_vocab(test::small_vocab(tokens));
  t.add_special_token("[E]");
  t.add_special_token("[\\E]");
  size_t files = 0, lines = 0, pieces_total = 0, unknown = 0;
  for (const char* name : {"msnbc_test.jsonl", "aquaint_test.jsonl", "ace2004_test.jsonl"}) {
    std::string path = test::shared_data(name);
    if (path.empty()) continue;
    ++files;
    for (const auto& m : read_mentions(path, {.require_output = true})) {
      for (const std::string& text : {"[CLS]" + m.left_context, "[E]" + lower_case(m.mention) + "[\\E]",
                                      m.right_context + "[SEP]"}) {
        std::vector<std::string> pieces;
        auto ids = t.encode(text, &pieces);
        ASSERT_EQ(ids.size(), pieces.size());
        for (size_t i = 0; i < ids.size(); ++i) {
          ASSERT_EQ(t.id_to_token(ids[i]), pieces[i]);
          unknown += ids[i] == t.unk_id();
        }
        pieces_total += ids.size();
      }
      ++lines;
    }
  }
  if (files == 0) GTEST_SKIP() << "../shared/data/ner4el not found";
  EXPECT_EQ(lines, 656u + 727u + 257u);
  EXPECT_GT(pieces_total, lines * 50);
  EXPECT_LT(unknown * 100, pieces_total);  // a character vocabulary covers nearly all text
}

}  // namespace
}  // namespace ner4el
