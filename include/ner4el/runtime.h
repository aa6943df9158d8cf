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

/// Sets the thread pools for inference in dtype ("fp32", "bf16", "int8", as resolve_dtype gives)
/// on `threads` cores (<= 0: $NER4EL_THREADS when set, else every core). One pool works at a time,
/// as two pools that both use every core fight (their idle threads spin):
///   - fp32: the matrix products run in OpenBLAS (the pthread build) on `threads` threads;
///     libtorch's OpenMP pool gets one thread;
///   - bf16, int8: the products run in oneDNN on libtorch's OpenMP pool of `threads` threads;
///     OpenBLAS gets one.
/// Every tool calls this at start, and again once the model's dtype is known.
void configure_threads(int threads = 0, const std::string& dtype = "fp32");

/// Where and how the encoder runs: device, dtype and threads as a user asks for them ("auto", 0),
/// or as resolve_compute settles them.
struct Compute {
  std::string device = "cpu";  ///< cpu, cuda, cuda:N
  std::string dtype = "auto";  ///< fp32, bf16, int8, auto
  int threads = 0;             ///< <= 0: $NER4EL_THREADS or every core
};

/// The one place a command settles where and how the encoder runs: checks the device
/// (resolve_device), resolves the dtype for it (resolve_dtype: "auto" becomes what this CPU runs
/// best), and sets the thread pools for that dtype (configure_threads). Returns the resolved values
/// (threads as given). @throws InvalidArgument as resolve_device and resolve_dtype.
Compute resolve_compute(const Compute& requested);

/// Runs a small matmul (so the BLAS is loaded and used) and reports what served it.
RuntimeInfo runtime_info();

}  // namespace ner4el
