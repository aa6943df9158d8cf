#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/default_model.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/json.h"
#include "ner4el/tokenizer.h"

namespace ner4el::cli {

void add_tokenize_command(CLI::App& app) {
  struct Args {
    std::string vocab, text;
    bool pieces = false, cased = false, jsonl = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("tokenize",
                                 "Print BERT WordPiece ids of --text, or of each line of standard input "
                                 "(one line of space-separated ids per input line)");
  cmd->add_option("--vocab", args->vocab,
                  "vocab.txt, tokenizer.json or a Hugging Face model folder (default: the installed pretrained model)");
  cmd->add_option("--text", args->text, "text to tokenize (default: read lines from standard input)");
  cmd->add_flag("--pieces", args->pieces, "print word pieces instead of ids");
  cmd->add_flag("--cased", args->cased, "do not lower-case or strip accents (for cased vocabularies)");
  cmd->add_flag("--jsonl", args->jsonl,
                "each input line is a JSON string (so a text may hold newlines or any character); "
                "output lines are JSON arrays");
  cmd->callback([args, cmd] {
    TokenizerOptions opts;
    opts.lower_case = opts.strip_accents = !args->cased;
    if (args->vocab.empty()) args->vocab = require_default_model("--vocab");
    auto tok = WordPieceTokenizer::from_path(args->vocab, opts);
    size_t line_no = 0;
    auto emit = [&](const std::string& line) {
      std::vector<std::string> pieces;
      ++line_no;
      if (args->jsonl) {
        const nlohmann::json j = parse_json(line, "<stdin>:" + std::to_string(line_no));
        if (!j.is_string()) throw FormatError("<stdin>:" + std::to_string(line_no) + ": expected a JSON string");
        auto ids = tok.encode(j.get_ref<const std::string&>(), &pieces);
        std::cout << (args->pieces ? nlohmann::json(pieces) : nlohmann::json(ids)).dump(-1, ' ', false,
                                                                                         nlohmann::json::error_handler_t::replace)
                  << '\n';
        return;
      }
      auto ids = tok.encode(line, &pieces);
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i) std::cout << ' ';
        if (args->pieces) std::cout << pieces[i];
        else std::cout << ids[i];
      }
      std::cout << '\n';
    };
    if (cmd->count("--text")) {
      emit(args->text);
    } else {
      std::string line;
      while (std::getline(std::cin, line)) emit(line);
    }
  });
}

}  // namespace ner4el::cli
