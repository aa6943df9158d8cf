// One batch queue for every front end: calls from many threads (server requests, Python threads,
// the CLI's reader) are linked together in batches on one worker thread, so the encoder runs on
// many mentions at once. A Linker itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "ner4el/linker.h"

namespace ner4el {

struct BatchQueueOptions {
  /// Most mentions linked together (a single call larger than this is linked whole, alone).
  size_t max_batch = 64;
  /// How long the worker waits for more calls before it links what it has; 0 links at once (calls
  /// that arrive while a batch runs still join the next one).
  std::chrono::milliseconds wait{0};
};

/// Calls are linked in arrival order; calls with the same per-call options share a batch (a call
/// with other options waits for its own). An exception of the linker reaches every call of the
/// batch. Thread-safe; holds a reference to linker, which must outlive it.
class BatchQueue : public Linker {
 public:
  explicit BatchQueue(const Linker& linker, BatchQueueOptions options = {});
  ~BatchQueue() override;  ///< links what is queued, then stops the worker
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  using Linker::link;
  /// Queues the mentions and waits for their batch.
  std::vector<LinkResult> link(const std::vector<Mention>& mentions, const LinkCallOptions& call = {}) const override;
  /// Queues the mentions; the future holds their results.
  std::future<std::vector<LinkResult>> submit(std::vector<Mention> mentions, const LinkCallOptions& call = {}) const;
  const LinkOptions& options() const override { return linker_.options(); }
  bool supports_ner_cd() const override { return linker_.supports_ner_cd(); }
  /// Mentions queued and not yet taken by the worker.
  size_t pending() const;

 private:
  struct Job {
    std::vector<Mention> mentions;
    LinkCallOptions call;
    std::promise<std::vector<LinkResult>> promise;
  };
  void run();
  std::vector<Job> take_batch(std::unique_lock<std::mutex>& lock);
  size_t pending_locked() const;

  const Linker& linker_;
  BatchQueueOptions options_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  mutable std::deque<Job> queue_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace ner4el
