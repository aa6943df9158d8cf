// Training the bi-encoder (with NER-R, NER-NS) and the NER classifier (docs/reference.md "Model",
// "Default configuration", "NER classifier").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ner4el/kb.h"
#include "ner4el/process.h"
#include "ner4el/release_compat.h"

namespace ner4el {

/// Every option of the linker's training, with the release's defaults (conf/ner4el.yaml).
struct TrainConfig {
  std::string encoder;           ///< starting weights: Hugging Face folder, ner4el model or .ckpt
  std::string vocab;             ///< Hugging Face folder (config.json, vocab.txt) when encoder has none
  std::string kb;                ///< knowledge base directory
  std::string train_data;        ///< NER4EL JSON Lines with gold outputs
  std::string dev_data;          ///< for early stopping (dev accuracy each epoch)
  std::string output_dir = "runs/ner4el";  ///< checkpoints, metrics.jsonl, the processed-data cache
  int window = 128;              ///< W
  int k = 40;                    ///< candidates per mention
  bool ner_r = true;             ///< NER-R: "CLASS[SEP]description" on the entity side
  bool ner_ns = true;            ///< NER-NS: fill candidate sets with negatives of the gold class
  bool random_negatives = false; ///< fill with uniform negatives instead (when ner_ns is off)
  /// The release's quirks that act in training (alias-table ones, duplicate-ids' last-occurrence
  /// target, title-last-wins, ner-ns-pool). YAML: `release_compat: true` (all) and/or
  /// `release_quirks: [name, ...]`.
  ReleaseQuirks quirks;
  double lr = 1e-5;              ///< Adam
  double beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8, weight_decay = 0;
  int accumulation = 256;        ///< mentions per optimiser step (batch size is 1)
  int epochs = 100;              ///< at most
  int patience = 5;              ///< epochs without a better dev accuracy before stopping
  int keep_best = 3;             ///< best checkpoints kept
  uint64_t seed = 2;
  bool cosine_restarts = false;  ///< cosine annealing with warm restarts, per optimiser step
  int restart_t0 = 10;           ///< T_0 (optimiser steps)
  int restart_t_mult = 2;        ///< T_mult
  double dropout = 0.5;          ///< declared by the release; its vectors never pass through it
  int threads = 0;               ///< 0: one per core
  bool resume = true;            ///< continue from output_dir/last when it exists
  std::string device = "cpu";    ///< cpu, cuda, cuda:N (LoadOptions::device)
  /// fp32, or bf16: forward passes under bf16 autocast, fp32 weights and optimiser (bf16-mixed)
  std::string precision = "fp32";
  /// Stop after this many optimiser steps in all (0: no limit); the epoch then ends as usual
  /// (dev accuracy, checkpoint). For smoke runs and measurements on a part of a large set.
  uint64_t max_steps = 0;

  /// Reads a YAML file of these keys. @throws NotFound, FormatError naming the file, line and key.
  static TrainConfig from_yaml(const std::string& path);
  /// Sets one key from text ("lr", "1e-4"). @throws InvalidArgument naming an unknown key or bad value.
  void set(const std::string& key, const std::string& value);
  std::string to_yaml() const;
};

struct EpochLog {
  int epoch = 0;
  int64_t steps = 0;        ///< optimiser steps so far
  double loss = 0;          ///< mean training loss over the epoch
  double dev_accuracy = 0;  ///< in-KB accuracy on the dev set
  double seconds = 0;
};

struct TrainReport {
  size_t train_mentions = 0;   ///< training mentions kept
  size_t dropped = 0;          ///< not in alias table, gold unknown, or gold not among the candidates
  std::vector<EpochLog> epochs;
  int best_epoch = 0;
  double best_dev_accuracy = 0;
  std::string best_checkpoint;  ///< model folder of the best epoch
  bool resumed = false;         ///< continued an earlier run
  bool early_stopped = false;
};

/// Receives progress ("epoch 3", mentions done, mentions in the epoch) and log lines.
struct TrainCallbacks {
  ProgressFn progress;
  std::function<void(const std::string&)> log;
};

/// Trains the bi-encoder. Checkpoints (model folder + optimiser state + trainer state) are written
/// atomically at the end of every epoch to output_dir/last, and the best keep_best epochs to
/// output_dir/epoch-N; a run started again with the same output_dir resumes after the last finished
/// epoch and ends with the same weights as an uninterrupted run.
TrainReport train_linker(const TrainConfig& config, const TrainCallbacks& callbacks = {});

struct TrainNerConfig {
  std::string encoder, vocab, kb, train_data, dev_data;
  std::string output_dir = "runs/ner-classifier";
  int window = 128;
  double lr = 2e-5;
  int batch_size = 16;
  int epochs = 3;
  uint64_t seed = 2;
  std::string device = "cpu";  ///< cpu, cuda, cuda:N
};

struct TrainNerReport {
  size_t train_mentions = 0, dropped = 0;
  std::vector<double> dev_accuracy;  ///< class accuracy per epoch
  std::string best_checkpoint;
};

/// Trains the NER classifier on the training mentions labelled with their gold entity's class
/// (classes in the KB's order). The best epoch by dev class accuracy is saved as a ner4el folder.
TrainNerReport train_ner_classifier(const TrainNerConfig& config, const TrainCallbacks& callbacks = {});

/// Training the NER tagger's head over a frozen encoder (ner4el train-tagger).
struct TaggerTrainConfig {
  std::string encoder;     ///< "" : the installed pretrained model
  std::string train_data;  ///< documents with "ner_spans" (dataset.h Document), e.g. CoNLL-2003 train
  std::string dev_data;    ///< the same, for choosing the epoch (span F1)
  std::string output_dir = "runs/tagger";  ///< the best epoch's tagger folder
  int window = 256, margin = 32;  ///< TaggerOptions
  int lstm = 192, shape_dim = 32;
  double dropout = 0.3;
  double lr = 2e-3;
  int batch_size = 16;  ///< windows per optimiser step
  int epochs = 30;      ///< at most
  int patience = 5;     ///< epochs without a better dev F1 before stopping
  uint64_t seed = 1;
  std::string device = "cpu";
  std::string info;  ///< the command line, recorded in tagger.json
};
struct TaggerEpochLog {
  int epoch = 0;
  double loss = 0, dev_f1 = 0, seconds = 0;
};
struct TaggerTrainReport {
  size_t train_documents = 0, train_words = 0, dev_documents = 0;
  std::vector<std::string> types;
  std::vector<TaggerEpochLog> epochs;
  int best_epoch = 0;
  double best_dev_f1 = 0;
  double encode_seconds = 0;  ///< the frozen encoder's pass over both sets (done once)
};
/// Encodes every window of both sets once (the encoder is frozen), then trains the head with Adam
/// and cross-entropy over BIO tags; after each epoch tags the dev documents (as Tagger::tag does)
/// and saves the tagger when their exact-span F1 is the best so far. Types: every NER type of the
/// training spans, sorted. @throws InvalidArgument when the training data has no NER span.
TaggerTrainReport train_tagger(const TaggerTrainConfig& config, const TrainCallbacks& callbacks = {});

}  // namespace ner4el
