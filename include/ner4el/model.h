// Trained models behind a small facade that does not expose libtorch: the NER4EL bi-encoder
// (one BERT shared by mentions and entities) and the NER classifier.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ner4el/bert_config.h"
#include "ner4el/inputs.h"
#include "ner4el/kb.h"

namespace ner4el {

namespace train {
class LinkerTrainee;  // the trainers' access to the encoders (src/model/trainee.h)
class NerTrainee;
}

/// How weights are read.
struct LoadOptions {
  bool strict = true;  ///< missing, extra or wrongly shaped tensors are errors (else warnings)
  /// fp16/bf16 weights are converted to fp32 unless this is set (then kept as stored).
  bool keep_half_precision = false;
  std::string vocab;  ///< vocab.txt / tokenizer.json / folder when the weights file has none (.ckpt)
  int window = 128;   ///< W for models whose files do not record it
  bool ner_r = true;  ///< NER-R, for models whose files do not record it
  /// How vectors are read: "release" (hidden state at the mention position and at [CLS], inputs
  /// with [E]/[\E], as NER4EL trains), "sentence" (mean pooling over plain-text inputs, as a
  /// pretrained sentence-embedding model was trained), or "auto": "sentence" for a Hugging Face
  /// folder whose 1_Pooling/config.json says mean pooling (sentence-transformers), else "release";
  /// a ner4el folder records its own.
  std::string style = "auto";
  /// Arithmetic of the encoder's linear layers at inference: "fp32"; "bf16" (bfloat16 products
  /// through oneDNN, on CPUs with AVX-512 BF16); "int8" (dynamic quantisation through oneDNN: weights
  /// per output channel, activations per call); layer norms, softmax and residual sums stay fp32 in
  /// every mode; or "auto" (resolve_dtype). A model loaded below fp32 is for inference only: save()
  /// and training refuse it. The fingerprint is the fp32 weights', so an index serves every dtype.
  std::string dtype = "fp32";
  /// Where the weights live and the arithmetic runs: "cpu", "cuda" or "cuda:N" (resolve_device).
  /// Inputs go to the device and vectors come back; every result is the same whatever the device.
  std::string device = "cpu";
};

/// Checks a device name: "cpu", "cuda" (the first GPU), "cuda:N".
/// @throws InvalidArgument for another name, a libtorch built without CUDA, or no such GPU.
std::string resolve_device(const std::string& requested);

/// Checks a dtype name and resolves "auto" to what this machine runs best (see the README's
/// measurements): on the CPU "bf16" where it has AVX-512 BF16 and libtorch has oneDNN, else "fp32";
/// on a GPU (device "cuda..."), "bf16" (int8 is refused there).
/// @throws InvalidArgument for an unknown name or a dtype this CPU or libtorch cannot run.
std::string resolve_dtype(const std::string& requested, const std::string& device = "cpu");

/// The NER4EL bi-encoder. Thread-safe for concurrent const calls (inference runs under no-grad).
class LinkerModel {
 public:
  /// Loads any supported format:
  ///   - a ner4el model folder (from save() or 'ner4el convert'),
  ///   - a Hugging Face folder: config.json + model.safetensors or pytorch_model.bin (+ vocab.txt),
  ///   - a NER4EL Lightning checkpoint (.ckpt; needs options.vocab and a config.json beside it or in
  ///     options.vocab's folder),
  ///   - a bare .safetensors / .bin / .pt state dict with config.json beside it.
  /// Nothing in a file is ever executed. @throws NotFound, FormatError (naming key and shapes).
  static LinkerModel load(const std::string& path, const LoadOptions& options = {});
  ~LinkerModel();
  LinkerModel(LinkerModel&&) noexcept;
  LinkerModel& operator=(LinkerModel&&) noexcept;

  /// Writes the ner4el model folder (config.json, vocab.txt, model.safetensors) atomically.
  void save(const std::string& dir) const;

  const BertConfig& config() const;
  const WordPieceTokenizer& tokenizer() const;
  /// Builds inputs the way this model was trained (window, NER-R, style).
  const InputEncoder& input_encoder() const;
  /// The entity's input, whatever the style.
  EntityInput entity_input(const Entity& e) const;
  int dim() const { return config().hidden_size; }
  /// The arithmetic inference runs in: "fp32", "bf16" or "int8" (LoadOptions::dtype, resolved).
  const std::string& dtype() const;
  /// Warnings from a non-strict load (ignored or missing tensors).
  const std::vector<std::string>& warnings() const;
  /// Hex digest of the entity side: weights, window and NER-R (what entity vectors depend on).
  /// Computed once, on first call.
  const std::string& fingerprint() const;

  /// Mention vectors: the hidden state at each mention position. Returns n * dim() floats, row-major.
  std::vector<float> embed_mentions(const std::vector<MentionInput>& inputs, int batch_size = 32) const;
  /// Entity vectors: the hidden state of [CLS]. Returns n * dim() floats, row-major.
  std::vector<float> embed_entities(const std::vector<EntityInput>& inputs, int batch_size = 32) const;

  /// Where the model runs (LoadOptions::device, resolved).
  const std::string& device() const;

  struct Impl;

 private:
  friend class train::LinkerTrainee;
  friend class train::NerTrainee;
  friend class Tagger;  // runs the encoder for its every hidden state
  explicit LinkerModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Cosine similarity as torch.nn.functional.cosine_similarity: x.y / max(|x||y|, eps).
float cosine(const float* x, const float* y, int dim, float eps = 1e-6f);
/// the reference's min-max normalisation of one mention's candidate scores to [0, 1]; NaN when all equal
/// (the release then skips the mention in training; prediction takes index 0).
std::vector<float> min_max_normalise(const std::vector<float>& scores);

}  // namespace ner4el

namespace ner4el {

/// The NER classifier of docs/reference.md: BERT, hidden state at the mention position, linear layer to the
/// classes, softmax. Thread-safe for concurrent const calls.
class NerClassifier {
 public:
  /// Loads ner_classifier.pt (mention_encoder.*, linear.*) or a ner4el classifier folder.
  /// classes: the class names in classifier order (the KB's class order: first appearance in the
  /// id-to-class mapping); a ner4el folder records them, so it may be empty then.
  /// @throws FormatError when the linear layer's size differs from the number of classes.
  static NerClassifier load(const std::string& path, const std::vector<std::string>& classes,
                            const LoadOptions& options = {});
  ~NerClassifier();
  NerClassifier(NerClassifier&&) noexcept;
  NerClassifier& operator=(NerClassifier&&) noexcept;

  void save(const std::string& dir) const;
  const std::vector<std::string>& classes() const;
  const InputEncoder& input_encoder() const;
  /// Softmax probabilities, inputs.size() rows of classes().size() floats.
  /// release_dropout (quirk ner-cd-dropout): run as the release did at test time, in training mode
  /// with every dropout active (BERT's and the classifier's 0.5), from torch's generator seeded with
  /// 2 at each call, so a call repeats; serialised across threads.
  std::vector<std::vector<float>> predict(const std::vector<MentionInput>& inputs, int batch_size = 32,
                                          bool release_dropout = false) const;

  struct Impl;

 private:
  friend class train::LinkerTrainee;
  friend class train::NerTrainee;
  explicit NerClassifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ner4el
