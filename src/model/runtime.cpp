#include "ner4el/runtime.h"

#include <link.h>
#include <torch/torch.h>

#include <climits>
#include <cstdlib>
#include <thread>

namespace ner4el {

void configure_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
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
  return info;
}

}  // namespace ner4el
