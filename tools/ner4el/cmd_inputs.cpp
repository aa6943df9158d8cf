#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ner4el/dataset.h"
#include "ner4el/inputs.h"

namespace ner4el::cli {

void add_inputs_command(CLI::App& app) {
  struct Args {
    std::string vocab, data;
    InputOptions opts;
    bool skip_bad = false, fix_left = false, fix_right = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("inputs",
                                 "Print the mention-side model inputs of a NER4EL JSON Lines file: one JSON "
                                 "object per mention with its line, ids and mention_position");
  cmd->add_option("--vocab", args->vocab, "vocab.txt, tokenizer.json or a Hugging Face model folder")->required();
  cmd->add_option("--data", args->data, "data set in NER4EL JSON Lines ('-' for standard input)")->required();
  cmd->add_option("--window", args->opts.window, "window W in word pieces")->capture_default_str();
  cmd->add_flag("--fix-left", args->fix_left, "keep the left-context pieces nearest the mention (release: farthest)");
  cmd->add_flag("--fix-right", args->fix_right, "always keep the final [SEP] of the right context");
  cmd->add_flag("--skip-bad", args->skip_bad, "skip malformed lines (counted on stderr) instead of failing");
  cmd->callback([args] {
    args->opts.quirk_left_keeps_farthest = !args->fix_left;
    args->opts.quirk_right_may_drop_sep = !args->fix_right;
    auto tok = WordPieceTokenizer::from_path(args->vocab);
    InputEncoder enc(tok, args->opts);
    DatasetReport report;
    auto mentions = read_mentions(args->data, {.skip_bad = args->skip_bad}, &report);
    size_t n = 0;
    for (const auto& m : mentions) {
      auto in = enc.encode_mention(m.left_context, m.mention, m.right_context);
      nlohmann::json j{{"index", n++}, {"mention", m.mention}, {"ids", in.ids}, {"mention_position", in.mention_position}};
      std::cout << j.dump() << '\n';
    }
    if (report.skipped) {
      std::cerr << "skipped " << report.skipped << " malformed line(s); first: " << report.errors.front() << "\n";
    }
  });
}

}  // namespace ner4el::cli
