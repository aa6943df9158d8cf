// Encoder throughput: sequences of 128 tokens per second for a bert-base-sized random model, and the
// GFLOP/s achieved against this machine's fp32 matmul peak measured in the same run.
//   encoder_bench [batch=32] [iterations=3] [layers=12]
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ner4el/runtime.h"
#include "ner4el/torch/bert.h"

namespace {
double seconds(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int main(int argc, char** argv) {
  const int64_t B = argc > 1 ? std::stoi(argv[1]) : 32, iters = argc > 2 ? std::stoi(argv[2]) : 3;
  ner4el::configure_threads();
  ner4el::BertConfig cfg;  // bert-base
  if (argc > 3) cfg.num_hidden_layers = std::stoi(argv[3]);
  const int64_t T = 128, H = cfg.hidden_size, I = cfg.intermediate_size, L = cfg.num_hidden_layers;
  torch::manual_seed(0);
  c10::InferenceMode guard;
  // Matmul peak: the FFN's shape at this batch.
  auto a = torch::randn({B * T, H}), w = torch::randn({I, H});
  (void)torch::matmul(a, w.t());
  auto t0 = std::chrono::steady_clock::now();
  const int reps = 5;
  for (int r = 0; r < reps; ++r) (void)torch::matmul(a, w.t());
  const double peak = reps * 2.0 * B * T * H * I / seconds(t0) / 1e9;

  ner4el::BertEncoder enc(cfg);
  enc->eval();
  auto ids = torch::randint(1, cfg.vocab_size, {B, T}, torch::kLong);
  auto mask = torch::ones({B, T}, torch::kLong);
  (void)enc->forward(ids, mask);  // warm-up
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) (void)enc->forward(ids, mask);
  const double secs = seconds(t0);
  const double flop_per_seq = L * (2.0 * T * (4.0 * H * H + 2.0 * H * I) + 4.0 * T * T * H);
  const double seq_s = B * iters / secs;
  nlohmann::json j{{"impl", "ner4el (libtorch C++)"}, {"batch", B}, {"layers", L}, {"seq_per_s", seq_s},
                   {"gflops", seq_s * flop_per_seq / 1e9}, {"matmul_peak_gflops", peak},
                   {"fraction_of_peak", seq_s * flop_per_seq / 1e9 / peak}, {"threads", torch::get_num_threads()}};
  std::cout << j.dump() << "\n";
}
