// 'ner4el train/index --nproc N': starts N copies of this command on this machine with torchrun's
// environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, a free MASTER_PORT) and the
// cores shared out (NER4EL_THREADS), waits for them, and stops the rest when one fails.
#pragma once

#include <string>

namespace ner4el::cli {

/// With nproc > 1 in a process that is not itself one of a run's: runs the N processes and returns
/// true (@throws Error when one fails: `what` says which job); else false, and this process works.
bool launch_if_asked(int nproc, const std::string& what);

}  // namespace ner4el::cli
