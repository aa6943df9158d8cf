// ner4el._core: the Python bindings (nanobind) of the pipeline facade, include/ner4el/pipeline.h.
//
// Arguments are converted to C++ with the GIL held; the linking itself runs with the GIL released,
// so other Python threads go on (and may call the same Pipeline: it is thread-safe). Results are
// copied into plain objects owned by Python. Library errors become ner4el.Error subclasses that
// carry the C++ message.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ner4el/error.h"
#include "ner4el/link_json.h"
#include "ner4el/pipeline.h"
#include "ner4el/runtime.h"
#include "ner4el/default_model.h"
#include "ner4el/tagger.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace ner4el {
namespace {

PyObject* g_error = nullptr;
PyObject* g_invalid_argument = nullptr;
PyObject* g_format_error = nullptr;
PyObject* g_not_found = nullptr;

/// The exception class ner4el.errors.<name> (defined in Python, so stubs and tracebacks name it
/// there); the reference is kept for the life of the process.
PyObject* python_exception(const nb::module_& errors, const char* name) { return errors.attr(name).inc_ref().ptr(); }

/// Gets a string field of a mention given as a dict; absent -> fallback.
std::optional<std::string> dict_string(const nb::dict& d, std::initializer_list<const char*> keys, size_t index) {
  for (const char* key : keys) {
    if (!d.contains(key)) continue;
    nb::handle v = d[key];
    if (v.is_none()) return std::nullopt;
    if (!nb::isinstance<nb::str>(v))
      throw InvalidArgument("mentions[" + std::to_string(index) + "]: field '" + key + "': expected a string");
    return nb::cast<std::string>(v);
  }
  return std::nullopt;
}

/// Candidates from Python: a list or tuple of KB ids (int) and titles (str); None: not given.
std::optional<std::vector<GivenCandidate>> to_candidates(nb::handle value, const std::string& where) {
  if (value.is_none()) return std::nullopt;
  if (!nb::isinstance<nb::list>(value) && !nb::isinstance<nb::tuple>(value))
    throw InvalidArgument(where + ": expected a list of KB ids (int) or titles (str)");
  nlohmann::json items = nlohmann::json::array();
  size_t i = 0;
  for (nb::handle c : nb::iter(value)) {
    if (nb::isinstance<nb::bool_>(c) || !(nb::isinstance<nb::int_>(c) || nb::isinstance<nb::str>(c)))
      throw InvalidArgument(where + "[" + std::to_string(i) + "]: expected a KB id (int) or a title (str)");
    if (nb::isinstance<nb::int_>(c)) items.push_back(nb::cast<int64_t>(c));
    else items.push_back(nb::cast<std::string>(c));
    ++i;
  }
  try {
    return given_candidates(items, where);
  } catch (const FormatError& e) {
    throw InvalidArgument(e.what());
  }
}

nb::object from_candidates(const std::optional<std::vector<GivenCandidate>>& given) {
  if (!given) return nb::none();
  nb::list out;
  for (const auto& c : *given) {
    if (c.id) out.append(*c.id);
    else out.append(c.title);
  }
  return out;
}

/// A mention from a Mention, a dict (NER4EL's fields mention/left_context/right_context/output, or
/// BLINK's mention/context_left/context_right/label_title; candidates; ner) or a (left, mention, right) tuple.
Mention to_mention(nb::handle item, size_t index) {
  if (nb::isinstance<Mention>(item)) return nb::cast<Mention>(item);
  const std::string where = "mentions[" + std::to_string(index) + "]";
  if (nb::isinstance<nb::dict>(item)) {
    nb::dict d = nb::borrow<nb::dict>(item);
    Mention m;
    auto mention = dict_string(d, {"mention"}, index);
    if (!mention) throw InvalidArgument(where + ": field 'mention': missing (expected a string)");
    m.mention = *mention;
    m.left_context = dict_string(d, {"left_context", "context_left"}, index).value_or("");
    m.right_context = dict_string(d, {"right_context", "context_right"}, index).value_or("");
    m.output = dict_string(d, {"output", "label_title"}, index);
    if (d.contains("candidates")) m.candidates = to_candidates(d["candidates"], where + ": field 'candidates'");
    m.ner = dict_string(d, {"ner"}, index).value_or("");
    return m;
  }
  if (nb::isinstance<nb::tuple>(item) && nb::len(item) == 3) {
    nb::tuple t = nb::borrow<nb::tuple>(item);
    for (size_t i = 0; i < 3; ++i)
      if (!nb::isinstance<nb::str>(t[i]))
        throw InvalidArgument(where + ": expected (left_context, mention, right_context) strings");
    return Mention{nb::cast<std::string>(t[1]), nb::cast<std::string>(t[0]), nb::cast<std::string>(t[2]), std::nullopt, std::nullopt,
                   ""};
  }
  throw InvalidArgument(where + ": expected a ner4el.Mention, a dict with 'mention' (and 'left_context', "
                        "'right_context'), or a (left_context, mention, right_context) tuple; got " +
                        nb::cast<std::string>(nb::str(nb::handle(reinterpret_cast<PyObject*>(Py_TYPE(item.ptr()))))));
}

CallOptions call_options(std::optional<int> k, std::optional<int> top, std::optional<bool> ner_cd) {
  CallOptions o;
  o.k = k;
  o.top = top;
  o.ner_cd = ner_cd;
  return o;
}

size_t check_batch(long batch_size) {
  if (batch_size < 1) throw InvalidArgument("batch_size must be at least 1, got " + std::to_string(batch_size));
  return static_cast<size_t>(batch_size);
}

/// Runs f(begin, end) over [0, n) in slices of `batch` with the GIL released, appending results.
template <class Result, class F>
std::vector<Result> in_batches(size_t n, size_t batch, F&& f) {
  std::vector<Result> out;
  out.reserve(n);
  nb::gil_scoped_release release;
  for (size_t at = 0; at < n; at += batch) {
    auto part = f(at, std::min(n, at + batch));
    for (auto& r : part) out.push_back(std::move(r));
  }
  return out;
}

/// (start, end) code-point spans of a text as TextSpans with every offset resolved.
std::vector<TextSpan> spans_of(const std::string& text, const std::vector<std::pair<long, long>>& given) {
  std::vector<TextSpan> spans;
  for (size_t i = 0; i < given.size(); ++i) {
    auto [start, end] = given[i];
    if (start < 0 || end < start)
      throw InvalidArgument("spans[" + std::to_string(i) + "]: expected 0 <= start <= end, got (" +
                            std::to_string(start) + ", " + std::to_string(end) + ")");
    TextSpan t;
    t.start = static_cast<size_t>(start);
    t.end = static_cast<size_t>(end);
    spans.push_back(t);
  }
  resolve_offsets(text, spans, /*by_code_points=*/true);
  return spans;
}

std::optional<double> optional_float(const std::optional<double>& v) {
  return v && !std::isnan(*v) ? v : std::nullopt;
}

/// A field of a result's best candidate; nullopt (None) when it has none.
template <class T, class F>
std::optional<T> best_of(const LinkResult& r, F&& field) {
  if (r.ranked.empty()) return std::nullopt;
  return field(r.ranked.front());
}

/// A JSON value (as the CLI writes it, ner4el/link_json.h) as plain Python objects.
nb::object to_python(const nlohmann::json& j) {
  static nb::object loads = nb::module_::import_("json").attr("loads");
  return loads(json_text(j));
}

const char* miss_name(CandidateMiss miss) {
  switch (miss) {
    case CandidateMiss::NotInAliasTable: return "not in alias table";
    case CandidateMiss::NoCandidates: return "no candidates";
    default: return "";
  }
}

}  // namespace
}  // namespace ner4el

NB_MODULE(_core, m) {
  using namespace ner4el;
  m.doc() = "C++ core of ner4el (nanobind bindings of include/ner4el/pipeline.h).";
  m.attr("__version__") = NER4EL_VERSION;

  const nb::module_ errors = nb::module_::import_("ner4el.errors");
  g_error = python_exception(errors, "Error");
  g_invalid_argument = python_exception(errors, "InvalidArgument");
  g_format_error = python_exception(errors, "FormatError");
  g_not_found = python_exception(errors, "NotFoundError");
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const NotFound& e) {
      PyErr_SetString(g_not_found, e.what());
    } catch (const FormatError& e) {
      PyErr_SetString(g_format_error, e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(g_invalid_argument, e.what());
    } catch (const Error& e) {
      PyErr_SetString(g_error, e.what());
    }
  });

  nb::class_<Mention>(m, "Mention", "A mention in its context (NER4EL's JSON Lines fields).")
      .def(nb::init<>())
      .def(
          "__init__",
          [](Mention* self, std::string mention, std::string left_context, std::string right_context,
             std::optional<std::string> output, nb::handle candidates, std::string ner) {
            new (self) Mention{std::move(mention), std::move(left_context), std::move(right_context), std::move(output),
                               to_candidates(candidates, "candidates"), std::move(ner)};
          },
          "mention"_a, "left_context"_a = "", "right_context"_a = "", "output"_a = nb::none(),
          "candidates"_a.none() = nb::none(), "ner"_a = "")
      .def_rw("mention", &Mention::mention)
      .def_rw("left_context", &Mention::left_context)
      .def_rw("right_context", &Mention::right_context)
      .def_rw("output", &Mention::output, "gold title, when known")
      .def_rw("ner", &Mention::ner, "the mention's NER class ('PER'), used by NER-CD/NER-CG when no classifier is loaded")
      .def_prop_rw(
          "candidates", [](const Mention& x) { return from_candidates(x.candidates); },
          [](Mention& x, nb::handle v) { x.candidates = to_candidates(v, "candidates"); },
          nb::for_setter(nb::arg("value").none()),
          "the candidates this mention brings (KB ids and titles), used instead of the alias table's; None: "
          "the alias table's")
      .def("__repr__", [](const Mention& x) {
        return "Mention(" + nb::cast<std::string>(nb::repr(nb::cast(x.mention))) + ")";
      });

  nb::class_<ScoredEntity>(m, "Candidate", "A knowledge-base entity scored for a mention.")
      .def_ro("id", &ScoredEntity::id, "entity id in the knowledge base")
      .def_ro("title", &ScoredEntity::title)
      .def_ro("ner_class", &ScoredEntity::ner_class, "the entity's NER class in the KB ('' when it has none)")
      .def_ro("score", &ScoredEntity::score,
              "bi-encoder: cosine plus the prior terms; count prior: (count + 1) / sum over the candidates")
      .def_prop_ro("cosine", [](const ScoredEntity& e) { return optional_float(e.cosine); },
                   "cosine of mention and entity vectors (None for the count prior)")
      .def_ro("prior", &ScoredEntity::prior, "(count + 1) / sum over the candidates")
      .def_ro("rank", &ScoredEntity::rank, "place in the candidate list (count order)")
      .def("to_dict", [](const ScoredEntity& e) { return to_python(scored_json(e)); },
           "as 'ner4el link' writes it: entity_id, title, class, score, cosine, prior, rank")
      .def("__repr__", [](const ScoredEntity& e) {
        return "Candidate(" + nb::cast<std::string>(nb::repr(nb::cast(e.title))) + ", score=" +
               nb::cast<std::string>(nb::repr(nb::cast(e.score))) + ")";
      });

  nb::class_<LinkResult>(m, "LinkResult", "The entities linked to one mention, best first.")
      .def_ro("candidates", &LinkResult::ranked, "the best `top` candidates, best first; empty when none")
      .def_prop_ro("entity", [](const LinkResult& r) { return best_of<ScoredEntity>(r, [](const auto& e) { return e; }); },
                   "the best candidate, or None")
      .def_prop_ro("title", [](const LinkResult& r) { return best_of<std::string>(r, [](const auto& e) { return e.title; }); },
                   "the best candidate's title, or None")
      .def_prop_ro("score", [](const LinkResult& r) { return best_of<double>(r, [](const auto& e) { return e.score; }); },
                   "the best candidate's score, or None")
      .def_ro("scored", &LinkResult::candidates, "how many candidates were scored")
      .def_prop_ro("miss", [](const LinkResult& r) { return std::string(miss_name(r.miss)); },
                   "why there is no candidate ('' when there are)")
      .def("to_dict", [](const LinkResult& r) { return to_python(result_json(nlohmann::json::object(), r)); },
           "as 'ner4el link' writes it: the best entity's fields and its alternatives, or entity_id None and "
           "the reason")
      .def("__repr__", [](const LinkResult& r) {
        return r.ranked.empty() ? std::string("LinkResult(None)")
                                : "LinkResult(" + nb::cast<std::string>(nb::repr(nb::cast(r.ranked.front().title))) + ")";
      });

  nb::class_<LinkedSpan>(m, "Entity", "A linked span of a text; offsets are Python str indices (code points).")
      .def_prop_ro("start", [](const LinkedSpan& s) { return s.span.start; })
      .def_prop_ro("end", [](const LinkedSpan& s) { return s.span.end; })
      .def_prop_ro("byte_start", [](const LinkedSpan& s) { return s.span.byte_start; }, "offset in the UTF-8 text")
      .def_prop_ro("byte_end", [](const LinkedSpan& s) { return s.span.byte_end; })
      .def_prop_ro("text", [](const LinkedSpan& s) { return s.span.mention; }, "the span's text")
      .def_prop_ro("detection_score", [](const LinkedSpan& s) { return s.span.detection_score; },
                   "the mention detector's confidence (1 for spans the caller gave)")
      .def_prop_ro("title", [](const LinkedSpan& s) { return best_of<std::string>(s.result, [](const auto& e) { return e.title; }); },
                   "the linked entity's title, or None when the span has no candidate")
      .def_prop_ro("entity_id", [](const LinkedSpan& s) { return best_of<int64_t>(s.result, [](const auto& e) { return e.id; }); },
                   "the linked entity's id in the knowledge base, or None")
      .def_prop_ro("ner_class", [](const LinkedSpan& s) { return best_of<std::string>(s.result, [](const auto& e) { return e.ner_class; }); },
                   "the linked entity's NER class in the knowledge base ('' when it has none), or None")
      .def_prop_ro("score", [](const LinkedSpan& s) { return best_of<double>(s.result, [](const auto& e) { return e.score; }); },
                   "the linker's score of the linked entity, or None")
      .def_prop_ro("candidates", [](const LinkedSpan& s) { return s.result.ranked; }, "the best candidates, best first")
      .def_prop_ro("type", [](const LinkedSpan& s) { return s.span.type.empty() ? std::optional<std::string>() : s.span.type; },
                   "the NER class the tagger gave the span ('PER'), None when the spotter or the caller found it")
      .def("to_dict", [](const LinkedSpan& s) { return to_python(span_json(s)); },
           "as 'ner4el annotate' writes a span: offsets, mention, detection_score and the link")
      .def("__repr__", [](const LinkedSpan& s) {
        return "Entity(" + std::to_string(s.span.start) + ", " + std::to_string(s.span.end) + ", " +
               nb::cast<std::string>(nb::repr(nb::cast(s.span.mention))) + " -> " +
               (s.result.ranked.empty() ? std::string("None") : nb::cast<std::string>(nb::repr(nb::cast(s.result.ranked.front().title)))) + ")";
      });

  nb::class_<Tagger>(m, "Tagger",
                     "The NER tagger: typed spans (PER, LOC, ORG, MISC for the shipped CoNLL-2003 tagger) of raw text. "
                     "Thread-safe: calls release the GIL.")
      .def(
          "__init__",
          [](Tagger* self, std::string path, std::string encoder, std::string dtype, std::string device) {
            LoadOptions lo;
            lo.device = resolve_device(device);
            lo.dtype = resolve_dtype(dtype, lo.device);
            nb::gil_scoped_release release;
            new (self) Tagger(Tagger::load(path.empty() ? require_default_tagger("path") : path, encoder, lo));
          },
          "path"_a = "", nb::kw_only(), "encoder"_a = "", "dtype"_a = "fp32", "device"_a = "cpu",
          "Loads a tagger folder ('' : the shipped one, taggers/conll03) over the encoder it was trained on ('' : "
          "the installed model).")
      .def(
          "tag",
          [](const Tagger& t, std::vector<std::string> texts) {
            std::vector<std::vector<TextSpan>> spans;
            {
              nb::gil_scoped_release release;
              spans = t.tag(texts);
            }
            nb::list out;
            for (const auto& doc : spans) {
              nb::list row;
              for (const auto& x : doc) {
                nb::dict d;
                d["start"] = x.start;
                d["end"] = x.end;
                d["text"] = x.mention;
                d["type"] = x.type;
                d["score"] = x.detection_score;
                row.append(d);
              }
              out.append(row);
            }
            return out;
          },
          "texts"_a,
          "Per text, its spans as dicts {start, end (Python str offsets), text, type, score}, in text order.")
      .def_prop_ro("types", &Tagger::types, "the entity types, in the head's order");

  nb::class_<Pipeline>(m, "Pipeline",
                       "A knowledge base, a linker model (the installed pretrained encoder by default), an optional "
                       "entity index and NER classifier, and mention detection, opened together. Thread-safe: "
                       "calls release the GIL.")
      .def(
          "__init__",
          [](Pipeline* self, std::string kb, std::string model, std::string index, std::string vocab,
             std::string ner_model, std::string dtype, std::string device, std::string style, int k, int top,
             std::optional<double> prior_weight, std::optional<double> rank_weight, bool ner_cd, bool ner_cg,
             double threshold, bool require_capital, int threads, std::string mentions, std::string tagger) {
            PipelineConfig c;
            c.mentions = std::move(mentions);
            c.tagger = std::move(tagger);
            c.kb = std::move(kb);
            c.model = std::move(model);
            c.index = std::move(index);
            c.vocab = std::move(vocab);
            c.ner_model = std::move(ner_model);
            c.dtype = std::move(dtype);
            c.device = std::move(device);
            c.style = std::move(style);
            c.threads = threads;
            c.link.k = k;
            c.link.top = top;
            c.link.ner_cd = ner_cd;
            c.link.ner_cg = ner_cg;
            if (prior_weight) c.prior_weight = *prior_weight;
            if (rank_weight) c.rank_weight = *rank_weight;
            if ((prior_weight && *prior_weight < 0) || (rank_weight && *rank_weight < 0))
              throw InvalidArgument("prior_weight and rank_weight must be >= 0");
            c.spotter.threshold = threshold;
            c.spotter.require_capital = require_capital;
            nb::gil_scoped_release release;
            new (self) Pipeline(Pipeline::open(c));
          },
          "kb"_a, nb::kw_only(), "model"_a = "", "index"_a = "", "vocab"_a = "", "ner_model"_a = "", "dtype"_a = "auto",
          "device"_a = "cpu", "style"_a = "auto", "k"_a = 40, "top"_a = 5, "prior_weight"_a = nb::none(), "rank_weight"_a = nb::none(),
          "ner_cd"_a = false, "ner_cg"_a = false, "threshold"_a = 0.5, "require_capital"_a = true, "threads"_a = 0,
          "mentions"_a = "auto", "tagger"_a = "",
          "Opens the pipeline. kb: a knowledge-base directory ('ner4el kb build'). model: '' for the installed "
          "pretrained encoder with the fitted prior weights, 'prior' for the count prior, or a trained linker "
          "(ner4el folder, NER4EL .ckpt, Hugging Face folder). index: entity vectors from 'ner4el index' made with "
          "the same model. dtype: fp32, bf16, int8 or auto. device: cpu, cuda or cuda:N (a CUDA libtorch build). threads: cores for the encoder (0: every core). "
          "mentions: how annotate() finds mentions: 'spotter' (the KB's aliases), 'tagger' (the NER tagger; spans the "
          "KB cannot link are kept as NIL, title None), 'both', or 'auto' (the tagger when it is installed). tagger: a tagger folder ('' : the shipped one).")
      .def(
          "link",
          [](const Pipeline& p, nb::handle mentions, std::optional<int> k, std::optional<int> top,
             std::optional<bool> ner_cd, long batch_size) {
            const size_t batch = check_batch(batch_size);
            if (nb::isinstance<nb::str>(mentions) || nb::isinstance<nb::dict>(mentions) || nb::isinstance<Mention>(mentions))
              throw InvalidArgument("link() takes a list of mentions; wrap a single one in a list");
            std::vector<Mention> ms;
            size_t i = 0;
            for (nb::handle item : nb::iter(mentions)) ms.push_back(to_mention(item, i++));
            const CallOptions o = call_options(k, top, ner_cd);
            p.check_candidates(ms);  // on the whole list, so an error names the mention's own index
            return in_batches<LinkResult>(ms.size(), batch, [&](size_t b, size_t e) {
              return p.link(std::vector<Mention>(ms.begin() + b, ms.begin() + e), o);
            });
          },
          "mentions"_a, nb::kw_only(), "k"_a = nb::none(), "top"_a = nb::none(), "ner_cd"_a = nb::none(),
          "batch_size"_a = 64,
          "Links mentions found elsewhere: each a Mention, a dict with 'mention', 'left_context', "
          "'right_context' (NER4EL's fields; BLINK's context_left/context_right also work) or a (left, mention, "
          "right) tuple. Returns one LinkResult per mention, in order. k, top, ner_cd override the pipeline's "
          "for this call.")
      .def(
          "annotate",
          [](const Pipeline& p, std::vector<std::string> texts, std::optional<int> k, std::optional<int> top,
             std::optional<bool> ner_cd, std::optional<double> threshold, std::optional<bool> require_capital,
             long batch_size, std::optional<std::string> mentions) {
            const size_t batch = check_batch(batch_size);
            CallOptions o = call_options(k, top, ner_cd);
            o.mentions = std::move(mentions);
            if (threshold || require_capital) {
              SpotterOptions s = p.spotter_options();
              if (threshold) s.threshold = *threshold;
              if (require_capital) s.require_capital = *require_capital;
              o.spotter = s;
            }
            return in_batches<std::vector<LinkedSpan>>(texts.size(), batch, [&](size_t b, size_t e) {
              return p.annotate(std::vector<std::string>(texts.begin() + b, texts.begin() + e), o);
            });
          },
          "texts"_a, nb::kw_only(), "k"_a = nb::none(), "top"_a = nb::none(), "ner_cd"_a = nb::none(),
          "threshold"_a = nb::none(), "require_capital"_a = nb::none(), "batch_size"_a = 32, "mentions"_a = nb::none(),
          "Finds and links the mentions of each text (batch_size texts linked together). Returns, per text, "
          "its Entity spans in text order. mentions: 'spotter', 'tagger' or 'both' for this call.")
      .def(
          "link_spans",
          [](const Pipeline& p, std::vector<std::string> texts, std::vector<std::vector<std::pair<long, long>>> spans,
             std::optional<int> k, std::optional<int> top, std::optional<bool> ner_cd, long batch_size) {
            const size_t batch = check_batch(batch_size);
            if (texts.size() != spans.size())
              throw InvalidArgument("link_spans: " + std::to_string(texts.size()) + " texts but " +
                                    std::to_string(spans.size()) + " span lists");
            std::vector<std::vector<TextSpan>> resolved;
            for (size_t d = 0; d < texts.size(); ++d) {
              try {
                resolved.push_back(spans_of(texts[d], spans[d]));
              } catch (const InvalidArgument& e) {
                throw InvalidArgument("texts[" + std::to_string(d) + "]: " + e.what());
              }
            }
            const CallOptions o = call_options(k, top, ner_cd);
            return in_batches<std::vector<LinkedSpan>>(texts.size(), batch, [&](size_t b, size_t e) {
              return p.link_spans(std::vector<std::string>(texts.begin() + b, texts.begin() + e),
                                  std::vector<std::vector<TextSpan>>(resolved.begin() + b, resolved.begin() + e), o);
            });
          },
          "texts"_a, "spans"_a, nb::kw_only(), "k"_a = nb::none(), "top"_a = nb::none(), "ner_cd"_a = nb::none(),
          "batch_size"_a = 32,
          "Links given spans (REL's ED mode): spans[i] is a list of (start, end) Python str offsets into texts[i]; "
          "each span's context is the rest of its text. Returns, per text, an Entity per span in the given order.")
      .def(
          "detect",
          [](const Pipeline& p, const std::string& text, std::optional<std::string> mentions) {
            std::vector<std::pair<size_t, size_t>> out;
            CallOptions o;
            o.mentions = std::move(mentions);
            nb::gil_scoped_release release;
            for (const auto& s : p.detect(text, o)) out.emplace_back(s.start, s.end);
            return out;
          },
          "text"_a, nb::kw_only(), "mentions"_a = nb::none(),
          "Mention detection alone: the (start, end) spans found (Python str offsets), by the pipeline's mention "
          "detection or by mentions='spotter', 'tagger' or 'both'.")
      .def(
          "set_threads", [](const Pipeline& p, int threads) { p.set_threads(threads); }, "threads"_a,
          "Sets the encoder's thread pools for `threads` cores (0: every core) for the dtype this pipeline loaded.")
      .def_prop_ro("description", &Pipeline::description, "which linker runs, e.g. 'pretrained encoder + prior (...)'")
      .def_prop_ro("notices", &Pipeline::notices, "what the load wants the user to know (warnings, fallbacks)")
      .def_prop_ro("entities", [](const Pipeline& p) { return p.kb().info().entities; },
                   "number of entities in the knowledge base");

  m.def("set_threads", [](int threads) { resolve_compute({"cpu", "auto", threads}); }, "threads"_a,
        "Sets the encoder's thread pools for `threads` cores (0: every core), for the dtype 'auto' gives on "
        "this CPU; Pipeline.set_threads sets them for the dtype a pipeline loaded.");
}
