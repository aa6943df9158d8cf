#include <iostream>

#include "commands.h"
#include "ner4el/tokenizer.h"

namespace ner4el::cli {

void add_tokenize_command(CLI::App& app) {
  struct Args {
    std::string vocab, text;
    bool pieces = false, cased = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("tokenize",
                                 "Print BERT WordPiece ids of --text, or of each line of standard input "
                                 "(one line of space-separated ids per input line)");
  cmd->add_option("--vocab", args->vocab, "vocab.txt, tokenizer.json or a Hugging Face model folder")->required();
  cmd->add_option("--text", args->text, "text to tokenize (default: read lines from standard input)");
  cmd->add_flag("--pieces", args->pieces, "print word pieces instead of ids");
  cmd->add_flag("--cased", args->cased, "do not lower-case or strip accents (for cased vocabularies)");
  cmd->callback([args, cmd] {
    TokenizerOptions opts;
    opts.lower_case = opts.strip_accents = !args->cased;
    auto tok = WordPieceTokenizer::from_path(args->vocab, opts);
    auto emit = [&](const std::string& line) {
      std::vector<std::string> pieces;
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
