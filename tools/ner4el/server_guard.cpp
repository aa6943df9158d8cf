#include "server_guard.h"

#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>

namespace ner4el::cli {
namespace {
thread_local std::chrono::steady_clock::time_point t_deadline{};  // epoch: none
}  // namespace

void set_request_deadline(std::chrono::milliseconds from_now) {
  t_deadline = from_now.count() > 0 ? std::chrono::steady_clock::now() + from_now : std::chrono::steady_clock::time_point{};
}

ConnectionQueue::ConnectionQueue(size_t threads, size_t max_connections, std::chrono::milliseconds request_timeout)
    : max_(std::max<size_t>(max_connections, 1)), request_timeout_(request_timeout) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) workers_.emplace_back([this] { work(); });
}

ConnectionQueue::~ConnectionQueue() { shutdown(); }

void ConnectionQueue::enqueue(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(mutex_);
  space_.wait(lock, [&] { return stopping_ || jobs_.size() + active_ < max_; });
  jobs_.push_back(std::move(fn));  // while stopping too: the job closes its socket
  job_ready_.notify_one();
}

void ConnectionQueue::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  job_ready_.notify_all();
  space_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

size_t ConnectionQueue::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return active_;
}

size_t ConnectionQueue::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.size();
}

void ConnectionQueue::work() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      job_ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++active_;
    }
    set_request_deadline(request_timeout_);
    job();  // serves the connection (its requests, keep-alive) and closes it
    set_request_deadline(std::chrono::milliseconds(0));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --active_;
    }
    space_.notify_one();
  }
}

}  // namespace ner4el::cli

// libc's recv(), as cpp-httplib's shared library calls it, with this thread's request deadline.
extern "C" ssize_t recv(int fd, void* buf, size_t n, int flags) {
  using Recv = ssize_t (*)(int, void*, size_t, int);
  static const Recv real = reinterpret_cast<Recv>(dlsym(RTLD_NEXT, "recv"));
  const auto deadline = ner4el::cli::t_deadline;
  if (deadline != std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() > deadline) {
    errno = ETIMEDOUT;
    return -1;
  }
  return real(fd, buf, n, flags);
}
