// The server's request handling short of the model (tools/ner4el/requests.cpp): a body for POST
// /link, POST /annotate or REL's POST / (the first byte picks which), parsed, checked and turned
// into mentions, documents or resolved spans, as 'ner4el serve' does before it links. A refusal
// must be a RequestError with a 4xx status; anything else escaping is a crash.
#include "fuzz_util.h"
#include "ner4el/error.h"
#include "requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ner4el;
  if (size == 0) return 0;
  const std::string raw(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const auto body = server::parse_request_body(raw);
    switch (data[0] % 3) {
      case 0: {
        auto r = server::parse_link_request(body, 256);
        for (const auto& m : r.mentions) (void)valid_utf8(m.left_context + m.mention + m.right_context);
        break;
      }
      case 1: {
        auto r = server::parse_annotate_request(body);
        for (const auto& t : r.texts) (void)code_points(t);
        break;
      }
      default: {
        auto r = server::parse_rel_request(body, 256);
        for (const auto& s : r.spans) (void)mention_in(r.text, s);
        break;
      }
    }
  } catch (const server::RequestError& e) {
    if (e.status < 400 || e.status > 499) __builtin_trap();
  }
  return 0;
}
