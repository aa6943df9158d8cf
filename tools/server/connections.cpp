#include "connections.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace ner4el::server {

namespace {
using Clock = std::chrono::steady_clock;
// The queue and connection this worker thread serves (set around each job).
thread_local ConnectionQueue* t_queue = nullptr;
thread_local void* t_connection = nullptr;

uint64_t socket_inode(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return 0;
  return static_cast<uint64_t>(st.st_ino);
}
}  // namespace

ConnectionQueue::ConnectionQueue(size_t threads, size_t max_connections, std::chrono::milliseconds request_timeout)
    : max_(std::max<size_t>(max_connections, 1)), request_timeout_(request_timeout) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) workers_.emplace_back([this] { work(); });
  watchdog_ = std::thread([this] { watch(); });
}

ConnectionQueue::~ConnectionQueue() { shutdown(); }

int ConnectionQueue::newest_connection() const {
  // accept() returns the lowest free descriptor, so the new one lies below the descriptors this
  // process holds: the connections (each twice, with our duplicates) and a bounded rest.
  const int limit = static_cast<int>(2 * connections_.size()) + 1024;
  for (int fd = 0; fd < limit; ++fd) {
    const uint64_t ino = socket_inode(fd);
    if (ino == 0 || inodes_.count(ino)) continue;
    int listening = 0, type = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening) continue;
    len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) continue;
    sockaddr_storage peer{};
    socklen_t plen = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) continue;
    return fd;
  }
  return -1;
}

void ConnectionQueue::enqueue(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(mutex_);
  space_.wait(lock, [&] { return stopping_ || jobs_.size() + active_ < max_; });
  Connection c;
  const int fd = newest_connection();
  if (fd >= 0) {
    c.inode = socket_inode(fd);
    c.watch = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (c.watch >= 0) inodes_.insert(c.inode);
  }
  connections_.push_back(c);  // no deadline while it waits for a worker (work() starts it)
  jobs_.push_back({std::move(fn), std::prev(connections_.end())});  // while stopping too: the job closes its socket
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
  stop_watch_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  if (watchdog_.joinable()) watchdog_.join();
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
  t_queue = this;
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      job_ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++active_;
      job.connection->deadline = Clock::now() + request_timeout_;  // from when a worker reads it
    }
    t_connection = &*job.connection;
    job.fn();  // serves the connection (its requests, keep-alive) and closes its descriptor
    t_connection = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (job.connection->watch >= 0) {
        inodes_.erase(job.connection->inode);
        close(job.connection->watch);
      }
      connections_.erase(job.connection);
      --active_;
    }
    space_.notify_one();
  }
}

void ConnectionQueue::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    stop_watch_.wait_for(lock, std::chrono::milliseconds(100));
    const auto now = Clock::now();
    for (auto& c : connections_)
      if (!c.cut && c.watch >= 0 && now > c.deadline) {
        ::shutdown(c.watch, SHUT_RDWR);  // our duplicate: the socket is still this connection's
        c.cut = true;
      }
  }
}

void ConnectionQueue::set_deadline(Clock::time_point t) {
  std::lock_guard<std::mutex> lock(mutex_);
  static_cast<Connection*>(t_connection)->deadline = t;
}

void pause_request_deadline() {
  if (t_queue && t_connection) t_queue->set_deadline(Clock::time_point::max());
}

void restart_request_deadline() {
  if (t_queue && t_connection) t_queue->set_deadline(Clock::now() + t_queue->request_timeout_);
}

}  // namespace ner4el::server
