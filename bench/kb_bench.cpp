// Opens a knowledge base and measures: open time, first look-up, candidate look-ups per second on
// one core (lower-casing, alias look-up, top-K), resident memory. Prints one JSON line.
//   kb_bench KB_DIR QUERIES.txt [max_queries]
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ner4el/candidates.h"
#include "ner4el/kb.h"

namespace {
long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: kb_bench KB_DIR QUERIES.txt [max_queries]\n";
    return 2;
  }
  std::vector<std::string> queries;
  {
    std::ifstream in(argv[2]);
    std::string q;
    size_t max = argc > 3 ? std::stoul(argv[3]) : 1000000;
    while (queries.size() < max && std::getline(in, q))
      if (!q.empty()) queries.push_back(q);
  }
  long rss_before = rss_kb();
  auto t0 = std::chrono::steady_clock::now();
  auto kb = ner4el::KnowledgeBase::open(argv[1]);
  double open_s = since(t0);
  ner4el::CandidateGenerator gen(kb, {.k = 40});
  auto t1 = std::chrono::steady_clock::now();
  auto first = gen.candidates(queries.at(0));
  double first_s = since(t1);
  long rss_open = rss_kb();
  size_t found = 0;
  auto t2 = std::chrono::steady_clock::now();
  for (const auto& q : queries) found += gen.candidates(q).ids.size();
  double loop_s = since(t2);
  nlohmann::json j{{"open_ms", open_s * 1e3},
                   {"first_lookup_us", first_s * 1e6},
                   {"lookups_per_s", queries.size() / loop_s},
                   {"queries", queries.size()},
                   {"candidates", found},
                   {"rss_after_open_mb", (rss_open - rss_before) / 1024.0},
                   {"rss_after_lookups_mb", (rss_kb() - rss_before) / 1024.0},
                   {"first_candidates", first.ids.size()}};
  std::cout << j.dump() << "\n";
  return 0;
}
