// The process's environment (base layer): torchrun's variables for runs of several processes, and
// the thread count a user sets for every command. Read here and nowhere else.
#pragma once

#include <string>

namespace ner4el {

/// This process's place in a run of several, from torchrun's environment (RANK, WORLD_SIZE,
/// MASTER_ADDR, MASTER_PORT); a world of one when WORLD_SIZE is unset or 1.
struct ProcessWorld {
  int rank = 0, world = 1;
  std::string master_addr;
  int master_port = 0;
};
/// @throws InvalidArgument for a value that is not a number, or RANK outside [0, WORLD_SIZE).
ProcessWorld process_world();

/// $NER4EL_THREADS when set and positive, else 0 (meaning: every core).
/// @throws InvalidArgument for a value that is not a non-negative integer.
int threads_from_env();

}  // namespace ner4el
