#include "connections.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

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

ConnectionQueue::ConnectionQueue(Limits limits)
    : max_(std::max<size_t>(limits.max_connections, 1)),
      idle_timeout_(limits.idle_timeout),
      request_timeout_(limits.request_timeout),
      stop_timeout_(limits.stop_timeout) {
  wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  for (size_t i = 0; i < std::max<size_t>(limits.threads, 1); ++i) workers_.emplace_back([this] { work(); });
  watchdog_ = std::thread([this] { watch(); });
}

ConnectionQueue::~ConnectionQueue() {
  shutdown();
  if (wake_ >= 0) close(wake_);
}

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
  space_.wait(lock, [&] { return stopping_ || jobs_.size() + pending_.size() + active_ < max_; });
  Connection c;
  const int fd = newest_connection();
  if (fd >= 0) {
    c.inode = socket_inode(fd);
    c.watch = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (c.watch >= 0) inodes_.insert(c.inode);
  }
  const auto now = Clock::now();
  c.quiet_since = now;
  connections_.push_back(c);
  Job job{std::move(fn), std::prev(connections_.end())};
  if (c.watch >= 0 && !stopping_ && !headers_arrived(*job.connection, now)) {  // a worker once they are
    job.connection->deadline = now + request_timeout_;
    pending_.push_back(std::move(job));
    const uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_, &one, sizeof one);  // the watchdog polls it from now on
    return;
  }
  jobs_.push_back(std::move(job));  // while stopping too: the job closes its socket
  job_ready_.notify_one();
}

void ConnectionQueue::cut(Connection& c) {
  if (c.cut || c.watch < 0) return;
  ::shutdown(c.watch, SHUT_RDWR);  // our duplicate: the socket is still this connection's
  c.cut = true;
}

void ConnectionQueue::shutdown() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_ && workers_.empty()) return;
  stopping_ = true;
  // Connections whose request never arrived are cut; those being served get stop_timeout to finish.
  for (auto& job : pending_) cut(*job.connection);
  for (auto& job : pending_) jobs_.push_back(std::move(job));
  pending_.clear();
  job_ready_.notify_all();
  space_.notify_all();
  stop_watch_.notify_all();
  if (!idle_.wait_for(lock, stop_timeout_, [&] { return active_ == 0 && jobs_.empty(); }))
    for (auto& c : connections_) cut(c);  // what is left: its reads and writes fail, its worker lets go
  lock.unlock();
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
  return jobs_.size() + pending_.size();
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
      if (active_ == 0 && jobs_.empty()) idle_.notify_all();
    }
    space_.notify_one();
  }
}

void ConnectionQueue::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  std::vector<pollfd> fds;
  while (!stopping_) {
    // Wait for bytes on the connections still waiting for their headers (at most 50 ms, so new
    // connections and deadlines are seen), without the lock.
    fds.assign(1, pollfd{wake_, POLLIN, 0});  // a new connection (enqueue) wakes the poll
    for (const auto& job : pending_) fds.push_back({job.connection->watch, POLLIN, 0});
    lock.unlock();
    if (::poll(fds.data(), fds.size(), 50) < 0)
      for (auto& p : fds) p.revents = POLLIN;  // (EINTR) peek at every one
    if (fds[0].revents) {
      uint64_t count;
      [[maybe_unused]] auto n = read(wake_, &count, sizeof count);
    }
    lock.lock();
    if (stopping_) break;
    // Only this thread removes from pending_, and enqueue appends: the first fds.size() - 1 entries
    // are the ones polled; a new one is peeked at once.
    std::vector<bool> ready(pending_.size(), true);
    for (size_t i = 1; i < fds.size(); ++i) ready[i - 1] = fds[i].revents != 0;
    admit(ready);
    const auto now = Clock::now();
    for (auto& c : connections_)
      if (now > c.deadline) cut(c);
  }
}

bool ConnectionQueue::headers_arrived(Connection& c, Clock::time_point now) {
  static constexpr size_t kPeek = 16384;  // headers longer than this: cpp-httplib answers them
  static thread_local char buf[kPeek];
  const ssize_t n = ::recv(c.watch, buf, kPeek, MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0) return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);  // closed, or an error
  if (static_cast<size_t>(n) > c.peeked) {
    c.peeked = static_cast<size_t>(n);
    c.quiet_since = now;
  }
  return static_cast<size_t>(n) == kPeek || memmem(buf, static_cast<size_t>(n), "\r\n\r\n", 4) != nullptr;
}

void ConnectionQueue::admit(const std::vector<bool>& ready) {
  const auto now = Clock::now();
  std::deque<Job> still;
  for (size_t i = 0; i < pending_.size(); ++i) {
    Connection& c = *pending_[i].connection;
    bool go = c.cut || now > c.deadline || (ready[i] && headers_arrived(c, now));
    if (!go && now - c.quiet_since > idle_timeout_) go = true;  // silent too long
    if (!go) {
      still.push_back(std::move(pending_[i]));
      continue;
    }
    if (now > c.deadline || now - c.quiet_since > idle_timeout_) cut(c);  // the job only closes it
    c.deadline = Clock::time_point::max();  // work() starts the request's budget
    jobs_.push_back(std::move(pending_[i]));
    job_ready_.notify_one();
  }
  pending_.swap(still);
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
