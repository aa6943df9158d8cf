// Named-entity recognition: a tagger that labels the words of a text (BIO over the types it was
// trained on, CoNLL-2003's PER, LOC, ORG, MISC for the shipped one) with a small head over a frozen
// pretrained encoder, and gives typed spans with code-point offsets.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ner4el/model.h"
#include "ner4el/text.h"

namespace ner4el {

namespace train {
class TaggerTrainee;  // the trainer's access to the head (src/model/tagger_impl.h)
}

/// How a text is cut for the encoder.
struct TaggerOptions {
  int window = 256;  ///< word pieces per encoder window, [CLS] and [SEP] included (at most the model's positions)
  int margin = 64;   ///< pieces of context a window shares with its neighbour on each side
  int batch = 8;     ///< windows per encoder call
};

/// A trained tagger: its head (tagger.json + head.safetensors) over the encoder it was trained on.
/// Thread-safe for concurrent const calls.
class Tagger {
 public:
  /// Loads a tagger folder. encoder: the encoder the head was trained on (a Hugging Face or ner4el
  /// folder); "" for the installed pretrained model (default_model_dir). options: device, dtype.
  /// @throws NotFound, FormatError naming the file and field, InvalidArgument when the encoder's
  /// weights are not those the head was trained on (their fingerprint differs).
  static Tagger load(const std::string& dir, const std::string& encoder = "", const LoadOptions& options = {});
  ~Tagger();
  Tagger(Tagger&&) noexcept;
  Tagger& operator=(Tagger&&) noexcept;

  /// Writes the tagger folder (tagger.json, head.safetensors) atomically; info goes into
  /// tagger.json's "training" field.
  void save(const std::string& dir, const std::string& info_json = "{}") const;

  /// Typed spans of a text: offsets into valid_utf8(text) (code points and bytes), mention, type,
  /// detection_score = the mean probability of the span's tags. Any length: the text is encoded
  /// in overlapping windows, each word labelled in the window where it has the most context, and
  /// decoded window by window (BIO-constrained Viterbi), so memory does not grow with the text.
  std::vector<TextSpan> tag(std::string_view text) const;
  /// tag() of many texts; their windows share encoder batches.
  std::vector<std::vector<TextSpan>> tag(const std::vector<std::string>& texts) const;

  /// The entity types, in the order of the head's outputs (tag 0 is O, then B-type, I-type).
  const std::vector<std::string>& types() const;
  const TaggerOptions& options() const;
  /// The encoder (for sharing it with a linker of the same weights).
  const LinkerModel& encoder() const;

  struct Impl;

 private:
  friend class train::TaggerTrainee;
  explicit Tagger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ner4el
