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
/// A new connection gets no worker until the header block of its first request has arrived: until
/// then the watchdog thread polls its socket and peeks at what came (nothing is read from it), so
/// clients that send nothing or trickle their headers hold no worker, and every other client is
/// served meanwhile. Such a connection is cut when it stays silent for `idle_timeout` or its headers
/// are not all there within `request_timeout`.
///
/// Each request must arrive (headers and body) within `request_timeout`, however it trickles in:
/// cpp-httplib bounds each wait for bytes, not a whole request. The queue learns each connection's
/// socket when cpp-httplib hands it over (the connected socket it does not know yet: accept()
/// just made it) and keeps a duplicate of its descriptor; a watchdog thread shuts down the socket
/// of a request past its deadline, so the worker's read fails and cpp-httplib drops the connection.
/// The budget stops once a request has been read (pause_request_deadline, from the handler) and
/// starts again after each response (restart_request_deadline, from the server's logger).
///
/// shutdown() (when the server stops) cuts the connections still waiting for their headers, lets
/// the requests being served finish for up to `stop_timeout`, then cuts the connections that are
/// left, so a stop waits for no client (a request still computing after that is the caller's to
/// bound: 'ner4el serve' exits without it).
class ConnectionQueue : public httplib::TaskQueue {
 public:
  struct Limits {
    size_t threads = 64, max_connections = 512;
    std::chrono::milliseconds idle_timeout{5000}, request_timeout{30000}, stop_timeout{10000};
  };
  explicit ConnectionQueue(Limits limits);
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
    size_t peeked = 0;  ///< bytes of the first request seen so far (while it waits for its headers)
    std::chrono::steady_clock::time_point quiet_since;  ///< when they last grew
  };
  struct Job {
    std::function<void()> fn;
    std::list<Connection>::iterator connection;
  };
  friend void pause_request_deadline();
  friend void restart_request_deadline();
  void work();
  void watch();
  /// Moves the connections whose headers are all there (or that are cut) from pending_ to jobs_.
  /// Caller holds mutex_; ready[i] says whether pending_[i]'s socket had something to read.
  void admit(const std::vector<bool>& ready);
  void cut(Connection& c);
  /// Peeks at c's first request: true when its headers are all there (or it is closed, or its
  /// headers are longer than cpp-httplib takes); records what came for the idle timeout.
  bool headers_arrived(Connection& c, std::chrono::steady_clock::time_point now);
  /// The descriptor accept() just returned: a connected stream socket none of ours. Caller holds mutex_.
  int newest_connection() const;
  void set_deadline(std::chrono::steady_clock::time_point t);

  size_t max_;
  std::chrono::milliseconds idle_timeout_, request_timeout_, stop_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable job_ready_, space_, stop_watch_, idle_;
  std::deque<Job> jobs_;     ///< connections with a request to serve, waiting for a worker
  std::deque<Job> pending_;  ///< new connections whose first request's headers are not all there
  std::list<Connection> connections_;  ///< queued and active ones
  std::set<uint64_t> inodes_;           ///< their sockets
  size_t active_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::thread watchdog_;
  int wake_ = -1;  ///< an eventfd that wakes the watchdog's poll when a connection is added
};

/// On a worker thread: this connection's request has been read; no deadline until the response.
void pause_request_deadline();
/// On a worker thread, after a response: the connection's next request gets a new budget.
void restart_request_deadline();

}  // namespace ner4el::server
