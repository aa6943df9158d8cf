#include "ner4el/runtime.h"

#include <gtest/gtest.h>

namespace ner4el {
namespace {

// Debian's libtorch runs on whatever libblas.so.3 resolves to; without OpenBLAS it is ~30x slower.
TEST(Runtime, LibtorchUsesOpenBlas) {
  configure_threads(2);
  auto info = runtime_info();
  EXPECT_TRUE(info.openblas) << "BLAS in use: " << info.blas_library;
  EXPECT_EQ(info.threads, 2);
  EXPECT_EQ(info.torch_version.rfind("1.", 0), 0u) << info.torch_version;
  // The default leaves the cores to OpenBLAS's pool: one libtorch thread.
  configure_threads();
  info = runtime_info();
  EXPECT_EQ(info.threads, 1);
  EXPECT_GE(info.blas_threads, 1);
}

}  // namespace
}  // namespace ner4el
