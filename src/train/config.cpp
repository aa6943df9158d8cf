#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "ner4el/error.h"
#include "ner4el/train.h"

namespace ner4el {

namespace {

bool parse_bool(const std::string& v, bool& out) {
  if (v == "true" || v == "True" || v == "1" || v == "yes" || v == "on") return out = true, true;
  if (v == "false" || v == "False" || v == "0" || v == "no" || v == "off") return out = false, true;
  return false;
}

template <typename T>
bool parse_number(const std::string& v, T& out) {
  std::istringstream ss(v);
  T x;
  if (!(ss >> x) || !ss.eof()) return false;
  out = x;
  return true;
}

}  // namespace

void TrainConfig::set(const std::string& key, const std::string& value) {
  auto bad = [&](const char* what) {
    throw InvalidArgument("training option '" + key + "': expected " + what + ", found '" + value + "'");
  };
  auto str = [&](std::string& dst) { dst = value; };
  auto integer = [&](int& dst) { if (!parse_number(value, dst)) bad("an integer"); };
  auto real = [&](double& dst) { if (!parse_number(value, dst)) bad("a number"); };
  auto flag = [&](bool& dst) { if (!parse_bool(value, dst)) bad("true or false"); };
  if (key == "encoder") str(encoder);
  else if (key == "vocab") str(vocab);
  else if (key == "kb") str(kb);
  else if (key == "train_data") str(train_data);
  else if (key == "dev_data") str(dev_data);
  else if (key == "output_dir") str(output_dir);
  else if (key == "window") integer(window);
  else if (key == "k") integer(k);
  else if (key == "ner_r") flag(ner_r);
  else if (key == "ner_ns") flag(ner_ns);
  else if (key == "random_negatives") flag(random_negatives);
  else if (key == "lr") real(lr);
  else if (key == "beta1") real(beta1);
  else if (key == "beta2") real(beta2);
  else if (key == "adam_eps") real(adam_eps);
  else if (key == "weight_decay") real(weight_decay);
  else if (key == "accumulation") integer(accumulation);
  else if (key == "epochs") integer(epochs);
  else if (key == "patience") integer(patience);
  else if (key == "keep_best") integer(keep_best);
  else if (key == "seed") { if (!parse_number(value, seed)) bad("a non-negative integer"); }
  else if (key == "cosine_restarts") flag(cosine_restarts);
  else if (key == "restart_t0") integer(restart_t0);
  else if (key == "restart_t_mult") integer(restart_t_mult);
  else if (key == "dropout") real(dropout);
  else if (key == "threads") integer(threads);
  else if (key == "resume") flag(resume);
  else if (key == "device") str(device);
  else if (key == "precision") {
    if (value != "fp32" && value != "bf16") bad("fp32 or bf16");
    str(precision);
  }
  else if (key == "max_steps") {
    if (!parse_number(value, max_steps)) bad("a non-negative integer");
  }
  else if (key == "release_compat") {
    bool on = false;
    if (!parse_bool(value, on)) bad("true or false");
    if (on) quirks = ReleaseQuirks::all();
  } else if (key == "release_quirks") {
    std::string cur;
    for (char ch : value + ",") {
      if (ch == ',') {
        if (!cur.empty()) quirks.enable(cur);
        cur.clear();
      } else if (ch != ' ' && ch != '[' && ch != ']') {
        cur.push_back(ch);
      }
    }
  }
  else throw InvalidArgument("unknown training option '" + key + "' (see conf/ner4el.yaml for the list)");
  if (window < 4 || window > 65536 || k < 1 || k > 10000 || accumulation < 1 || accumulation > (1 << 20) ||
      epochs < 0 || epochs > (1 << 20) || patience < 1 || keep_best < 1 || keep_best > 1000 || !(lr > 0) ||
      threads < 0 || threads > 4096 || restart_t0 < 1 || restart_t_mult < 1 || !(dropout >= 0 && dropout < 1))
    throw InvalidArgument("training option '" + key + "' = '" + value + "' is out of range");
}

namespace {

/// The text of a scalar YAML node; anything else is the file's error, with its line and the field.
std::string scalar_text(const YAML::Node& node, const std::string& path, const std::string& field, const char* expected) {
  if (!node.IsScalar())
    throw FormatError(path + ":" + std::to_string(node.Mark().line + 1) + ": " + field + ": expected " + expected);
  return node.Scalar();
}

}  // namespace

TrainConfig TrainConfig::from_yaml(const std::string& path) {
  constexpr std::uintmax_t kMaxBytes = 1 << 20;  // a configuration, not a data set
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InvalidArgument(path + " is a directory, not a training configuration");
  if (auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxBytes)
    throw FormatError(path + ": " + std::to_string(size) + " bytes; a training configuration has at most 1 MiB");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw NotFound("cannot open training configuration " + path);
  } catch (const YAML::Exception& e) {
    throw FormatError(path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  TrainConfig c;
  if (!root.IsDefined() || root.IsNull()) return c;
  if (!root.IsMap()) throw FormatError(path + ": expected a mapping of option: value");
  for (const auto& kv : root) {
    const std::string key = scalar_text(kv.first, path, "an option name", "a plain name");
    std::string value;
    if (kv.second.IsSequence()) {
      for (const auto& item : kv.second)
        value += (value.empty() ? "" : ",") + scalar_text(item, path, "option '" + key + "'", "a list of plain values");
    } else if (kv.second.IsScalar()) {
      value = kv.second.Scalar();
    } else if (!kv.second.IsNull()) {
      throw FormatError(path + ":" + std::to_string(kv.first.Mark().line + 1) + ": option '" + key +
                        "': expected a value or a list");
    }
    try {
      c.set(key, value);
    } catch (const InvalidArgument& e) {
      throw FormatError(path + ":" + std::to_string(kv.first.Mark().line + 1) + ": " + e.what());
    }
  }
  return c;
}

std::string TrainConfig::to_yaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "encoder" << YAML::Value << encoder << YAML::Key << "vocab" << YAML::Value << vocab;
  out << YAML::Key << "kb" << YAML::Value << kb << YAML::Key << "train_data" << YAML::Value << train_data;
  out << YAML::Key << "dev_data" << YAML::Value << dev_data << YAML::Key << "output_dir" << YAML::Value << output_dir;
  out << YAML::Key << "window" << YAML::Value << window << YAML::Key << "k" << YAML::Value << k;
  out << YAML::Key << "ner_r" << YAML::Value << ner_r << YAML::Key << "ner_ns" << YAML::Value << ner_ns;
  out << YAML::Key << "random_negatives" << YAML::Value << random_negatives << YAML::Key << "lr" << YAML::Value << lr;
  out << YAML::Key << "beta1" << YAML::Value << beta1 << YAML::Key << "beta2" << YAML::Value << beta2;
  out << YAML::Key << "adam_eps" << YAML::Value << adam_eps << YAML::Key << "weight_decay" << YAML::Value << weight_decay;
  out << YAML::Key << "accumulation" << YAML::Value << accumulation << YAML::Key << "epochs" << YAML::Value << epochs;
  out << YAML::Key << "patience" << YAML::Value << patience << YAML::Key << "keep_best" << YAML::Value << keep_best;
  out << YAML::Key << "seed" << YAML::Value << seed << YAML::Key << "cosine_restarts" << YAML::Value << cosine_restarts;
  out << YAML::Key << "restart_t0" << YAML::Value << restart_t0 << YAML::Key << "restart_t_mult" << YAML::Value << restart_t_mult;
  out << YAML::Key << "dropout" << YAML::Value << dropout << YAML::Key << "threads" << YAML::Value << threads;
  out << YAML::Key << "resume" << YAML::Value << resume << YAML::Key << "device" << YAML::Value << device;
  out << YAML::Key << "precision" << YAML::Value << precision << YAML::Key << "max_steps" << YAML::Value << max_steps;
  out << YAML::Key << "release_quirks" << YAML::Value << YAML::Flow << quirks.enabled();
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace ner4el
