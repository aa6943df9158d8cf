// ner4el tag and train-tagger: named-entity recognition.
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/dataset.h"
#include "ner4el/default_model.h"
#include "ner4el/error.h"
#include "ner4el/evaluate.h"
#include "ner4el/files.h"
#include "ner4el/link_json.h"
#include "ner4el/runtime.h"
#include "ner4el/tagger.h"
#include "ner4el/train.h"
#include "progress.h"

namespace ner4el::cli {

namespace {

nlohmann::json spans_json(const std::vector<TextSpan>& spans) {
  auto out = nlohmann::json::array();
  for (const auto& s : spans)
    out.push_back({{"start", s.start}, {"end", s.end}, {"mention", s.mention}, {"type", s.type}, {"score", s.detection_score}});
  return out;
}

void print_score(const NerScore& score, std::ostream& out) {
  char line[160];
  std::snprintf(line, sizeof line, "%-8s %9s %9s %9s %8s %8s\n", "type", "precision", "recall", "f1", "gold", "found");
  out << line;
  auto row = [&](const std::string& name, const SpanCounts& c) {
    std::snprintf(line, sizeof line, "%-8s %9.2f %9.2f %9.2f %8zu %8zu\n", name.c_str(), 100 * c.precision(), 100 * c.recall(),
                  100 * c.f1(), c.gold, c.detected);
    out << line;
  };
  for (const auto& [type, c] : score.by_type) row(type, c);
  row("micro", score.all);
}

void add_tag(CLI::App& app) {
  struct Args {
    std::string text, input, output, tagger, encoder, dtype = "fp32", scores;
    int batch = 16, threads = 0;
    bool score = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "tag",
      "Named-entity recognition: the typed mentions of raw text. Input: --text, or -i FILE of plain text (one document a "
      "line) or JSON Lines {\"id\", \"text\"} (documents in the shared format, with \"ner_spans\", are scored with "
      "--score). Output: one JSON object per document, {\"id\", \"spans\": [{start, end (Unicode code points, end "
      "exclusive), mention, type, score}]}");
  auto* text = cmd->add_option("--text", a->text, "one document given on the command line");
  cmd->add_option("-i,--input", a->input, "documents file ('-' for standard input)")->excludes(text);
  cmd->add_option("-o,--output", a->output, "output file (written to a temporary file and renamed); default stdout");
  cmd->add_option("--tagger", a->tagger, "tagger folder (default: the shipped CoNLL-2003 tagger, taggers/conll03)");
  cmd->add_option("--encoder", a->encoder, "the encoder the tagger was trained on (default: the installed model)");
  cmd->add_option("--dtype", a->dtype, "encoder arithmetic: fp32, bf16, int8 or auto")->capture_default_str();
  cmd->add_option("--threads", a->threads, "encoder threads (0: $NER4EL_THREADS or every core)")->capture_default_str();
  cmd->add_option("--batch", a->batch, "documents tagged together")->capture_default_str();
  cmd->add_flag("--score", a->score,
                "score against each document's \"ner_spans\" (exact span and type, micro-averaged as seqeval and "
                "conlleval): a table on stderr");
  cmd->add_option("--scores", a->scores, "also write the scores as JSON to this file (implies --score)");
  cmd->callback([a] {
    if (a->text.empty() && a->input.empty()) throw InvalidArgument("give --text or -i FILE");
    LoadOptions lo;
    lo.dtype = resolve_dtype(a->dtype);
    configure_threads(a->threads, lo.dtype);
    const Tagger tagger = Tagger::load(a->tagger.empty() ? require_default_tagger("--tagger") : a->tagger, a->encoder, lo);
    const bool score_it = a->score || !a->scores.empty();
    std::optional<InputFile> input;
    if (a->text.empty()) input.emplace(a->input, "input");
    std::istringstream given(a->text);
    std::istream& in = a->text.empty() ? input->stream() : given;
    const std::string name = a->text.empty() ? input->name() : "--text";
    OutputFile output(a->output);
    std::vector<nlohmann::json> ids;
    std::vector<std::string> texts;
    std::vector<std::vector<GoldSpan>> gold;
    NerScore score;
    size_t docs = 0, found = 0, n = 0;
    auto flush = [&] {
      const auto spans = tagger.tag(texts);
      for (size_t i = 0; i < texts.size(); ++i) {
        output.stream() << json_text({{"id", ids[i]}, {"spans", spans_json(spans[i])}}) << "\n";
        found += spans[i].size();
        if (score_it) score.add(gold[i], spans[i]);
      }
      docs += texts.size();
      ids.clear(), texts.clear(), gold.clear();
    };
    std::string line;
    bool too_long = false;
    while (a->text.empty() ? read_line(in, line, kMaxDocumentBytes, too_long) : (n == 0 && (line = a->text, true))) {
      ++n;
      if (too_long)
        throw FormatError(name + ":" + std::to_string(n) + ": a document longer than " + std::to_string(kMaxDocumentBytes >> 20) +
                          " MiB; split it (the tagger's memory grows with a document's words)");
      if (a->text.empty() && !line.empty() && line[0] == '{') {
        Document d = parse_document(line, name, n);
        ids.push_back(d.id.empty() ? nlohmann::json(n) : nlohmann::json(d.id));
        texts.push_back(std::move(d.text));
        gold.push_back(std::move(d.ner_spans));
      } else {
        ids.push_back(n);
        texts.push_back(line);
        gold.emplace_back();
      }
      if (texts.size() >= static_cast<size_t>(std::max(1, a->batch))) flush();
    }
    flush();
    output.commit();
    std::cerr << "tagged " << docs << " document(s): " << found << " span(s)" << (a->output.empty() ? "" : "; wrote " + a->output)
              << "\n";
    if (!score_it) return;
    print_score(score, std::cerr);
    if (a->scores.empty()) return;
    nlohmann::json j = {{"precision", score.all.precision()}, {"recall", score.all.recall()}, {"f1", score.all.f1()},
                        {"gold", score.all.gold}, {"detected", score.all.detected}, {"correct", score.all.correct}};
    for (const auto& [type, c] : score.by_type)
      j["types"][type] = {{"precision", c.precision()}, {"recall", c.recall()}, {"f1", c.f1()}, {"gold", c.gold},
                          {"detected", c.detected}, {"correct", c.correct}};
    OutputFile out(a->scores);
    out.stream() << j.dump(2) << "\n";
    out.commit();
  });
}

void add_train_tagger(CLI::App& app) {
  auto c = std::make_shared<TaggerTrainConfig>();
  auto threads = std::make_shared<int>(0);
  auto* cmd = app.add_subcommand(
      "train-tagger",
      "Train a NER tagger: a head (scalar mix of the encoder's layers, word shapes, BiLSTM, BIO tags) over a frozen "
      "pretrained encoder, from documents with \"ner_spans\" (the shared format: {\"id\", \"text\", \"ner_spans\": [{start, "
      "end, type}]}, offsets in code points; any language, any types). The epoch with the best dev F1 is kept");
  cmd->add_option("--train", c->train_data, "training documents (JSON Lines)")->required();
  cmd->add_option("--dev", c->dev_data, "dev documents (JSON Lines), for choosing the epoch")->required();
  cmd->add_option("-o,--output", c->output_dir, "tagger folder to write")->capture_default_str();
  cmd->add_option("--encoder", c->encoder, "frozen encoder (Hugging Face or ner4el folder; default: the installed model)");
  cmd->add_option("--epochs", c->epochs, "at most this many epochs")->capture_default_str();
  cmd->add_option("--patience", c->patience, "epochs without a better dev F1 before stopping")->capture_default_str();
  cmd->add_option("--lr", c->lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--batch", c->batch_size, "windows per step")->capture_default_str();
  cmd->add_option("--lstm", c->lstm, "LSTM units per direction")->capture_default_str();
  cmd->add_option("--dropout", c->dropout, "dropout of the head")->capture_default_str();
  cmd->add_option("--window", c->window, "word pieces per encoder window")->capture_default_str();
  cmd->add_option("--margin", c->margin, "pieces of context shared by neighbouring windows on each side")->capture_default_str();
  cmd->add_option("--seed", c->seed, "random seed")->capture_default_str();
  cmd->add_option("--threads", *threads, "threads (0: $NER4EL_THREADS or every core)")->capture_default_str();
  cmd->add_option("--device", c->device, "cpu, cuda or cuda:N (a CUDA libtorch build)")->capture_default_str();
  cmd->callback([c, threads] {
    configure_threads(*threads, "fp32");
    c->info = "ner4el train-tagger --train " + c->train_data + " --dev " + c->dev_data + " --epochs " + std::to_string(c->epochs) +
              " --seed " + std::to_string(c->seed);
    Progress progress;
    const auto r = train_tagger(*c, callbacks_for(progress));
    progress.done();
    std::printf("trained on %zu documents (%zu words), types", r.train_documents, r.train_words);
    for (const auto& t : r.types) std::printf(" %s", t.c_str());
    std::printf("; best dev F1 %.2f at epoch %d: %s\n", 100 * r.best_dev_f1, r.best_epoch, c->output_dir.c_str());
  });
}

}  // namespace

void add_tag_commands(CLI::App& app) {
  add_tag(app);
  add_train_tagger(app);
}

}  // namespace ner4el::cli
