// ner4el serve: the command-line binding of the HTTP server (tools/server/). The pipeline's batch
// queue links the mentions of concurrent requests together.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "../server/server.h"
#include "commands.h"
#include "linker_setup.h"

namespace ner4el::cli {

namespace {

int g_signal_pipe[2] = {-1, -1};
extern "C" void on_signal(int) {
  char c = 1;
  [[maybe_unused]] auto n = write(g_signal_pipe[1], &c, 1);
}

/// SIGTERM/SIGINT write a byte to a pipe (async-signal-safe, whichever thread takes the signal); a
/// watcher thread reads it and stops the server from outside the handler.
void stop_on_signals() {
  if (pipe(g_signal_pipe) != 0) throw Error("cannot create the signal pipe");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

}  // namespace

void add_serve_command(CLI::App& app) {
  struct Args {
    server::ServerOptions server;
    int batch_wait_ms = 5;
    size_t max_batch = 64;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("serve",
                                 "Serve links over HTTP: POST /link (a mention object, an array of them, or "
                                 "{\"mentions\": [...]}), POST /annotate ({\"text\": ...}: mentions found and linked, "
                                 "as 'ner4el annotate'), POST / and /ne (REL's API: {\"text\": ..., \"spans\": []} -> "
                                 "[[start, length, mention, title, ed_score, md_score, tag], ...]), GET /health, "
                                 "GET /entity/{id}. Per-request options: k, top, ner_cd (and threshold, all_case for "
                                 "/annotate). Stops cleanly on SIGTERM/SIGINT");
  auto& s = a->server;
  auto pf = add_pipeline_flags(cmd);
  add_detection_flags(cmd, *pf);
  cmd->add_option("--host", s.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", s.port, "port (0: pick a free one and print it)")->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--threads", s.threads, "HTTP worker threads")->capture_default_str();
  cmd->add_option("--max-body", s.max_body, "largest request body in bytes, after decompression (larger: 413)")->capture_default_str();
  cmd->add_option("--idle-timeout", s.idle_timeout, "seconds a connection may stay silent (idle keep-alive, slow request)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--request-timeout", s.request_timeout,
                  "seconds in which each request (headers and body) must arrive, however it trickles in")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--stop-timeout", s.stop_timeout,
                  "seconds a stop (SIGTERM) waits for the requests being served; then their connections are cut, and "
                  "a request still computing 5 s later is abandoned as the process exits")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  cmd->add_option("--max-connections", s.max_connections,
                  "connections accepted at once (served or waiting for a worker); more wait in the kernel's backlog")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--max-mentions", s.max_mentions, "most mentions in one request, given or found in its text (more: 413)")->capture_default_str();
  cmd->add_option("--max-batch", a->max_batch, "most mentions linked together")->capture_default_str();
  cmd->add_option("--batch-wait-ms", a->batch_wait_ms, "how long a batch waits for more requests")->capture_default_str();
  cmd->callback([a, pf] {
    stop_on_signals();
    const BatchQueueOptions batch{a->max_batch, std::chrono::milliseconds(a->batch_wait_ms)};
    auto setup = make_linker(*pf, {}, batch);
    server::LinkServer server(*setup.pipeline, a->server);
    const int port = server.bind();
    std::atomic<bool> finished{false};
    std::thread stopper([&] {
      char c;
      while (read(g_signal_pipe[0], &c, 1) < 0 && errno == EINTR) {
      }
      server.stop();
      // The server cuts its connections after --stop-timeout; a request still computing past that
      // (and 5 s more) does not hold the process.
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(a->server.stop_timeout + 5);
      while (!finished && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!finished) {
        std::cerr << "stopped: requests still running " << a->server.stop_timeout + 5 << " s after the signal are abandoned\n";
        std::_Exit(3);
      }
    });
    std::cerr << "serving " << setup.kind() << " links on http://" << a->server.host << ":" << port << " (SIGTERM stops)\n";
    std::cout << "port " << port << std::endl;
    server.run();
    finished = true;
    // run returned: by a signal, or an error. Wake the watcher if it is still waiting.
    on_signal(0);
    stopper.join();
    std::cerr << "stopped after " << server.served_mentions() << " mentions\n";
  });
}

}  // namespace ner4el::cli
