// Model inputs of the bi-encoder (docs/reference.md "Input encoding").
#pragma once

#include <string_view>
#include <vector>

#include "ner4el/tokenizer.h"

namespace ner4el {

/// How mention and entity texts become fixed-size id sequences. Defaults reproduce the release.
struct InputOptions {
  int window = 128;  ///< W: mention inputs are built from halves of W; entity inputs are cut to W
  /// Release quirk: the left context keeps its first W/2 pieces (the farthest from the mention).
  /// false: keep [CLS] plus the last W/2-1 pieces (those next to the mention).
  bool quirk_left_keeps_farthest = true;
  /// Release quirk: the right context is cut after appending [SEP], which can drop it.
  /// false: cut the right context to W/2-1 pieces, then append [SEP].
  bool quirk_right_may_drop_sep = true;
  /// Release quirk: "[CLS] text [SEP]" is cut to W, which drops [SEP] on long descriptions.
  /// false: cut the text to W-2 pieces, keeping [SEP].
  bool quirk_entity_cut_drops_sep = true;
  bool ner_r = true;  ///< NER-R: prefix the entity text with "CLASS[SEP]"
  /// Pretrained sentence-embedding style (a model read by mean pooling, such as all-MiniLM-L6-v2):
  /// a mention is "[CLS] context window [SEP]" of plain text centred on the mention, no [E]/[\E]
  /// (rows a pretrained model never learnt), mention_position at its first piece; an entity is
  /// "[CLS] title: description [SEP]" (parentheses of the title dropped). The quirks and NER-R above
  /// concern the release style only.
  bool sentence_style = false;
};

/// One mention's encoder input. ids.size() >= window (longer when the three parts exceed it).
struct MentionInput {
  std::vector<int> ids;             ///< L + M + R, padded with 0 to the window
  std::vector<int> attention_mask;  ///< 1 where ids != 0
  int mention_position = 0;         ///< index of the first word piece of the mention (after [E])
};

/// One entity's encoder input; ids.size() == window.
struct EntityInput {
  std::vector<int> ids;
  std::vector<int> attention_mask;
};

/// Drops the trailing padding of an entity input. Padding is masked, so the encoder's [CLS] vector
/// is the same (up to float rounding); shorter inputs make batches of short descriptions cheaper.
void trim_padding(EntityInput& input);
/// The same for a mention input (the mention position is unchanged).
void trim_padding(MentionInput& input);

/// Builds encoder inputs. Holds a reference to the tokenizer, which must outlive it.
/// Thread-safe for concurrent const calls.
class InputEncoder {
 public:
  /// @throws InvalidArgument if the tokenizer lacks [CLS], [SEP], [E] or [\E], or window < 4.
  InputEncoder(const WordPieceTokenizer& tokenizer, InputOptions options = {});

  MentionInput encode_mention(std::string_view left_context, std::string_view mention,
                              std::string_view right_context) const;
  /// ner_class is "" for an entity without a class; ignored unless options.ner_r. title is used by
  /// the sentence style only.
  EntityInput encode_entity(std::string_view description, std::string_view ner_class = "",
                            std::string_view title = "") const;

  const InputOptions& options() const { return options_; }
  const WordPieceTokenizer& tokenizer() const { return tokenizer_; }

 private:
  const WordPieceTokenizer& tokenizer_;
  InputOptions options_;
  int cls_, sep_;
};

}  // namespace ner4el
