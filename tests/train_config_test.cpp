// The training YAML as a hostile file: every value type-checked and bounded, errors name the file,
// the line and the option (never a yaml-cpp exception or an endless run).
#include <gtest/gtest.h>

#include <string>

#include "ner4el/error.h"
#include "ner4el/train.h"
#include "test_util.h"

namespace ner4el {
namespace {

std::string error_of(const std::string& path) {
  try {
    TrainConfig::from_yaml(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfigFile, HostileValuesNameTheLineAndTheOption) {
  test::TempDir dir;
  struct Case {
    const char* yaml;
    const char* expect;
  } cases[] = {
      {"k: 40\n{a: b}: 1\n", "bad.yaml:2: an option name: expected a plain name"},
      {"[1, 2]: x\n", "bad.yaml:1: an option name"},
      {"k: 40\nrelease_quirks: [{a: b}]\n", "bad.yaml:2: option 'release_quirks': expected a list of plain values"},
      {"k: 40\nrelease_quirks: [[duplicate-ids]]\n", "bad.yaml:2: option 'release_quirks'"},
      {"lr: {x: 1}\n", "bad.yaml:1: option 'lr': expected a value or a list"},
      {"k: forty\n", "bad.yaml:1: training option 'k': expected an integer, found 'forty'"},
      {"k: 1e400\n", "bad.yaml:1: training option 'k': expected an integer"},
      {"lr: 1e400\n", "bad.yaml:1: training option 'lr'"},
      {"lr: nan\n", "bad.yaml:1: training option 'lr'"},
      {"window: 2000000000\n", "bad.yaml:1: training option 'window' = '2000000000' is out of range"},
      {"k: 99999999\n", "out of range"},
      {"epochs: -1\n", "out of range"},
      {"dropout: 1.5\n", "out of range"},
      {"threads: 100000\n", "out of range"},
      {"ner_r: maybe\n", "expected true or false, found 'maybe'"},
      {"no_such_option: 1\n", "unknown training option 'no_such_option'"},
      {"- a\n- b\n", "expected a mapping of option: value"},
      {"k: [1, 2\n", "not valid YAML"},
      {"k: &a [*a]\n", ""},  // an alias to itself: yaml-cpp refuses or reads it; either way no crash
  };
  for (const auto& c : cases) {
    test::write_file(dir.file("bad.yaml"), c.yaml);
    const std::string err = error_of(dir.file("bad.yaml"));
    if (*c.expect) EXPECT_NE(err.find(c.expect), std::string::npos) << c.yaml << " -> " << err;
  }
  // Nesting deep enough to exhaust a recursive parser's stack: refused, not a crash.
  test::write_file(dir.file("bad.yaml"), "k: " + std::string(100000, '[') + "\n");
  EXPECT_FALSE(error_of(dir.file("bad.yaml")).empty());
  // A file far bigger than any configuration is refused before it is parsed.
  test::write_file(dir.file("big.yaml"), "k: 40\n" + std::string(2 << 20, '#') + "\n");
  EXPECT_NE(error_of(dir.file("big.yaml")).find("at most 1 MiB"), std::string::npos);
  EXPECT_NE(error_of(dir.path().string()).find("is a directory"), std::string::npos);
  EXPECT_NE(error_of(dir.file("none.yaml")).find("cannot open"), std::string::npos);
  // What is valid still reads.
  test::write_file(dir.file("ok.yaml"), "k: 20\nlr: 2e-5\nner_r: yes\nrelease_quirks: [duplicate-ids]\n");
  auto c = TrainConfig::from_yaml(dir.file("ok.yaml"));
  EXPECT_EQ(c.k, 20);
  EXPECT_DOUBLE_EQ(c.lr, 2e-5);
  EXPECT_TRUE(c.ner_r);
}

}  // namespace
}  // namespace ner4el
