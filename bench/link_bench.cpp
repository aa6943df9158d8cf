// Linking throughput with a bert-base-sized random model, K = 40, window 128:
//   (b) our re-encoding path (every candidate encoded for every mention, as the release does),
//   (c) our indexed path (entity vectors from 'ner4el index'), plus the index build rate, per dtype
//       (fp32, bf16, int8), with the top-1 agreement of each with fp32.
// (a), the release's way in PyTorch eager, is bench/link_ref.py; bench/link.sh runs all three.
//   link_bench WORKDIR [mentions_b=2] [mentions_c=32]
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "ner4el/error.h"
#include "ner4el/index.h"
#include "ner4el/linker.h"
#include "ner4el/runtime.h"
#include "ner4el/torch/bert.h"

namespace fs = std::filesystem;
using namespace ner4el;

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
std::string words(std::mt19937& rng, int n) {
  std::uniform_int_distribution<int> w(0, 29000);
  std::string s;
  for (int i = 0; i < n; ++i) s += "w" + std::to_string(w(rng)) + " ";
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: link_bench WORKDIR [mentions_b=2] [mentions_c=32]\n";
    return 2;
  }
  const fs::path work = argv[1];
  const int mb = argc > 2 ? std::stoi(argv[2]) : 2, mc = argc > 3 ? std::stoi(argv[3]) : 32, K = 40;
  configure_threads(0, "fp32");
  fs::create_directories(work);
  const fs::path model_dir = work / "bert-base-random";
  if (!fs::exists(model_dir / "model.safetensors")) {
    fs::create_directories(model_dir);
    BertConfig cfg;  // bert-base
    torch::manual_seed(0);
    BertEncoder enc(cfg);
    StateDict sd;
    for (const auto& p : enc->named_parameters()) sd[p.key()] = p.value().detach();
    write_safetensors((model_dir / "model.safetensors").string(), sd);
    std::ofstream(model_dir / "config.json") << cfg.to_json_text();
    std::ofstream vocab(model_dir / "vocab.txt");
    vocab << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (int i = 0; i < cfg.vocab_size - 5; ++i) vocab << "w" << i << "\n";
  }
  auto model = LinkerModel::load(model_dir.string());
  const int n_mentions = std::max(mb, mc);
  const fs::path kb_dir = work / ("kb-" + std::to_string(n_mentions));
  std::mt19937 rng(2);
  if (!fs::exists(kb_dir)) {
    std::ofstream e(work / "entities.jsonl");
    for (int m = 0; m < n_mentions; ++m)
      for (int k = 0; k < K; ++k) {
        nlohmann::json j{{"id", m * K + k + 1}, {"title", "E" + std::to_string(m * K + k)}, {"description", words(rng, 60)},
                         {"count", K - k}, {"class", k % 2 ? "PER" : "LOC"}, {"aliases", {"m" + std::to_string(m)}}};
        e << j.dump() << "\n";
      }
    e.close();
    KbSources src;
    src.entities = (work / "entities.jsonl").string();
    build_knowledge_base(src, kb_dir.string());
  }
  auto kb = KnowledgeBase::open(kb_dir.string());
  std::vector<Mention> mentions;
  for (int m = 0; m < n_mentions; ++m) mentions.push_back({"m" + std::to_string(m), words(rng, 50), words(rng, 50), std::nullopt});

  nlohmann::json out{{"candidates", K}, {"window", 128}, {"dtype", "fp32"}};
  {  // (b) re-encoding, one mention at a time
    LinkOptions lo;
    lo.cache_entity_vectors = false;
    BiEncoderLinker linker(kb, model, lo);
    auto t = std::chrono::steady_clock::now();
    for (int m = 0; m < mb; ++m) linker.link(mentions[m]);
    out["reencode_mentions_per_s"] = mb / since(t);
  }
  std::cout << out.dump() << "\n";
  // Per dtype: the index build rate and (c) indexed linking in batches of 32 mentions, with the
  // top-1 answers' agreement with fp32's.
  std::vector<int64_t> fp32_answers;
  for (const std::string dtype : {"fp32", "bf16", "int8"}) {
    nlohmann::json row{{"dtype", dtype}};
    LoadOptions opt;
    try {
      opt.dtype = resolve_dtype(dtype);
    } catch (const Error&) {
      row["supported"] = false;
      std::cout << row.dump() << "\n";
      continue;
    }
    configure_threads(0, dtype);
    row["threads"] = std::max(torch::get_num_threads(), runtime_info().blas_threads);
    auto m = LinkerModel::load(model_dir.string(), opt);
    const std::string index_path = (work / ("index-" + dtype)).string();
    fs::remove(index_path);
    auto t = std::chrono::steady_clock::now();
    auto rep = build_entity_index(kb, m, index_path, {});
    row["index_entities_per_s"] = rep.indexed / since(t);
    auto index = EntityIndex::open(index_path);
    BiEncoderLinker linker(kb, m, {}, &index);
    std::vector<int64_t> answers;
    t = std::chrono::steady_clock::now();
    for (int b = 0; b < mc; b += 32)
      for (const auto& r : linker.link(std::vector<Mention>(mentions.begin() + b, mentions.begin() + std::min(mc, b + 32))))
        answers.push_back(r.ranked.empty() ? -1 : r.ranked.front().id);
    row["indexed_mentions_per_s"] = mc / since(t);
    if (fp32_answers.empty()) fp32_answers = answers;
    size_t same = 0;
    for (size_t i = 0; i < answers.size(); ++i) same += answers[i] == fp32_answers[i];
    row["top1_agreement_with_fp32"] = static_cast<double>(same) / static_cast<double>(answers.size());
    std::cout << row.dump() << "\n";
  }
}
