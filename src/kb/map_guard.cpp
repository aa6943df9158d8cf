#include "kb/map_guard.h"

#include <signal.h>

#include <mutex>

namespace ner4el::kb {

namespace {

struct sigaction g_previous_bus {}, g_previous_segv {};

void on_fault(int sig, siginfo_t* info, void* context) {
  GuardFrame* frame = current_guard();
  const char* addr = static_cast<const char*>(info->si_addr);
  if (frame && addr >= frame->lo && addr < frame->hi) siglongjmp(frame->jump, 1);
  const struct sigaction& previous = sig == SIGBUS ? g_previous_bus : g_previous_segv;
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
    previous.sa_sigaction(sig, info, context);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  // Not ours and no handler before us: the default action, when the instruction faults again.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
}

}  // namespace

GuardFrame*& current_guard() {
  static thread_local GuardFrame* frame = nullptr;
  return frame;
}

void install_fault_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &g_previous_bus);
    sigaction(SIGSEGV, &sa, &g_previous_segv);
  });
}

}  // namespace ner4el::kb
