// A small training set on the tiny BERT fixture, shared by the CLI training tests: n entities (two
// classes), one training mention each, `aliases` ambiguous aliases; kb/ built, train.jsonl beside
// it, and c.yaml with the fixture encoder and `extra` YAML lines appended.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace ner4el::test {

inline void write_training_set(TempDir& dir, int n, int aliases, const std::string& extra) {
  const std::string fix = NER4EL_BERT_FIXTURE;
  std::string kb, data;
  for (int id = 1; id <= n; ++id) {
    const std::string alias = "w" + std::to_string(1 + id % aliases), left = "w" + std::to_string(4 + id % 20),
                      right = "w" + std::to_string(30 + id % 9);
    kb += nlohmann::json{{"id", id}, {"title", "E" + std::to_string(id)}, {"description", left + " " + right},
                         {"count", 100 - id}, {"class", id % 2 ? "PER" : "LOC"}, {"aliases", {alias}}}
              .dump() + "\n";
    data += nlohmann::json{{"mention", alias}, {"left_context", left + " w9"}, {"right_context", right},
                           {"output", "E" + std::to_string(id)}}
                .dump() + "\n";
  }
  write_file(dir.file("kb.jsonl"), kb);
  write_file(dir.file("train.jsonl"), data);
  ASSERT_EQ(run(std::string(NER4EL_TOOL) + " kb build --entities " + dir.file("kb.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
  write_file(dir.file("c.yaml"), "encoder: " + fix + "/ner4el.ckpt\nvocab: " + fix + "/hf\nkb: " + dir.file("kb") +
                                     "\ntrain_data: " + dir.file("train.jsonl") + "\ndev_data: " + dir.file("train.jsonl") +
                                     "\nwindow: 32\nk: 4\nlr: 0.001\n" + extra);
}

}  // namespace ner4el::test
