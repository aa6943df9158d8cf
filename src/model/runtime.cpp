#include "ner4el/runtime.h"

#include "ner4el/model.h"
#include "ner4el/process.h"

#include <dlfcn.h>
#include <link.h>
#include <torch/torch.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <thread>

namespace ner4el {

namespace {
void set_blas_threads(int n) {
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}
}  // namespace

void configure_threads(int threads, const std::string& dtype) {
  // Measured on 2 cores (README, "Speed"): with both pools at 2 threads, libtorch's OpenMP threads
  // spin while OpenBLAS's work; indexing 800 WordNet entities with all-MiniLM-L6-v2 took 19.2 s
  // against 12.7 s with one libtorch thread.
  if (threads <= 0) threads = threads_from_env();
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (dtype == "fp32") {
    torch::set_num_threads(1);
    set_blas_threads(threads);
  } else {
    set_blas_threads(1);
    torch::set_num_threads(threads);
  }
}

Compute resolve_compute(const Compute& requested) {
  Compute c = requested;
  c.device = resolve_device(requested.device);
  c.dtype = resolve_dtype(requested.dtype, c.device);
  configure_threads(c.threads, c.dtype);
  return c;
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
