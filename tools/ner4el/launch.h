// 'ner4el train --nproc N': starts N copies of this command on this machine with torchrun's
// environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, a free MASTER_PORT) and the
// cores shared out (NER4EL_THREADS), waits for them, and stops the rest when one fails.
#pragma once

namespace ner4el::cli {

/// True when this process is itself one of a run's processes (WORLD_SIZE is set).
bool in_launched_world();

/// Runs the N processes; returns the exit status for this command (0 when all succeeded).
int launch_local_world(int nproc);

}  // namespace ner4el::cli
