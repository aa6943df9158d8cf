#include "ner4el/process.h"

#include <algorithm>
#include <cstdlib>

#include "ner4el/error.h"

namespace ner4el {

namespace {
int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end || x < 0 || x > (1 << 20)) throw InvalidArgument(std::string(name) + "='" + v + "' is not a non-negative integer");
  return static_cast<int>(x);
}
}  // namespace

ProcessWorld process_world() {
  ProcessWorld w;
  w.world = env_int("WORLD_SIZE", 1);
  if (w.world < 1) throw InvalidArgument("WORLD_SIZE=0: a world has at least one process (unset it, or 1, for one)");
  if (w.world == 1) return w;
  w.rank = env_int("RANK", -1);
  if (w.rank < 0 || w.rank >= w.world)
    throw InvalidArgument("WORLD_SIZE=" + std::to_string(w.world) + " needs RANK between 0 and " + std::to_string(w.world - 1));
  if (const char* addr = std::getenv("MASTER_ADDR")) w.master_addr = addr;
  w.master_port = env_int("MASTER_PORT", 0);
  if (w.master_port > 65535)
    throw InvalidArgument("MASTER_PORT=" + std::to_string(w.master_port) + " is not a port (1 to 65535)");
  return w;
}

int threads_from_env() { return env_int("NER4EL_THREADS", 0); }

}  // namespace ner4el
