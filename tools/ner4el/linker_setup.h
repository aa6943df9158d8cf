// The flags of the commands that open a pipeline (link, annotate, evaluate, serve), bound once, and
// the pipeline they name.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "ner4el/default_model.h"
#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/linker.h"
#include "ner4el/pipeline.h"
#include "ner4el/runtime.h"
#include "release_flags.h"

namespace ner4el::cli {

/// The pipeline a linking command opened, with short-hands for its parts.
struct LinkerSetup {
  std::unique_ptr<Pipeline> pipeline;
  const KnowledgeBase* kb = nullptr;
  const Linker* linker = nullptr;  ///< the pipeline's (its batch queue when it has an encoder)
  const LinkerModel* model = nullptr;  ///< null for the count prior
  std::string kind() const { return pipeline ? pipeline->description() : ""; }
};

inline const char* const kDtypeHelp =
    "arithmetic of the encoder: fp32, bf16 (bfloat16 matrix products, on CPUs with AVX-512 BF16), int8 "
    "(dynamically quantised linear layers), or auto (bf16 where the CPU has it, else fp32)";

inline const char* const kDeviceHelp =
    "where the encoder runs: cpu, cuda or cuda:N (needs a CUDA libtorch build; README, \"GPU builds\")";

/// Resolves --dtype for --device and sets the thread pools for it (resolve_compute).
inline std::string use_dtype(const std::string& flag, const std::string& device = "cpu") {
  return resolve_compute({device, flag, 0}).dtype;
}

/// The flags every command that opens a pipeline takes (link, annotate, evaluate, serve), bound
/// once by add_pipeline_flags into the PipelineConfig they name: the KB, the model and its parts,
/// the linker's options, the prior weights, the model's style, dtype and device, and the release's
/// quirks.
struct PipelineFlags {
  PipelineConfig config;
  ReleaseFlags release;
  const LinkOptions& link() const { return config.link; }
};

inline std::shared_ptr<PipelineFlags> add_pipeline_flags(CLI::App* cmd) {
  auto p = std::make_shared<PipelineFlags>();
  PipelineConfig& f = p->config;
  cmd->add_option("--kb", f.kb, "knowledge-base directory (e.g. from 'ner4el kb build --from wordnet')")->required();
  cmd->add_option("--model", f.model,
                  "trained linker (ner4el folder, NER4EL .ckpt, Hugging Face folder), or 'prior' for the count prior; "
                  "default: the installed pretrained encoder with the fitted prior weights");
  cmd->add_option("--vocab", f.vocab, "with a .ckpt: the Hugging Face folder (config.json, vocab.txt) it was trained from");
  cmd->add_option("--index", f.index, "entity-vector index from 'ner4el index' (made with the same model)");
  cmd->add_option("--ner-model", f.ner_model,
                  "NER classifier (ner_classifier.pt or a converted folder) for --ner-cd / --ner-cg and calls that ask "
                  "for NER-CD");
  cmd->add_flag("--ner-cd", f.link.ner_cd, "NER-constrained decoding");
  cmd->add_flag("--ner-cg", f.link.ner_cg, "NER-enhanced candidate generation");
  cmd->add_option("-k", f.link.k, "candidates per mention")->capture_default_str();
  cmd->add_option("--top", f.link.top, "alternatives per mention")->capture_default_str();
  cmd->add_option("--prior-weight", f.prior_weight,
                  "bi-encoder score = cosine + W * log p(e|m) - R * log(1 + rank); W (default: 0 for a trained "
                  "model, the fitted value of conf/default_linker.json for the default pretrained one)");
  cmd->add_option("--rank-weight", f.rank_weight, "R of the score above (same defaults)");
  cmd->add_option("--style", f.style,
                  "how the model's vectors are read: release (mention position and [CLS], inputs with [E]/[\\E]), "
                  "sentence (mean pooling over plain text), auto (sentence for a sentence-transformers folder)")
      ->capture_default_str();
  cmd->add_option("--dtype", f.dtype, kDtypeHelp)->capture_default_str();
  cmd->add_option("--device", f.device, kDeviceHelp)->capture_default_str();
  bind_release_flags(cmd, p->release);
  return p;
}

/// The mention-detection flags of the commands that find mentions in text (annotate, serve,
/// evaluate --end-to-end): --mentions and --tagger.
inline void add_detection_flags(CLI::App* cmd, PipelineFlags& p) {
  cmd->add_option("--mentions", p.config.mentions,
                  "mention detection: spotter (the KB's aliases), tagger (the NER tagger: typed spans; those the KB "
                  "cannot link are reported as NIL), both (the tagger's spans, then the spotter's that overlap none), "
                  "auto (the tagger when the shipped tagger and the installed encoder are there, else the spotter; the "
                  "tagger has the better end-to-end F1 on AIDA-A, README 'Named-entity recognition')")
      ->check(CLI::IsMember({"auto", "spotter", "tagger", "both"}))
      ->capture_default_str();
  cmd->add_option("--tagger", p.config.tagger,
                  "NER tagger folder (default: the shipped CoNLL-2003 tagger, taggers/conll03); loaded with --mentions "
                  "tagger/both, or when given (then requests may ask for it)");
}

/// Opens the pipeline (Pipeline::open) the flags name (model "": the default pretrained linker, or
/// the count prior with a notice when none is installed; "prior": the count prior), with the
/// release's quirks resolved into the flags' link options, and prints its notices to stderr.
inline LinkerSetup make_linker(PipelineFlags& flags, const SpotterOptions& spotter = {}, const BatchQueueOptions& batch = {}) {
  flags.config.link.quirks = flags.release.resolve();
  PipelineConfig c = flags.config;
  c.spotter = spotter;
  c.batch = batch;
  LinkerSetup s;
  s.pipeline = std::make_unique<Pipeline>(Pipeline::open(c));
  for (const auto& n : s.pipeline->notices()) std::cerr << (n.rfind("warning: ", 0) == 0 ? "" : "note: ") << n << "\n";
  s.kb = &s.pipeline->kb();
  s.linker = &s.pipeline->linker();
  s.model = s.pipeline->model();
  return s;
}

}  // namespace ner4el::cli
