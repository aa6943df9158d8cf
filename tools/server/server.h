// The HTTP server of 'ner4el serve' over a Pipeline: REL's API and ours. It holds no linking logic:
// every route parses its request (requests.h), calls the pipeline and writes the pipeline's JSON.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "connections.h"
#include "ner4el/pipeline.h"

namespace ner4el::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  ///< address to listen on
  int port = 8080;                 ///< 0: a free port (bind() returns it)
  int threads = 64;                ///< HTTP worker threads
  int idle_timeout = 5;            ///< seconds a connection may stay silent
  int request_timeout = 30;        ///< seconds in which each request must arrive
  int stop_timeout = 10;           ///< seconds a stop waits for the requests being served
  int max_connections = 512;       ///< connections accepted at once
  size_t max_body = 1 << 20;       ///< largest request body, after decompression (larger: 413)
  size_t max_mentions = 256;       ///< most mentions in one request (more: 413)
};

/// Routes: POST /link, POST /annotate, POST / and /ne (REL), GET / (REL's status), GET /health,
/// GET /entity/{id}. Errors are JSON {"error", "status"}: 400 for the request's fault, 404, 413,
/// 422 for a format error, 500 for ours.
class LinkServer {
 public:
  LinkServer(const Pipeline& pipeline, ServerOptions options);
  /// Binds the address. @returns the port. @throws Error when it cannot listen.
  int bind();
  /// Serves until stop() (from any thread). @returns after the last connection closed.
  void run();
  void stop() { http_.stop(); }
  uint64_t served_mentions() const { return served_.load(); }

 private:
  void add_info_routes();
  void add_link_routes();
  void add_rel_routes();
  void add_error_handlers();
  /// @throws RequestError 413 when detection found more mentions than a request may have.
  void check_detected(size_t mentions) const;
  /// @throws RequestError 400 naming the mention and candidate the KB does not have.
  void check_candidates(const std::vector<Mention>& mentions, const std::string& where) const;
  /// A handler that reads the body, at most max_body decompressed bytes, then calls handler.
  httplib::Server::HandlerWithContentReader with_body(
      std::function<void(const std::string& body, httplib::Response& res)> handler);

  const Pipeline& pipeline_;
  ServerOptions options_;
  httplib::Server http_;
  ConnectionQueue* connections_ = nullptr;  ///< owned by http_
  std::atomic<uint64_t> served_{0};
};

}  // namespace ner4el::server
