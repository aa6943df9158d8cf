// LMDB trusts the pages of the file it maps: in a corrupt data.mdb, a node's size or a page number
// sends its reads past the end of the file (SIGBUS) or of the map (SIGSEGV). The file is checked
// when it is opened (meta pages, size), but the pages themselves would need a walk of the whole
// file, which a KB that opens in milliseconds cannot afford. Instead every LMDB call of a
// KnowledgeBase runs under a guard: a fault at an address inside the KB's map while the guard is
// up unwinds to it and becomes a FormatError ("corrupt knowledge base, rebuild it"); any other
// fault goes to the handler that was there before (the default: the process dies as it would
// have). Values LMDB returns are checked to lie inside the file before anyone reads them.
#pragma once

#include <csetjmp>
#include <cstddef>
#include <string>

#include "ner4el/error.h"

namespace ner4el::kb {

struct GuardFrame {
  sigjmp_buf jump;
  const char* lo = nullptr;
  const char* hi = nullptr;
  GuardFrame* previous = nullptr;
};

/// Installs the SIGBUS and SIGSEGV handlers once (the previous handlers are kept and chained to).
void install_fault_handlers();
/// This thread's innermost guard (null: none).
GuardFrame*& current_guard();

/// Runs f() with a guard over the map [lo, lo + size): a fault there becomes FormatError(message).
/// f must not own anything that needs a destructor when it faults (LMDB calls on borrowed handles).
template <class F>
void guarded(const char* lo, size_t size, const std::string& message, F&& f) {
  install_fault_handlers();
  GuardFrame frame;
  frame.lo = lo;
  frame.hi = lo + size;
  frame.previous = current_guard();
  if (sigsetjmp(frame.jump, 0) != 0) {  // the handler jumped here (SA_NODEFER: no mask to restore)
    current_guard() = frame.previous;
    throw FormatError(message);
  }
  current_guard() = &frame;
  try {
    f();
  } catch (...) {
    current_guard() = frame.previous;
    throw;
  }
  current_guard() = frame.previous;
}

}  // namespace ner4el::kb
