// The numeric runtime under the model: libtorch, its BLAS and its threads.
#pragma once

#include <string>

namespace ner4el {

struct RuntimeInfo {
  std::string torch_version;  ///< e.g. "1.13.1"
  std::string blas_library;   ///< resolved path of the BLAS shared library loaded in this process
  bool openblas = false;      ///< true when that library is OpenBLAS (not the slow reference BLAS)
  int threads = 1;            ///< libtorch intra-op threads
  int blas_threads = 0;       ///< OpenBLAS's threads (0 when not OpenBLAS)
};

/// Sets libtorch's intra-op threads. threads <= 0 (the default): one, leaving the cores to
/// OpenBLAS's own pool, which runs the matrix products (two pools that both use every core fight).
/// $NER4EL_THREADS, when set, takes the place of the default. Every tool calls this at start.
void configure_threads(int threads = 0);

/// Runs a small matmul (so the BLAS is loaded and used) and reports what served it.
RuntimeInfo runtime_info();

}  // namespace ner4el
