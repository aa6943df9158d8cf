#include "ner4el/release_compat.h"

#include "ner4el/error.h"

namespace ner4el {

namespace {
struct Entry {
  const char* name;
  bool ReleaseQuirks::*flag;
};
constexpr Entry kQuirks[] = {
    {"exact-alias-keys", &ReleaseQuirks::exact_alias_keys}, {"alias-table-order", &ReleaseQuirks::alias_table_order},
    {"duplicate-ids", &ReleaseQuirks::duplicate_ids},       {"title-last-wins", &ReleaseQuirks::title_last_wins},
    {"ner-ns-pool", &ReleaseQuirks::ner_ns_pool},           {"ner-cd-substring", &ReleaseQuirks::ner_cd_substring},
    {"ner-cd-dropout", &ReleaseQuirks::ner_cd_dropout},     {"ner-cd-ties", &ReleaseQuirks::ner_cd_ties},
    {"aquaint-k5", &ReleaseQuirks::aquaint_k5},
};
}  // namespace

ReleaseQuirks ReleaseQuirks::all() {
  ReleaseQuirks q;
  for (const auto& e : kQuirks) q.*e.flag = true;
  return q;
}

bool ReleaseQuirks::any() const {
  for (const auto& e : kQuirks)
    if (this->*e.flag) return true;
  return false;
}

void ReleaseQuirks::enable(std::string_view name) {
  for (const auto& e : kQuirks)
    if (name == e.name) {
      this->*e.flag = true;
      return;
    }
  std::string list;
  for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
  throw InvalidArgument("unknown release quirk '" + std::string(name) + "' (known: " + list + ")");
}

std::vector<std::string> ReleaseQuirks::enabled() const {
  std::vector<std::string> out;
  for (const auto& e : kQuirks)
    if (this->*e.flag) out.emplace_back(e.name);
  return out;
}

const std::vector<std::string>& ReleaseQuirks::names() {
  static const std::vector<std::string> n = [] {
    std::vector<std::string> v;
    for (const auto& e : kQuirks) v.emplace_back(e.name);
    return v;
  }();
  return n;
}

}  // namespace ner4el
