// A knowledge base's data.mdb as a hostile file: checked before LMDB maps it, opened, and queried
// (entities, aliases, titles), as every command that takes --kb does. The input is the whole
// data.mdb; beside it lies the aliases.hash of the two-entity KB the seed was built from
// (fuzz/corpus/kb_open/seed-two-entities: 'ner4el kb build --entities' of kKb below).
#include <filesystem>
#include <fstream>

#include "fuzz_util.h"
#include "ner4el/error.h"
#include "ner4el/kb.h"

namespace {

const char* const kKb =
    R"({"id": 1, "title": "Paris", "description": "capital of France", "count": 50, "class": "LOC", "aliases": ["Paris"]})" "\n"
    R"({"id": 2, "title": "Paris Hilton", "description": "a socialite", "count": 20, "class": "PER", "aliases": ["Paris", "Hilton"]})" "\n";

/// A directory with the seed KB's aliases.hash, where each input becomes data.mdb.
std::string kb_dir() {
  using namespace ner4el;
  const std::string base = fuzz::scratch_dir();
  std::ofstream(base + "/kb.jsonl") << kKb;
  KbSources src;
  src.entities = base + "/kb.jsonl";
  std::filesystem::remove_all(base + "/built");
  build_knowledge_base(src, base + "/built");
  std::filesystem::create_directories(base + "/kb");
  std::filesystem::copy_file(base + "/built/aliases.hash", base + "/kb/aliases.hash",
                             std::filesystem::copy_options::overwrite_existing);
  return base + "/kb";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  static const std::string dir = kb_dir();
  {
    std::ofstream out(dir + "/data.mdb", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    auto kb = KnowledgeBase::open(dir);
    (void)kb.info();
    for (int64_t id : {1, 2, 3}) (void)kb.entity(id);
    for (const char* a : {"paris", "hilton", "x"}) (void)kb.alias(a);
    (void)kb.id_of_title("Paris");
  } catch (const Error&) {
  }
  return 0;
}
