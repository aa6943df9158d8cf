// Raw text in, linked entities out: the pipeline facade (knowledge base, model, index, NER
// classifier, mention detection and linking opened from one configuration). The CLI, the server and
// other front ends are thin layers over it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ner4el/batch_queue.h"
#include "ner4el/dataset.h"
#include "ner4el/kb.h"
#include "ner4el/linker.h"
#include "ner4el/spotter.h"
#include "ner4el/tagger.h"
#include "ner4el/text.h"

namespace ner4el {

/// What the pipeline opens.
struct PipelineConfig {
  std::string kb;         ///< knowledge-base directory (required)
  /// "" : the installed pretrained encoder with the fitted prior weights (the count prior, with a
  /// notice, when none is installed); "prior": the count prior; else a linker model path.
  std::string model;
  std::string vocab;      ///< Hugging Face folder when the model has none (LoadOptions::vocab)
  std::string index;      ///< entity-vector index made with the same model, optional
  std::string ner_model;  ///< NER classifier for NER-CD / NER-CG, optional
  std::string style = "auto";
  std::string dtype = "auto";                   ///< LoadOptions::dtype
  std::string device = "cpu";                   ///< LoadOptions::device: cpu, cuda, cuda:N
  int threads = 0;  ///< cores for the encoder (configure_threads; <= 0: $NER4EL_THREADS or every core)
  /// Calls from many threads are linked together (BatchQueue) when the linker has an encoder.
  BatchQueueOptions batch;
  double prior_weight = -1, rank_weight = -1;  ///< -1: the model's default (LinkOptions)
  LinkOptions link;
  SpotterOptions spotter;
  /// Mention detection in annotate(): "spotter" (the KB's aliases), "tagger" (the NER tagger: typed
  /// spans, and a span the KB cannot link is kept, unlinked, as NIL), "both" (the tagger's spans,
  /// then the spotter's that overlap none of them), or "auto": "tagger" when the shipped tagger
  /// (or `tagger`) and the installed encoder are there, else "spotter" with a notice (README
  /// "Named-entity recognition": the tagger has the better end-to-end F1 on AIDA-A).
  std::string mentions = "auto";
  /// The NER tagger's folder ("" : the shipped one, taggers/conll03), loaded when `mentions` is
  /// not "spotter" or when this is set (then calls may ask for it).
  std::string tagger;
};

/// Per-call options; a field left unset keeps what the pipeline was opened with. Any number of
/// distinct sets may be used (the linker resolves them per call: Linker::options_for).
struct CallOptions : LinkCallOptions {
  std::optional<SpotterOptions> spotter;  ///< mention detection's rules for this call
  std::optional<std::string> mentions;    ///< "spotter", "tagger" or "both" for this call
};

/// The whole pipeline. Thread-safe for concurrent const calls.
class Pipeline {
 public:
  /// @throws NotFound, FormatError, InvalidArgument (as the parts it opens).
  static Pipeline open(const PipelineConfig& config);
  ~Pipeline();
  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(Pipeline&&) noexcept;

  /// Links mentions someone else found (bring-your-own-mentions), each with the alias table's
  /// candidates or those it brought (Mention::candidates).
  /// @throws InvalidArgument for per-call options out of range or NER-CD without a classifier;
  /// FormatError "mentions[i]: candidates[j]: ..." for a candidate the KB does not have.
  std::vector<LinkResult> link(const std::vector<Mention>& mentions, const CallOptions& options = {}) const;
  /// The check link() makes first: every candidate a mention brought is in the KB.
  /// @throws FormatError "where[i]: candidates[j]: ...".
  void check_candidates(const std::vector<Mention>& mentions, const std::string& where = "mentions") const;
  /// The same for one mention. @throws FormatError "where: candidates[j]: ..." (where: e.g. a file's line).
  void check_candidates(const Mention& mention, const std::string& where) const;
  /// The spotter's mention detection only, in text as given (spans index valid_utf8(text));
  /// spotter: per-call rules (nullptr: the configured ones).
  std::vector<TextSpan> detect(std::string_view text, const SpotterOptions* spotter = nullptr) const;
  /// Mention detection of a text as annotate() does it (options.mentions, options.spotter).
  /// @throws InvalidArgument for an unknown mode or "tagger"/"both" when no tagger was opened.
  std::vector<TextSpan> detect(std::string_view text, const CallOptions& options) const;
  /// The same for many texts (the tagger reads them in shared batches).
  std::vector<std::vector<TextSpan>> detect(const std::vector<std::string>& texts, const CallOptions& options) const;
  /// Detects and links the mentions of each text; texts are linked together in one batch.
  std::vector<std::vector<LinkedSpan>> annotate(const std::vector<std::string>& texts, const CallOptions& options = {}) const;
  /// Links the given spans of a text (REL's "ED" mode): each span's context is the text around it.
  std::vector<LinkedSpan> link_spans(std::string_view text, const std::vector<TextSpan>& spans,
                                     const CallOptions& options = {}) const;
  /// link_spans over many texts in one batch (spans[i] are spans of texts[i], offsets resolved as
  /// resolve_offsets gives them, into valid_utf8(texts[i])).
  /// @throws InvalidArgument when the two lists differ in length.
  std::vector<std::vector<LinkedSpan>> link_spans(const std::vector<std::string>& texts,
                                                  const std::vector<std::vector<TextSpan>>& spans,
                                                  const CallOptions& options = {}) const;
  const KnowledgeBase& kb() const;
  /// What link(), annotate() and link_spans() go through: the batch queue over the linker when the
  /// linker has an encoder, else the linker itself.
  const Linker& linker() const;
  /// Sets the encoder's thread pools to `threads` cores for the dtype the model was loaded in
  /// (configure_threads; <= 0: $NER4EL_THREADS or every core).
  void set_threads(int threads) const;
  /// The mention detector's rules the pipeline was opened with.
  const SpotterOptions& spotter_options() const;
  /// The NER tagger, when one was opened (nullptr otherwise).
  const Tagger* tagger() const;
  /// The mention detection annotate() uses by default: "spotter", "tagger" or "both"
  /// (PipelineConfig::mentions, "auto" resolved).
  const std::string& mentions() const;
  /// The encoder, when the linker has one (nullptr for the count prior).
  const LinkerModel* model() const;
  /// "count prior", "bi-encoder", "pretrained encoder + prior (prior 0.05, rank 0.15)".
  const std::string& description() const;
  /// What the caller should tell the user: warnings of a lenient load, the count-prior fallback.
  const std::vector<std::string>& notices() const;

 struct Impl;  ///< (public for the pipeline's own helpers; defined in its .cpp)

 private:
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// End-to-end evaluation (mention detection and linking from raw text) on data sets of mentions in
/// context. Each record's text is "left_context mention right_context" (the data sets strip the
/// spaces around the mention; one goes back on each side that has a context), its gold span the
/// mention; records share documents, so every record whose mention, with up to 40 characters of context on
/// each side, occurs in another record's text (among the 50 records before and after it, in file
/// order) is a gold span of that text too. Each distinct text is one document (texts are windows of
/// articles, so a mention in several windows counts once in each); the spans the
/// pipeline detects in it are compared with its gold spans by exact offsets.
struct EndToEndReport {
  size_t documents = 0, characters = 0;
  size_t gold = 0, detected = 0, detected_right = 0;  ///< mention detection
  /// Strong match against the gold spans whose title is in the KB (in-KB, as REL and GERBIL report):
  /// a detected span is right when its offsets and entity both are; detected spans on gold mentions
  /// whose entity is not in the KB are not counted.
  size_t gold_in_kb = 0, linked = 0, linked_right = 0;
  double detect_seconds = 0, link_seconds = 0;
  static double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }
  double md_precision() const { return detected ? double(detected_right) / double(detected) : 0; }
  double md_recall() const { return gold ? double(detected_right) / double(gold) : 0; }
  double md_f1() const { return f1(md_precision(), md_recall()); }
  double el_precision() const { return linked ? double(linked_right) / double(linked) : 0; }
  double el_recall() const { return gold_in_kb ? double(linked_right) / double(gold_in_kb) : 0; }
  double el_f1() const { return f1(el_precision(), el_recall()); }
};
EndToEndReport evaluate_end_to_end(const Pipeline& pipeline, const std::vector<Mention>& records,
                                   bool title_last_wins = false);
/// The same on whole documents with their gold spans (dataset.h Document: "spans", NIL included,
/// as AIDA-CoNLL's `*_docs.jsonl` give them): mentions detected as the pipeline's mention detection
/// does by default (PipelineConfig::mentions), each document one text. MD counts every gold span;
/// EL is strong match over the gold spans whose title is in the KB (GERBIL's InKB).
EndToEndReport evaluate_documents_end_to_end(const Pipeline& pipeline, const std::vector<Document>& docs,
                                            bool title_last_wins = false);

}  // namespace ner4el
