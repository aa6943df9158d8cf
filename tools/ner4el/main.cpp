// ner4el: entity linking with NER-enhanced BERT bi-encoders (EMNLP 2021 Findings).
#include <iostream>

#include "commands.h"
#include "ner4el/default_model.h"
#include "ner4el/error.h"
#include "ner4el/model.h"
#include "ner4el/runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"ner4el: named-entity-aware entity linking (NER4EL) in C++.\n"
               "Run 'ner4el <command> --help' for the options of a command."};
  app.set_version_flag("--version,-V", [] {
    const std::string dtype = ner4el::resolve_compute({}).dtype;
    auto info = ner4el::runtime_info();
    const std::string products = dtype == "fp32" ? "OpenBLAS" : "oneDNN on libtorch's OpenMP pool";
    return std::string("ner4el ") + NER4EL_VERSION + "\ndefault dtype " + dtype + " (--dtype auto on this CPU): matrix products in " +
           products + "\nlibtorch " + info.torch_version + ", " + std::to_string(info.threads) +
           " OpenMP intra-op thread(s)\nBLAS " + info.blas_library + ", " + std::to_string(info.blas_threads) + " thread(s)" +
           (info.openblas ? " (OpenBLAS)" : " (NOT OpenBLAS: run scripts/install-deps for libopenblas0-pthread)") +
           "\npretrained model " +
           ner4el::default_model_dir().value_or("none installed (run scripts/install-deps, or set NER4EL_MODEL)");
  });
  app.require_subcommand(1);
  ner4el::cli::add_tokenize_command(app);
  ner4el::cli::add_inputs_command(app);
  ner4el::cli::add_kb_command(app);
  ner4el::cli::add_type_command(app);
  ner4el::cli::add_wikitext_command(app);
  ner4el::cli::add_annotate_command(app);
  ner4el::cli::add_link_command(app);
  ner4el::cli::add_model_commands(app);
  ner4el::cli::add_index_command(app);
  ner4el::cli::add_serve_command(app);
  ner4el::cli::add_evaluate_command(app);
  ner4el::cli::add_train_commands(app);
  ner4el::cli::add_tag_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors exit 2, as documented in --help
  } catch (const ner4el::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {  // a library's own exception that no reader turned into ours
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
