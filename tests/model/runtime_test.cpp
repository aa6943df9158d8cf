#include "ner4el/runtime.h"

#include <gtest/gtest.h>

#include "ner4el/error.h"
#include "ner4el/model.h"

namespace ner4el {
namespace {

// Debian's libtorch runs on whatever libblas.so.3 resolves to; without OpenBLAS it is ~30x slower.
TEST(Runtime, LibtorchUsesOpenBlas) {
  configure_threads(2, "fp32");
  auto info = runtime_info();
  EXPECT_TRUE(info.openblas) << "BLAS in use: " << info.blas_library;
  EXPECT_EQ(info.torch_version.rfind("1.", 0), 0u) << info.torch_version;
  // fp32: OpenBLAS's pool runs the products, libtorch's keeps one thread.
  EXPECT_EQ(info.threads, 1);
  EXPECT_EQ(info.blas_threads, 2);
  // bf16 / int8: oneDNN on libtorch's pool, OpenBLAS single-threaded.
  configure_threads(2, "int8");
  info = runtime_info();
  EXPECT_EQ(info.threads, 2);
  EXPECT_EQ(info.blas_threads, 1);
  configure_threads();
  EXPECT_EQ(runtime_info().threads, 1);
}

TEST(Runtime, DtypeNames) {
  EXPECT_EQ(resolve_dtype("fp32"), "fp32");
  const std::string a = resolve_dtype("auto");
  EXPECT_TRUE(a == "fp32" || a == "bf16") << a;
  EXPECT_THROW(resolve_dtype("fp16"), InvalidArgument);
  EXPECT_THROW(resolve_dtype(""), InvalidArgument);
}

}  // namespace
}  // namespace ner4el
