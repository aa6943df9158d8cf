// Internals of the NER tagger, shared by tagger.cpp and its trainer (internal header).
#pragma once

#include <torch/torch.h>

#include <string>
#include <string_view>
#include <vector>

#include "ner4el/dataset.h"
#include "ner4el/tagger.h"
#include "ner4el/torch/bert.h"
#include "ner4el/words.h"

namespace ner4el {

/// The head over the frozen encoder: a softmax-weighted mix of the encoder's hidden states (ELMo's
/// scalar mix) at each word's first piece, with the word's shape embedded (the encoders are uncased),
/// a bidirectional LSTM over the words of a window, and a linear layer to the tags.
struct TaggerHeadConfig {
  int states = 7;         ///< hidden states mixed (layers + 1)
  int hidden = 384;       ///< the encoder's hidden size
  int shape_dim = 32;     ///< word-shape embedding
  int lstm = 192;         ///< LSTM units per direction
  int tags = 9;           ///< 1 + 2 * types
  double dropout = 0.3;
};

struct TaggerHeadImpl : torch::nn::Module {
  explicit TaggerHeadImpl(const TaggerHeadConfig& c);
  /// states [B, T, S, H] (hidden states of each word's first piece), shapes [B, T] int64, lengths
  /// [B] int64 (words of each row; rows padded to T) -> tag scores [B, T, tags].
  torch::Tensor forward(const torch::Tensor& states, const torch::Tensor& shapes, const torch::Tensor& lengths);
  TaggerHeadConfig config;
  torch::Tensor mix, scale;
  torch::nn::Embedding shape{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear out{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(TaggerHead);

/// A text as words with their pieces.
struct TaggedText {
  std::vector<Word> words;
  std::vector<std::vector<int>> pieces;  ///< each word's piece ids (a word with none is dropped)
  std::vector<int64_t> shapes;           ///< word_shape of each word, + kWordShapes at a line's start
};
/// Splits text (valid UTF-8) into words, their pieces (at most `cap` per word: a longer word keeps
/// its first) and shapes.
TaggedText prepare_text(std::string_view text, const WordPieceTokenizer& tokenizer, int cap);

/// One encoder window: words [first, last), of which [own_first, own_last) are labelled from it.
struct TaggerWindow {
  size_t first = 0, last = 0, own_first = 0, own_last = 0;
};
/// Windows of at most `window - 2` pieces over words with these piece counts; consecutive windows
/// share about `margin` pieces, and a shared word belongs to the window where it is farther from
/// the edge. Every word is owned by exactly one window.
std::vector<TaggerWindow> plan_windows(const std::vector<std::vector<int>>& pieces, int window, int margin);

/// Encodes windows of one text: [W, T, S, H] first-piece hidden states (T = most words in a
/// window, zero rows beyond a window's words) and the word counts [W].
std::pair<torch::Tensor, torch::Tensor> encode_windows(BertEncoderImpl& encoder, torch::Device device,
                                                       const std::vector<const TaggedText*>& texts,
                                                       const std::vector<TaggerWindow>& windows, int cls, int sep);

/// The tag names of types: "O", then "B-t", "I-t" for each type in order.
std::vector<std::string> tag_names(const std::vector<std::string>& types);
/// BIO labels of words from typed spans (code-point offsets): a word inside a span is B- when it
/// is the span's first word, else I-. Words outside every span are O (0).
std::vector<int64_t> bio_labels(const std::vector<Word>& words, const std::vector<GoldSpan>& spans,
                                const std::vector<std::string>& types);
/// BIO-constrained Viterbi over log-probabilities [n, tags] (I-t only after B-t or I-t); `previous`
/// is the tag before the first word (0 = O). Returns the tags.
std::vector<int> viterbi(const float* logp, size_t n, int tags, int previous);

/// Words' decoded tags, window after window: appends the tags of the words window w owns (their
/// log-probabilities lp, [own words, tags] rows) to path, and each tag's probability to prob.
void decode_window(const float* lp, size_t n, int tags, std::vector<int>& path, std::vector<float>& prob);
/// The typed spans of a text from its words' tags (BIO) and their probabilities.
std::vector<TextSpan> spans_of(std::string_view text, const TaggedText& t, const std::vector<int>& tags,
                               const std::vector<float>& prob, const std::vector<std::string>& types);

struct Tagger::Impl {
  std::unique_ptr<LinkerModel> encoder;
  TaggerHead head{nullptr};
  TaggerHeadConfig head_config;
  std::vector<std::string> types;
  TaggerOptions options;
  std::string encoder_fingerprint;
  int cls = 0, sep = 0;
  /// The encoder module itself (LinkerModel's mention encoder).
  BertEncoderImpl& bert() const;
  torch::Device device() const;
};

void open_tagger_encoder(Tagger::Impl& m, const std::string& dir, const std::string& encoder, const LoadOptions& options);

namespace train {
/// The trainer's access to a tagger: a fresh head over an encoder, and the parts.
class TaggerTrainee {
 public:
  /// head's sizes for the encoder are filled in; its weights are drawn from seed (the global
  /// generator is left as it was).
  static Tagger fresh(const std::string& encoder, const std::vector<std::string>& types, TaggerHeadConfig head,
                      const TaggerOptions& options, const LoadOptions& load, uint64_t seed);
  static Tagger::Impl& parts(Tagger& t) { return *t.impl_; }
};
}  // namespace train

}  // namespace ner4el
