// A small HTTP load generator for 'ner4el serve', loopback only, bounded in time:
//   http_load PORT MENTIONS.jsonl [clients=16] [seconds=10] [mentions_per_request=1]
// Each client posts mentions from the file in turn until the time is up. Prints throughput,
// p50/p99 latency and the error count as one JSON line.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: http_load PORT MENTIONS.jsonl [clients=16] [seconds=10] [mentions_per_request=1]\n";
    return 2;
  }
  const int port = std::stoi(argv[1]);
  const int clients = argc > 3 ? std::stoi(argv[3]) : 16;
  const double seconds = argc > 4 ? std::stod(argv[4]) : 10;
  const size_t per_request = argc > 5 ? std::stoul(argv[5]) : 1;
  std::vector<std::string> bodies;
  {
    std::ifstream in(argv[2]);
    std::vector<nlohmann::json> mentions;
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) mentions.push_back(nlohmann::json::parse(line));
    for (size_t i = 0; i + per_request <= mentions.size(); i += per_request) {
      nlohmann::json batch = nlohmann::json::array();
      for (size_t k = 0; k < per_request; ++k) batch.push_back(mentions[i + k]);
      bodies.push_back(per_request == 1 ? batch[0].dump() : batch.dump());
    }
  }
  if (bodies.empty()) return 2;
  std::atomic<uint64_t> errors{0};
  std::mutex mu;
  std::vector<double> latencies;
  // Connections are opened one by one before the timed run (as wrk does): the server's accept
  // backlog is cpp-httplib's compiled-in 5, and a burst of simultaneous connects is not the workload.
  std::vector<std::unique_ptr<httplib::Client>> conns;
  for (int c = 0; c < clients; ++c) {
    conns.push_back(std::make_unique<httplib::Client>("127.0.0.1", port));
    conns.back()->set_read_timeout(120, 0);
    conns.back()->set_keep_alive(true);
    conns.back()->set_tcp_nodelay(true);
    auto h = conns.back()->Get("/health");
    if (!h || h->status != 200) {
      std::cerr << "error: cannot reach the server on port " << port << "\n";
      return 1;
    }
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client& cli = *conns[c];
      std::vector<double> mine;
      for (size_t i = static_cast<size_t>(c); std::chrono::steady_clock::now() < end; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = cli.Post("/link", bodies[i % bodies.size()], "application/json");
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!r || r->status != 200) {
          if (++errors <= 5)
            std::cerr << "error: " << (r ? "HTTP " + std::to_string(r->status) + " " + r->body : httplib::to_string(r.error())) << "\n";
        } else {
          mine.push_back(ms);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  auto start = std::chrono::steady_clock::now();
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, size_t(p * latencies.size()))]; };
  nlohmann::json out{{"clients", clients}, {"requests", latencies.size()}, {"errors", errors.load()},
                     {"mentions_per_request", per_request},
                     {"requests_per_s", latencies.size() / wall}, {"mentions_per_s", latencies.size() * per_request / wall},
                     {"p50_ms", pct(0.50)}, {"p99_ms", pct(0.99)}};
  std::cout << out.dump() << "\n";
  return errors ? 1 : 0;
}
