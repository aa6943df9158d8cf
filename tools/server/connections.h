// Limits of 'ner4el serve' that cpp-httplib 0.11 (Debian's libcpp-httplib) does not have: a deadline
// for each whole request, and a cap on the connections accepted at once. Nothing outside this
// queue's own connections is touched: no libc function is replaced, no signal handler installed.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace ner4el::server {

/// The server's connections: `threads` workers serve them; at most `max_connections` are accepted
/// and not yet finished (served or waiting for a worker). At the cap the accept loop waits, so
/// further clients wait in the kernel's backlog instead of costing memory and descriptors here.
///
/// Each request must arrive (headers and body) within `request_timeout`, however it trickles in:
/// cpp-httplib bounds each wait for bytes, not a whole request. The queue learns each connection's
/// socket when cpp-httplib hands it over (the connected socket it does not know yet: accept()
/// just made it) and keeps a duplicate of its descriptor; a watchdog thread shuts down the socket
/// of a request past its deadline, so the worker's read fails and cpp-httplib drops the connection.
/// The budget stops once a request has been read (pause_request_deadline, from the handler) and
/// starts again after each response (restart_request_deadline, from the server's logger).
class ConnectionQueue : public httplib::TaskQueue {
 public:
  ConnectionQueue(size_t threads, size_t max_connections, std::chrono::milliseconds request_timeout);
  ~ConnectionQueue() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;
  size_t active() const;
  size_t waiting() const;

 private:
  struct Connection {
    int watch = -1;   ///< our duplicate of the socket's descriptor (-1: unknown socket, no deadline)
    uint64_t inode = 0;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool cut = false;
  };
  struct Job {
    std::function<void()> fn;
    std::list<Connection>::iterator connection;
  };
  friend void pause_request_deadline();
  friend void restart_request_deadline();
  void work();
  void watch();
  /// The descriptor accept() just returned: a connected stream socket none of ours. Caller holds mutex_.
  int newest_connection() const;
  void set_deadline(std::chrono::steady_clock::time_point t);

  size_t max_;
  std::chrono::milliseconds request_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable job_ready_, space_, stop_watch_;
  std::deque<Job> jobs_;
  std::list<Connection> connections_;  ///< queued and active ones
  std::set<uint64_t> inodes_;           ///< their sockets
  size_t active_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::thread watchdog_;
};

/// On a worker thread: this connection's request has been read; no deadline until the response.
void pause_request_deadline();
/// On a worker thread, after a response: the connection's next request gets a new budget.
void restart_request_deadline();

}  // namespace ner4el::server
