#include "train/collective.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>

#include "ner4el/error.h"
#include "ner4el/train.h"

namespace ner4el::train {

namespace {

class Alone : public Collective {
 public:
  int rank() const override { return 0; }
  int world() const override { return 1; }
  void all_reduce_sum(torch::Tensor&) override {}
  void barrier() override {}
};

class Gloo : public Collective {
 public:
  Gloo(int rank, int world, const std::string& addr, int port, int timeout_s) : rank_(rank), world_(world) {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(port);
    so.isServer = rank == 0;
    so.numWorkers = world;
    so.waitWorkers = true;
    so.timeout = std::chrono::seconds(timeout_s);
    auto store = c10::make_intrusive<c10d::TCPStore>(addr, so);
    auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(timeout_s));
    // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch; else the address that reaches
    // MASTER_ADDR's host name, and loopback for a single machine.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (addr == "127.0.0.1" || addr == "localhost")
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
  }
  int rank() const override { return rank_; }
  int world() const override { return world_; }
  void all_reduce_sum(torch::Tensor& t) override {
    std::vector<torch::Tensor> ts{t};
    group_->allreduce(ts)->wait();
  }
  void barrier() override { group_->barrier()->wait(); }

 private:
  int rank_, world_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};

}  // namespace

std::unique_ptr<Collective> join_world(int timeout_s) {
  const ProcessWorld w = process_world();
  if (w.world == 1) return std::make_unique<Alone>();
  if (w.master_addr.empty() || w.master_port <= 0 || w.master_port > 65535)
    throw InvalidArgument("WORLD_SIZE=" + std::to_string(w.world) + " needs MASTER_ADDR and MASTER_PORT (torchrun's variables)");
  try {
    return std::make_unique<Gloo>(w.rank, w.world, w.master_addr, w.master_port, timeout_s);
  } catch (const c10::Error& e) {
    throw Error("rank " + std::to_string(w.rank) + " could not join the " + std::to_string(w.world) + " processes at " +
                w.master_addr + ":" + std::to_string(w.master_port) + ": " + e.what_without_backtrace());
  }
}

}  // namespace ner4el::train
