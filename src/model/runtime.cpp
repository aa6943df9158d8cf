#include "ner4el/runtime.h"

#include <dlfcn.h>
#include <link.h>
#include <torch/torch.h>

#include <climits>
#include <cstdlib>
#include <thread>

namespace ner4el {

void configure_threads(int threads) {
  // Default: one libtorch (OpenMP) thread, while OpenBLAS (the pthread build) runs the matrix
  // products on every core. Two pools of N threads each fight: libtorch's OpenMP threads spin while
  // OpenBLAS's work. Measured on 2 cores, indexing 800 WordNet entities with all-MiniLM-L6-v2:
  // 19.2 s with 2 libtorch threads, 12.7 s with 1 (README, "Not yet").
  if (threads <= 0)
    if (const char* env = std::getenv("NER4EL_THREADS")) threads = std::atoi(env);
  torch::set_num_threads(threads > 0 ? threads : 1);
}

namespace {
int find_blas(struct dl_phdr_info* info, size_t, void* data) {
  std::string name = info->dlpi_name ? info->dlpi_name : "";
  if (name.find("libblas.so") == std::string::npos && name.find("libopenblas") == std::string::npos) return 0;
  char real[PATH_MAX];
  if (realpath(name.c_str(), real)) name = real;
  auto* out = static_cast<std::string*>(data);
  // Prefer the library libtorch asked for (libblas.so.3, which Debian's alternatives resolve).
  if (out->empty() || name.find("libblas.so") != std::string::npos) *out = name;
  return 0;
}
}  // namespace

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.torch_version = TORCH_VERSION;
  auto a = torch::ones({64, 64});
  auto b = torch::mm(a, a);  // forces BLAS use
  (void)b.sum().item<float>();
  dl_iterate_phdr(find_blas, &info.blas_library);
  info.openblas = info.blas_library.find("openblas") != std::string::npos;
  info.threads = torch::get_num_threads();
  using GetThreads = int (*)();
  if (auto f = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) info.blas_threads = f();
  return info;
}

}  // namespace ner4el
