// BERT WordPiece tokenizer, compatible with Hugging Face's BertTokenizer (slow, uncased).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ner4el/text.h"  // lower_case

namespace ner4el {

/// Options of the tokenizer. Defaults are those of bert-*-uncased.
struct TokenizerOptions {
  bool lower_case = true;              ///< lower-case text that is not a special token
  bool strip_accents = true;           ///< NFD + drop nonspacing marks (HF: follows lower_case)
  bool tokenize_chinese_chars = true;  ///< put spaces around CJK ideographs
  int max_input_chars_per_word = 100;  ///< longer words become [UNK]
  bool add_entity_markers = true;      ///< add "[E]" and "[\E]" (NER4EL) when loading from a path
};

/// Greedy longest-match WordPiece over BERT's basic tokenization.
///
/// Special tokens ([CLS], [SEP], [PAD], [UNK], [MASK] when in the vocabulary, and every token added
/// with add_special_token) are matched in the raw text before anything else, so "[E]Paris[\E]"
/// gives three pieces; they are never lower-cased or split.
///
/// Invalid UTF-8 never throws: each bad byte becomes U+FFFD, which BERT's text cleaning drops.
/// Thread-safety: const methods may be called from many threads at once.
class WordPieceTokenizer {
 public:
  /// Loads a vocabulary from a Hugging Face model folder (tokenizer.json, else vocab.txt, plus
  /// added_tokens.json if present), or from a vocab.txt / tokenizer.json file.
  /// @throws NotFound when nothing usable is there, FormatError on a malformed file.
  static WordPieceTokenizer from_path(const std::string& path, TokenizerOptions options = {});

  /// Builds a tokenizer from a vocabulary in id order (entry i has id i).
  /// @throws InvalidArgument if the vocabulary lacks "[UNK]" or has a duplicate entry.
  static WordPieceTokenizer from_vocab(std::vector<std::string> vocab, TokenizerOptions options = {});

  /// Adds a token matched before splitting; returns its id (the next free id when new).
  int add_special_token(const std::string& token);

  /// Word pieces of text; no [CLS]/[SEP] are added.
  std::vector<std::string> tokenize(std::string_view text) const;
  /// Ids of tokenize(text).
  std::vector<int> encode(std::string_view text) const;
  /// Same as encode, with pieces too (avoids tokenizing twice).
  std::vector<int> encode(std::string_view text, std::vector<std::string>* pieces) const;

  /// Id of a token, or -1 when it is not in the vocabulary.
  int token_to_id(std::string_view token) const;
  /// The token of an id. @throws InvalidArgument when id is out of range.
  const std::string& id_to_token(int id) const;
  /// Number of ids, added tokens included.
  int size() const { return static_cast<int>(vocab_.size()); }

  int unk_id() const { return unk_id_; }
  /// Id of a token that must exist. @throws InvalidArgument naming the token when it does not.
  int require_id(std::string_view token) const;

  const TokenizerOptions& options() const { return options_; }

 private:
  WordPieceTokenizer() = default;
  void index_vocab();
  void tokenize_segment(std::string_view text, std::vector<int>& ids,
                        std::vector<std::string>* pieces) const;
  void wordpiece(const std::u32string& word, std::vector<int>& ids,
                 std::vector<std::string>* pieces) const;

  TokenizerOptions options_;
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int> ids_;
  std::vector<std::string> specials_;  // matched in raw text, longest first
  std::array<bool, 256> special_first_byte_{};  // quick reject before trying specials_
  int unk_id_ = -1;
};

}  // namespace ner4el
