// ner4el convert, ner4el embed: model files in, our format or vectors out.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/files.h"
#include "ner4el/default_model.h"
#include "linker_setup.h"
#include "release_flags.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/json.h"
#include "ner4el/kb.h"
#include "ner4el/model.h"
#include "ner4el/runtime.h"

namespace ner4el::cli {

namespace {

void write_npy(const std::string& path, const std::vector<float>& data, size_t rows, size_t cols) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  OutputFile file(path);
  std::ostream& out = file.stream();
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t n = static_cast<uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&n), 2);
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)));
  file.commit();
}

std::vector<std::string> classes_of(const std::string& kb_dir, const std::string& list) {
  std::vector<std::string> out;
  if (!kb_dir.empty()) {
    auto kb = KnowledgeBase::open(kb_dir);
    for (const auto& c : kb.info().classes) out.push_back(c.first);
  } else {
    std::string cur;
    for (char c : list + ",") {
      if (c == ',') {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
      } else if (c != ' ') {
        cur.push_back(c);
      }
    }
  }
  return out;
}

}  // namespace

void add_model_commands(CLI::App& app) {
  {
    struct Args {
      std::string input, output, kind = "linker", classes_kb, classes;
      bool force = false;
      LoadOptions lo;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("convert", "Convert a model (NER4EL .ckpt, ner_classifier.pt, Hugging Face folder, "
                                              ".bin/.safetensors) into a ner4el model folder");
    cmd->add_option("input", a->input, "model file or folder")->required();
    cmd->add_option("-o,--output", a->output, "output folder (must not exist, unless --force)")->required();
    cmd->add_flag("--force", a->force, "replace an existing ner4el model folder at --output");
    cmd->add_option("--kind", a->kind, "linker or ner-classifier")->check(CLI::IsMember({"linker", "ner-classifier"}))->capture_default_str();
    cmd->add_option("--vocab", a->lo.vocab, "Hugging Face folder (config.json, vocab.txt) when the input has none (.ckpt, .pt)");
    cmd->add_option("--classes-from", a->classes_kb, "ner-classifier: take the class order from this KB (the release's id2ner order)");
    cmd->add_option("--classes", a->classes, "ner-classifier: comma-separated class order");
    cmd->add_option("--window", a->lo.window, "window W recorded in the model")->capture_default_str();
    cmd->add_option("--strict", a->lo.strict, "missing/extra/misshapen tensors are errors")->capture_default_str();
    cmd->add_flag("--keep-half", a->lo.keep_half_precision, "keep fp16/bf16 weights as stored");
    cmd->callback([a] {
      configure_threads();
      if (std::filesystem::exists(a->output) && !a->force)
        throw InvalidArgument(a->output + " already exists; --force replaces it (only a ner4el model folder is ever replaced)");
      if (a->kind == "linker") {
        auto m = LinkerModel::load(a->input, a->lo);
        for (const auto& w : m.warnings()) std::cerr << "warning: " << w << "\n";
        m.save(a->output);
        std::cout << "wrote " << a->output << ": linker, " << m.config().num_hidden_layers << " layers, hidden "
                  << m.dim() << ", vocabulary " << m.tokenizer().size() << "\n";
      } else {
        auto classes = classes_of(a->classes_kb, a->classes);
        auto c = NerClassifier::load(a->input, classes, a->lo);
        c.save(a->output);
        std::cout << "wrote " << a->output << ": ner classifier over " << c.classes().size() << " classes\n";
      }
    });
  }
  {
    struct Args {
      std::string model, data, side = "mention", npy;
      LoadOptions lo;
      int batch = 32;
      bool fix_truncation = false;
    };
    auto a = std::make_shared<Args>();
    a->lo.dtype = "auto";
    auto* cmd = app.add_subcommand("embed", "Write the model's vectors of a data set: mention side (NER4EL JSON Lines) or "
                                            "entity side ({\"description\", \"class\", \"title\"} per line); JSON Lines on stdout, or .npy");
    cmd->add_option("--model", a->model, "linker model (any format 'convert' reads; default: the installed pretrained model)");
    cmd->add_option("--vocab", a->lo.vocab, "Hugging Face folder (config.json, vocab.txt) when the model has none");
    cmd->add_option("--data", a->data, "input JSON Lines ('-' for standard input)")->required();
    cmd->add_option("--side", a->side, "mention or entity")->check(CLI::IsMember({"mention", "entity"}))->capture_default_str();
    cmd->add_option("--npy", a->npy, "write a float32 .npy matrix [n, dim] here instead of JSON Lines");
    cmd->add_option("--batch", a->batch, "sequences per encoder batch")->capture_default_str();
    cmd->add_option("--style", a->lo.style,
                    "release (vector at the mention position and [CLS]), sentence (mean pooling over plain text), or "
                    "auto (sentence for a sentence-transformers folder)")
        ->capture_default_str();
    cmd->add_option("--dtype", a->lo.dtype, kDtypeHelp)->capture_default_str();
    cmd->add_option("--device", a->lo.device, kDeviceHelp)->capture_default_str();
    cmd->add_flag("--fix-truncation", a->fix_truncation,
                  "cut inputs the sane way: left context next to the mention, [SEP] always kept (default: as the "
                  "release's dataset.py, which the released and our trained models saw)");
    auto rf = add_release_flags(cmd);
    cmd->callback([a, rf] {
      a->lo.dtype = use_dtype(a->lo.dtype, a->lo.device);
      (void)rf->resolve();  // checks --quirk names; the input quirks are the only ones embed has
      if (rf->all && a->fix_truncation) throw InvalidArgument("--fix-truncation contradicts --release-compat");
      if (a->model.empty()) a->model = require_default_model("--model");
      auto m = LinkerModel::load(a->model, a->lo);
      InputOptions io = m.input_encoder().options();
      io.quirk_left_keeps_farthest = io.quirk_right_may_drop_sep = io.quirk_entity_cut_drops_sep = !a->fix_truncation;
      const InputEncoder enc(m.tokenizer(), io);
      std::vector<float> vecs;
      size_t n = 0;
      if (a->side == "mention") {
        std::vector<MentionInput> inputs;
        for (const auto& x : read_mentions(a->data)) inputs.push_back(enc.encode_mention(x.left_context, x.mention, x.right_context));
        vecs = m.embed_mentions(inputs, a->batch);
        n = inputs.size();
      } else {
        InputFile input(a->data, "data set");
        std::istream* in = &input.stream();
        std::vector<EntityInput> inputs;
        std::string line;
        size_t ln = 0;
        while (std::getline(*in, line)) {
          ++ln;
          if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
          const nlohmann::json j = parse_json(line, location(a->data, ln));
          if (!j.is_object() || !j.contains("description") || !j["description"].is_string())
            throw FormatError(location(a->data, ln, "description") + ": missing or not a string");
          std::string cls = j.contains("class") && j["class"].is_string() ? j["class"].get<std::string>() : "";
          std::string title = j.contains("title") && j["title"].is_string() ? j["title"].get<std::string>() : "";
          inputs.push_back(enc.encode_entity(j["description"].get<std::string>(), cls, title));
        }
        vecs = m.embed_entities(inputs, a->batch);
        n = inputs.size();
      }
      const size_t d = static_cast<size_t>(m.dim());
      if (!a->npy.empty()) {
        write_npy(a->npy, vecs, n, d);
        std::cerr << "wrote " << n << " x " << d << " vectors to " << a->npy << "\n";
        return;
      }
      for (size_t i = 0; i < n; ++i) {
        nlohmann::json j{{"index", i}, {"vector", std::vector<float>(vecs.begin() + i * d, vecs.begin() + (i + 1) * d)}};
        std::cout << j.dump() << "\n";
      }
    });
  }
}

}  // namespace ner4el::cli
