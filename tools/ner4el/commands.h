// Subcommands of the ner4el tool. Each add_*_command registers one subcommand on the app;
// the callbacks use only the public API in include/ner4el/.
#pragma once

#include <CLI/CLI.hpp>

namespace ner4el::cli {

void add_tokenize_command(CLI::App& app);
void add_inputs_command(CLI::App& app);
void add_kb_command(CLI::App& app);
void add_type_command(CLI::App& app);
void add_wikitext_command(CLI::App& app);
void add_link_command(CLI::App& app);
void add_annotate_command(CLI::App& app);
void add_model_commands(CLI::App& app);
void add_index_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);
void add_train_commands(CLI::App& app);
void add_tag_commands(CLI::App& app);

}  // namespace ner4el::cli
