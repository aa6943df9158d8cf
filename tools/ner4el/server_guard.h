// Limits of 'ner4el serve' that cpp-httplib 0.11 (Debian's libcpp-httplib) does not have: a deadline
// for each whole request, and a cap on the connections accepted at once.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ner4el::cli {

/// Starts (or, with a zero duration, clears) this thread's request deadline: once it has passed, a
/// read from a socket on this thread fails (ETIMEDOUT), and cpp-httplib drops the connection.
/// cpp-httplib bounds each wait for bytes (--idle-timeout), not a whole request, so a client that
/// trickles a byte a second would hold a worker as long as it liked; its reads go through libc's
/// recv(), which server_guard.cpp interposes for this executable (threads without a deadline read
/// as before).
void set_request_deadline(std::chrono::milliseconds from_now);

/// The server's connections: `threads` workers serve them; at most `max_connections` are accepted
/// and not yet finished (served or waiting for a worker). At the cap the accept loop waits, so
/// further clients wait in the kernel's backlog instead of costing memory and descriptors here.
/// Each connection's requests must arrive within `request_timeout` each (set_request_deadline; the
/// budget starts again after every response, see restart()).
class ConnectionQueue : public httplib::TaskQueue {
 public:
  ConnectionQueue(size_t threads, size_t max_connections, std::chrono::milliseconds request_timeout);
  ~ConnectionQueue() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;
  /// For the server's logger (called after each response): the next request's budget.
  void restart() const { set_request_deadline(request_timeout_); }
  size_t active() const;
  size_t waiting() const;

 private:
  void work();
  size_t max_;
  std::chrono::milliseconds request_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable job_ready_, space_;
  std::deque<std::function<void()>> jobs_;
  size_t active_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace ner4el::cli
