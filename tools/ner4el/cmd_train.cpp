#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "ner4el/error.h"
#include "ner4el/train.h"
#include "launch.h"
#include "progress.h"
#include "release_flags.h"

namespace ner4el::cli {


void add_train_commands(CLI::App& app) {
  {
    struct Args {
      std::string config;
      std::vector<std::string> sets;
      std::string device;
      int nproc = 1;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("train", "Train the NER4EL bi-encoder (NER-R, NER-NS) with early stopping on dev "
                                            "accuracy; resumes after an interruption; metrics in OUTPUT/metrics.jsonl");
    cmd->add_option("--config", a->config, "YAML configuration (defaults: conf/ner4el.yaml)");
    cmd->add_option("--set", a->sets, "override one option: key=value (repeatable)");
    cmd->add_option("--nproc", a->nproc,
                    "data-parallel processes on this machine (each takes a share of every accumulation window; "
                    "the weights equal one process's). Across machines, start one 'ner4el train' per process with "
                    "torchrun's variables RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT instead")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    cmd->add_option("--device", a->device, "cpu, cuda or cuda:N (the same as --set device=...; a CUDA libtorch build)");
    auto rf = add_release_flags(cmd);
    cmd->callback([a, rf] {
      if (launch_if_asked(a->nproc, "data-parallel training")) return;
      TrainConfig c = a->config.empty() ? TrainConfig{} : TrainConfig::from_yaml(a->config);
      c.quirks = rf->resolve(c.quirks);
      for (const auto& kv : a->sets) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) throw InvalidArgument("--set expects key=value, found '" + kv + "'");
        c.set(kv.substr(0, eq), kv.substr(eq + 1));
      }
      if (!a->device.empty()) c.device = a->device;
      Progress progress;
      auto r = train_linker(c, callbacks_for(progress));
      progress.done();
      if (process_world().rank != 0) return;  // rank 0 reports
      std::cout << "trained on " << r.train_mentions << " mentions (" << r.dropped << " dropped); " << r.epochs.size()
                << " epoch(s) logged" << (r.early_stopped ? ", stopped early" : "") << "; best dev accuracy "
                << 100 * r.best_dev_accuracy << "% at epoch " << r.best_epoch << ": " << r.best_checkpoint << "\n";
    });
  }
  {
    auto c = std::make_shared<TrainNerConfig>();
    auto* cmd = app.add_subcommand("train-ner", "Train the NER classifier on the training mentions labelled with their "
                                                "gold entity's class (classes in the KB's order)");
    cmd->add_option("--encoder", c->encoder, "starting encoder (Hugging Face folder, ner4el model)")->required();
    cmd->add_option("--vocab", c->vocab, "Hugging Face folder when the encoder has no vocabulary");
    cmd->add_option("--kb", c->kb, "knowledge base (gives the classes)")->required();
    cmd->add_option("--train", c->train_data, "training mentions (JSON Lines)")->required();
    cmd->add_option("--dev", c->dev_data, "dev mentions (JSON Lines)")->required();
    cmd->add_option("-o,--output", c->output_dir, "output folder (best/ holds the classifier)")->capture_default_str();
    cmd->add_option("--epochs", c->epochs, "epochs")->capture_default_str();
    cmd->add_option("--lr", c->lr, "Adam learning rate")->capture_default_str();
    cmd->add_option("--batch", c->batch_size, "mentions per step")->capture_default_str();
    cmd->add_option("--window", c->window, "window W")->capture_default_str();
    cmd->add_option("--seed", c->seed, "random seed")->capture_default_str();
    cmd->add_option("--device", c->device, "cpu, cuda or cuda:N (a CUDA libtorch build)")->capture_default_str();
    cmd->callback([c] {
      Progress progress;
      auto r = train_ner_classifier(*c, callbacks_for(progress));
      progress.done();
      std::cout << "trained on " << r.train_mentions << " mentions (" << r.dropped << " without a classed gold entity); best: "
                << r.best_checkpoint << "\n";
    });
  }
}

}  // namespace ner4el::cli
