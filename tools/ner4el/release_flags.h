// --release-compat and --quirk NAME: the release's quirks (include/ner4el/release_compat.h).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "ner4el/release_compat.h"

namespace ner4el::cli {

struct ReleaseFlags {
  bool all = false;
  std::vector<std::string> names;
  /// The quirks asked for, added to those already on in base. @throws InvalidArgument on a bad name.
  ReleaseQuirks resolve(ReleaseQuirks base = {}) const {
    if (all) base = ReleaseQuirks::all();
    for (const auto& n : names) base.enable(n);
    return base;
  }
};

inline void bind_release_flags(CLI::App* cmd, ReleaseFlags& f) {
  std::string list;
  for (const auto& n : ReleaseQuirks::names()) list += (list.empty() ? "" : ", ") + n;
  cmd->add_flag("--release-compat", f.all,
                "reproduce the release's numbers: every quirk of its code that moves a number (README, "
                "'Release compatibility'); without it the sane behaviour");
  cmd->add_option("--quirk", f.names, "turn on one release quirk (repeatable): " + list);
}

inline std::shared_ptr<ReleaseFlags> add_release_flags(CLI::App* cmd) {
  auto f = std::make_shared<ReleaseFlags>();
  bind_release_flags(cmd, *f);
  return f;
}

}  // namespace ner4el::cli
