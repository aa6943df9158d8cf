#include "train/collective.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>

#include "ner4el/error.h"

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

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end || x < 0 || x > (1 << 20)) throw InvalidArgument(std::string(name) + "='" + v + "' is not a non-negative integer");
  return static_cast<int>(x);
}

}  // namespace

std::unique_ptr<Collective> join_world(int timeout_s) {
  const int world = env_int("WORLD_SIZE", 1);
  if (world <= 1) return std::make_unique<Alone>();
  const int rank = env_int("RANK", -1);
  const char* addr = std::getenv("MASTER_ADDR");
  const int port = env_int("MASTER_PORT", 0);
  if (rank < 0 || rank >= world)
    throw InvalidArgument("WORLD_SIZE=" + std::to_string(world) + " needs RANK between 0 and " + std::to_string(world - 1));
  if (!addr || !*addr || port <= 0 || port > 65535)
    throw InvalidArgument("WORLD_SIZE=" + std::to_string(world) + " needs MASTER_ADDR and MASTER_PORT (torchrun's variables)");
  try {
    return std::make_unique<Gloo>(rank, world, addr, port, timeout_s);
  } catch (const c10::Error& e) {
    throw Error("rank " + std::to_string(rank) + " could not join the " + std::to_string(world) + " processes at " + addr +
                ":" + std::to_string(port) + ": " + e.what_without_backtrace());
  }
}

}  // namespace ner4el::train
