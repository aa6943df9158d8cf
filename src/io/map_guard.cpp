#include "io/map_guard.h"

#include <signal.h>

#include <mutex>

namespace ner4el::io {

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

namespace {
std::mutex g_handlers_mutex;
size_t g_handlers_users = 0;
}  // namespace

FaultHandlers::FaultHandlers() {
  std::lock_guard<std::mutex> lock(g_handlers_mutex);
  if (g_handlers_users++ > 0) return;
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &g_previous_bus);
  sigaction(SIGSEGV, &sa, &g_previous_segv);
}

FaultHandlers::~FaultHandlers() {
  std::lock_guard<std::mutex> lock(g_handlers_mutex);
  if (--g_handlers_users > 0) return;
  for (auto [sig, previous] : {std::pair{SIGBUS, &g_previous_bus}, std::pair{SIGSEGV, &g_previous_segv}}) {
    struct sigaction now {};
    sigaction(sig, nullptr, &now);
    if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_fault) sigaction(sig, previous, nullptr);
  }
}

}  // namespace ner4el::io
