// Encoder throughput: sequences of 128 tokens per second for a bert-base-sized random model, per
// dtype (fp32, bf16, int8 where this CPU and libtorch run them) and per thread count (1 and every
// core), with the agreement of each dtype's vectors with fp32's, and the GFLOP/s achieved against
// this machine's fp32 matmul peak measured in the same run. One JSON line per configuration.
//   encoder_bench [batch=32] [iterations=3] [layers=12]
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ner4el/model.h"
#include "ner4el/runtime.h"
#include "ner4el/torch/bert.h"

namespace {
double seconds(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int main(int argc, char** argv) {
  const int64_t B = argc > 1 ? std::stoi(argv[1]) : 32, iters = argc > 2 ? std::stoi(argv[2]) : 3;
  ner4el::BertConfig cfg;  // bert-base
  if (argc > 3) cfg.num_hidden_layers = std::stoi(argv[3]);
  const int64_t T = 128, H = cfg.hidden_size, I = cfg.intermediate_size, L = cfg.num_hidden_layers;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  c10::InferenceMode guard;
  torch::manual_seed(0);
  auto ids = torch::randint(1, cfg.vocab_size, {B, T}, torch::kLong);
  auto mask = torch::ones({B, T}, torch::kLong);
  const double flop_per_seq = L * (2.0 * T * (4.0 * H * H + 2.0 * H * I) + 4.0 * T * T * H);

  ner4el::configure_threads(cores, "fp32");
  auto a = torch::randn({B * T, H}), w = torch::randn({I, H});
  (void)torch::matmul(a, w.t());
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < 5; ++r) (void)torch::matmul(a, w.t());
  const double peak = 5 * 2.0 * B * T * H * I / seconds(t0) / 1e9;

  torch::Tensor reference;  // fp32 [CLS] vectors
  for (const std::string dtype : {"fp32", "bf16", "int8"}) {
    const auto p = dtype == "fp32" ? ner4el::Precision::fp32 : dtype == "bf16" ? ner4el::Precision::bf16 : ner4el::Precision::int8;
    if (!ner4el::precision_supported(p)) {
      std::cout << nlohmann::json{{"dtype", dtype}, {"supported", false}}.dump() << "\n";
      continue;
    }
    torch::manual_seed(1);  // the same random weights for every dtype
    ner4el::BertEncoder enc(cfg);
    enc->eval();
    enc->set_precision(p);
    for (int threads : {1, cores}) {
      ner4el::configure_threads(threads, dtype);
      auto out = enc->forward(ids, mask).select(1, 0);  // warm-up, and the vectors compared
      t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < iters; ++i) (void)enc->forward(ids, mask);
      const double seq_s = B * iters / seconds(t0);
      nlohmann::json j{{"impl", "ner4el (libtorch C++)"}, {"dtype", dtype}, {"threads", threads}, {"batch", B},
                       {"layers", L}, {"seq_per_s", seq_s}, {"gflops", seq_s * flop_per_seq / 1e9},
                       {"fp32_matmul_peak_gflops", peak}};
      if (!reference.defined()) reference = out;
      auto cos = torch::nn::functional::cosine_similarity(out, reference, torch::nn::functional::CosineSimilarityFuncOptions().dim(1));
      j["min_cosine_vs_fp32"] = cos.min().item<double>();
      j["max_abs_diff_vs_fp32"] = (out - reference).abs().max().item<double>();
      std::cout << j.dump() << "\n";
      if (cores == 1) break;
    }
  }
}
