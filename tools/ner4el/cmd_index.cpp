#include <fstream>
#include <iostream>
#include <unordered_set>

#include "commands.h"
#include "launch.h"
#include "ner4el/default_model.h"
#include "ner4el/candidates.h"
#include "ner4el/dataset.h"
#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/train.h"
#include "ner4el/runtime.h"
#include "linker_setup.h"
#include "progress.h"

namespace ner4el::cli {

void add_index_command(CLI::App& app) {
  struct Args {
    std::string model, vocab, kb, output, entities = "all";
    std::vector<std::string> from_data;
    IndexBuildOptions opt;
    int k = 40, nproc = 1;
    std::string dtype = "auto", device = "cpu";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "index", "Encode entity descriptions once into a memory-mapped vector index for fast linking (resumable: "
               "run the same command again after an interruption)");
  cmd->add_option("--model", a->model, "linker model (default: the installed pretrained model)");
  cmd->add_option("--vocab", a->vocab, "Hugging Face folder (config.json, vocab.txt) when the model has none");
  cmd->add_option("--kb", a->kb, "knowledge base")->required();
  cmd->add_option("-o,--output", a->output, "index file")->required();
  cmd->add_option("--entities", a->entities, "'all' (every entity with a description) or a file of ids, one per line")
      ->capture_default_str();
  cmd->add_option("--from-data", a->from_data, "index only the candidates of these data sets' mentions (JSON Lines)");
  cmd->add_option("-k", a->k, "with --from-data: candidates per mention")->capture_default_str();
  cmd->add_option("--batch", a->opt.batch_size, "sequences per encoder batch")->capture_default_str();
  cmd->add_flag("--fp16", a->opt.fp16, "store half-precision vectors");
  cmd->add_option("--dtype", a->dtype, kDtypeHelp)->capture_default_str();
  cmd->add_option("--device", a->device, kDeviceHelp)->capture_default_str();
  cmd->add_option("--nproc", a->nproc,
                  "processes on this machine, each encoding a shard (id % N) into OUTPUT.partial-R-of-N; the first "
                  "writes OUTPUT from all shards. Across machines, start one 'ner4el index' per process with "
                  "torchrun's RANK and WORLD_SIZE and a shared output folder; each shard resumes on its own")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->callback([a] {
    if (launch_if_asked(a->nproc, "sharded index build")) return;
    const ProcessWorld world = process_world();  // one shard of a run: RANK of WORLD_SIZE
    a->opt.shard = world.rank;
    a->opt.shards = world.world;
    LoadOptions lo;
    lo.vocab = a->vocab;
    lo.device = a->device;
    lo.dtype = use_dtype(a->dtype, a->device);
    if (a->model.empty()) a->model = require_default_model("--model");
    auto model = LinkerModel::load(a->model, lo);
    auto kb = KnowledgeBase::open(a->kb);
    if (!a->from_data.empty()) {
      CandidateGenerator gen(kb, {.k = a->k, .quirks = {}});
      std::unordered_set<int64_t> seen;
      for (const auto& f : a->from_data)
        for (const auto& m : read_mentions(f))
          for (int64_t id : gen.candidates(m.mention).ids)
            if (seen.insert(id).second) a->opt.ids.push_back(id);
    } else if (a->entities != "all") {
      std::ifstream in(a->entities);
      if (!in) throw NotFound("cannot open " + a->entities);
      std::string line;
      size_t n = 0;
      while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
          a->opt.ids.push_back(std::stoll(line));
        } catch (...) {
          throw FormatError(location(a->entities, n) + ": expected an entity id, found '" + line + "'");
        }
      }
    }
    Progress progress;
    a->opt.progress = [&](std::string_view s, uint64_t d, uint64_t t) { progress(s, d, t); };
    auto rep = build_entity_index(kb, model, a->output, a->opt);
    progress.done();
    if (a->opt.shard != 0) {
      std::cerr << "shard " << a->opt.shard << " of " << a->opt.shards << " done\n";
      return;
    }
    std::cout << "wrote " << a->output << ": " << rep.indexed << " entity vectors of dimension " << model.dim();
    if (rep.resumed) std::cout << " (" << rep.resumed << " from the interrupted run)";
    if (rep.skipped) std::cout << "; " << rep.skipped << " ids without a description skipped";
    std::cout << "\n";
  });
}

}  // namespace ner4el::cli
