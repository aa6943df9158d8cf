// Progress on stderr for long work: stage, percent, rate and ETA, redrawn at most 4 times a second,
// and only when stderr is a terminal (results go to stdout or files, never mixed with progress).
#pragma once

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <cstdio>
#include <string>
#include <string_view>

#include "ner4el/train.h"

namespace ner4el::cli {

class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO)) {}
  ~Progress() { done(); }

  void operator()(std::string_view stage, uint64_t done, uint64_t total) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (stage != stage_) {
      finish_line();
      stage_ = std::string(stage);
      start_ = now;
    } else if (now - last_ < std::chrono::milliseconds(250) && done < total) {
      return;
    }
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? done / secs : 0;
    char line[200];
    if (total > 0) {
      double eta = rate > 0 ? (total - done) / rate : 0;
      std::snprintf(line, sizeof line, "\r%-14s %5.1f%%  %s/s  ETA %.0fs   ", stage_.c_str(), 100.0 * done / total,
                    human(rate).c_str(), eta);
    } else {
      std::snprintf(line, sizeof line, "\r%-14s %s  %s/s   ", stage_.c_str(), human(done).c_str(), human(rate).c_str());
    }
    std::fputs(line, stderr);
    drawn_ = true;
  }
  void done() { finish_line(); }

 private:
  static std::string human(double v) {
    const char* units[] = {"", "K", "M", "G", "T"};
    int u = 0;
    while (v >= 1000 && u < 4) {
      v /= 1000;
      ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%s", v, units[u]);
    return buf;
  }
  void finish_line() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }
  bool enabled_;
  bool drawn_ = false;
  std::string stage_;
  std::chrono::steady_clock::time_point start_, last_;
};

/// Progress bars for the loops; log lines end the current bar first.
inline TrainCallbacks callbacks_for(Progress& progress) {
  TrainCallbacks cb;
  cb.progress = [&progress](std::string_view s, uint64_t d, uint64_t t) { progress(s, d, t); };
  cb.log = [&progress](const std::string& line) {
    progress.done();
    std::cerr << line << "\n";
  };
  return cb;
}

}  // namespace ner4el::cli
