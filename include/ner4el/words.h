// Words of a text as BERT's basic tokenizer splits them, with their offsets: the units the NER
// tagger labels.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace ner4el {

/// One word: [start, end) in code points and [byte_start, byte_end) in bytes of the text.
struct Word {
  size_t start = 0, end = 0;
  size_t byte_start = 0, byte_end = 0;
};

/// BERT's basic tokenization with offsets: whitespace separates words, each punctuation mark (ASCII
/// symbols and Unicode P*) and each CJK ideograph is a word of its own, control characters (which
/// BERT drops) belong to no word. text must be valid UTF-8 (valid_utf8).
std::vector<Word> split_words(std::string_view text);

/// The shape of a word, as the tagger's head sees it (the pretrained encoders are uncased):
/// 0 lower-case, 1 capitalised ("Paris"), 2 upper-case ("NATO", two letters or more), 3 one capital
/// letter ("A"), 4 mixed ("iPhone", "McDonald"), 5 digits only, 6 letters and digits ("F-16" parts,
/// "1990s"), 7 punctuation, 8 anything else.
int word_shape(std::string_view word);
inline constexpr int kWordShapes = 9;

}  // namespace ner4el
