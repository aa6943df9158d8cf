// Reads of memory-mapped files that may fault (internal). A mapped file that someone truncates in
// place while we hold it faults (SIGBUS) on the pages past its new end; and LMDB trusts the pages of
// the file it maps: in a corrupt data.mdb, a node's size or a page number sends its reads past the
// end of the file (SIGBUS) or of the map (SIGSEGV). The file is checked when it is opened (meta
// pages, size), but the pages themselves would need a walk of the whole file, which a KB that opens
// in milliseconds cannot afford. Instead such reads (every LMDB call of a KnowledgeBase, the alias
// hash's and the entity index's reads) run under a guard: a fault at an address inside the guarded
// map while the guard is up unwinds to it and becomes a FormatError; any other fault goes to the
// handler that was there before (the default: the process dies as it would have). The handlers are
// there only while an object that reads a mapped file lives (FaultHandlers), not for the life of
// the process.
#pragma once

#include <csetjmp>
#include <cstddef>
#include <string>

#include "ner4el/error.h"

namespace ner4el::io {

struct GuardFrame {
  sigjmp_buf jump;
  const char* lo = nullptr;
  const char* hi = nullptr;
  GuardFrame* previous = nullptr;
};

/// The SIGBUS and SIGSEGV handlers, installed while at least one FaultHandlers object lives (every
/// open KnowledgeBase holds one): the first installs them, keeping the handlers that were there and
/// chaining to them for every fault outside a guard; the last puts those back (unless someone
/// replaced ours meanwhile). A process that opens no KB, or has closed them all, is left as it was.
class FaultHandlers {
 public:
  FaultHandlers();
  ~FaultHandlers();
  FaultHandlers(const FaultHandlers&) = delete;
  FaultHandlers& operator=(const FaultHandlers&) = delete;
};
/// This thread's innermost guard (null: none).
GuardFrame*& current_guard();

/// Runs f() with a guard over the map [lo, lo + size): a fault there becomes FormatError(message).
/// f must not own anything that needs a destructor when it faults (LMDB calls on borrowed handles).
/// The caller holds a FaultHandlers object.
template <class F>
void guarded(const char* lo, size_t size, const std::string& message, F&& f) {
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

}  // namespace ner4el::io
