// The processes of a data-parallel run (internal): torchrun's environment (RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT; LOCAL_RANK informational) and libtorch's c10d over Gloo, the engine
// PyTorch's DistributedDataParallel uses on CPUs. One process without that environment is a world
// of one, and every operation is a no-op.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

namespace ner4el::train {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world() const = 0;
  /// Sums t over every process, in place (every process gets the sum).
  virtual void all_reduce_sum(torch::Tensor& t) = 0;
  virtual void barrier() = 0;
  bool leader() const { return rank() == 0; }
};

/// The world this process belongs to, from the environment. With WORLD_SIZE > 1 it joins the
/// others through a TCP store at MASTER_ADDR:MASTER_PORT (rank 0 serves it), waiting up to
/// timeout_s for all of them. @throws InvalidArgument for an incomplete or inconsistent environment.
std::unique_ptr<Collective> join_world(int timeout_s = 300);

}  // namespace ner4el::train
