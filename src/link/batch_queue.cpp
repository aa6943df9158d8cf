#include "ner4el/batch_queue.h"

namespace ner4el {

BatchQueue::BatchQueue(const Linker& linker, BatchQueueOptions options)
    : linker_(linker), options_(options), worker_([this] { run(); }) {}

BatchQueue::~BatchQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

std::vector<LinkResult> BatchQueue::link(const std::vector<Mention>& mentions, const LinkCallOptions& call) const {
  if (mentions.empty()) return {};
  (void)options_for(call);  // options out of range are the caller's error, raised in its thread
  return submit(mentions, call).get();
}

std::future<std::vector<LinkResult>> BatchQueue::submit(std::vector<Mention> mentions, const LinkCallOptions& call) const {
  Job job{std::move(mentions), call, {}};
  auto fut = job.promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
  return fut;
}

size_t BatchQueue::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pending_locked();
}

size_t BatchQueue::pending_locked() const {
  size_t n = 0;
  for (const auto& j : queue_) n += j.mentions.size();
  return n;
}

std::vector<BatchQueue::Job> BatchQueue::take_batch(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
  if (queue_.empty()) return {};
  // Give other callers a moment to join this batch.
  if (options_.wait.count() > 0)
    cv_.wait_for(lock, options_.wait, [&] { return stop_ || pending_locked() >= options_.max_batch; });
  std::vector<Job> jobs;
  jobs.push_back(std::move(queue_.front()));
  queue_.pop_front();
  size_t n = jobs.front().mentions.size();
  for (auto it = queue_.begin(); it != queue_.end() && n < options_.max_batch;) {
    if (it->call == jobs.front().call && n + it->mentions.size() <= options_.max_batch) {
      n += it->mentions.size();
      jobs.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return jobs;
}

void BatchQueue::run() {
  while (true) {
    std::vector<Job> jobs;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      jobs = take_batch(lock);
      if (jobs.empty()) return;  // stopped with nothing left
    }
    std::vector<Mention> all;
    for (auto& j : jobs) all.insert(all.end(), j.mentions.begin(), j.mentions.end());
    try {
      auto results = linker_.link(all, jobs.front().call);
      size_t at = 0;
      for (auto& j : jobs) {
        std::vector<LinkResult> mine(std::make_move_iterator(results.begin() + at),
                                     std::make_move_iterator(results.begin() + at + j.mentions.size()));
        at += j.mentions.size();
        j.promise.set_value(std::move(mine));
      }
    } catch (...) {
      for (auto& j : jobs) j.promise.set_exception(std::current_exception());
    }
  }
}

}  // namespace ner4el
