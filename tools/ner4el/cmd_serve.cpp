// ner4el serve: links over HTTP. Requests from many clients are queued and linked together in
// batches, so the encoder runs on many mentions at once.
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <cerrno>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.h"
#include "ner4el/link_json.h"
#include "requests.h"
#include "server_guard.h"
#include "linker_setup.h"
#include "release_flags.h"
#include "ner4el/dataset.h"
#include "ner4el/runtime.h"

namespace ner4el::cli {

namespace {

int g_signal_pipe[2] = {-1, -1};
extern "C" void on_signal(int) {
  char c = 1;
  [[maybe_unused]] auto n = write(g_signal_pipe[1], &c, 1);
}

/// Collects mentions from concurrent requests and links them in batches on one worker thread. A
/// Linker itself: link() waits for its batch.
class Batcher : public Linker {
 public:
  Batcher(const Linker& linker, size_t max_batch, std::chrono::milliseconds wait)
      : linker_(linker), max_batch_(max_batch), wait_(wait), worker_([this] { run(); }) {}
  ~Batcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  using Linker::link;
  std::vector<LinkResult> link(const std::vector<Mention>& mentions) const override { return submit(mentions).get(); }
  std::future<std::vector<LinkResult>> submit(std::vector<Mention> mentions) const {
    Job job{std::move(mentions), {}};
    auto fut = job.promise.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return fut;
  }

 private:
  struct Job {
    std::vector<Mention> mentions;
    std::promise<std::vector<LinkResult>> promise;
  };
  void run() {
    while (true) {
      std::vector<Job> jobs;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_ && queue_.empty()) return;
        // Give other clients a moment to join this batch.
        cv_.wait_for(lock, wait_, [&] { return stop_ || pending() >= max_batch_; });
        size_t n = 0;
        while (!queue_.empty() && (jobs.empty() || n + queue_.front().mentions.size() <= max_batch_)) {
          n += queue_.front().mentions.size();
          jobs.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::vector<Mention> all;
      for (auto& j : jobs) all.insert(all.end(), j.mentions.begin(), j.mentions.end());
      try {
        auto results = linker_.link(all);
        size_t at = 0;
        for (auto& j : jobs) {
          std::vector<LinkResult> mine(results.begin() + at, results.begin() + at + j.mentions.size());
          at += j.mentions.size();
          j.promise.set_value(std::move(mine));
        }
      } catch (...) {
        for (auto& j : jobs) j.promise.set_exception(std::current_exception());
      }
    }
  }
  size_t pending() const {
    size_t n = 0;
    for (const auto& j : queue_) n += j.mentions.size();
    return n;
  }
  const Linker& linker_;
  size_t max_batch_;
  std::chrono::milliseconds wait_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  mutable std::deque<Job> queue_;
  bool stop_ = false;
  std::thread worker_;
};

/// cpp-httplib listens with a compiled-in backlog of 5: a burst of connections overflows it and
/// clients see resets. listen() on a listening socket only updates its backlog, so the server's
/// socket (the one listening on port) is found among our descriptors and given the system maximum.
void widen_backlog(int port) {
  for (int fd = 3; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int p = addr.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
            : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port) : -1;
    if (p == port) ::listen(fd, SOMAXCONN);
  }
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(json_text(body), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}, {"status", status}});
}

}  // namespace

void add_serve_command(CLI::App& app) {
  struct Args {
    std::string kb, model, vocab, index, host = "127.0.0.1";
    int port = 8080, threads = 64, batch_wait_ms = 5, idle_timeout = 5, request_timeout = 30, max_connections = 512;
    size_t max_body = 1 << 20, max_mentions = 256, max_batch = 64;
    LinkOptions opt;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("serve",
                                 "Serve links over HTTP: POST /link (a mention object, an array of them, or "
                                 "{\"mentions\": [...]}), POST /annotate ({\"text\": ...}: mentions found and linked, "
                                 "as 'ner4el annotate'), POST / and /ne (REL's API: {\"text\": ..., \"spans\": []} -> "
                                 "[[start, length, mention, title, ed_score, md_score, tag], ...]), GET /health, "
                                 "GET /entity/{id}. Stops cleanly on SIGTERM/SIGINT");
  cmd->add_option("--kb", a->kb, "knowledge base")->required();
  cmd->add_option("--model", a->model, "trained linker, or 'prior' for the count prior (default: the installed pretrained encoder with the fitted prior weights)");
  cmd->add_option("--vocab", a->vocab, "Hugging Face folder (config.json, vocab.txt) when the model has none");
  cmd->add_option("--index", a->index, "entity-vector index made with the same model");
  cmd->add_option("--host", a->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", a->port, "port (0: pick a free one and print it)")->capture_default_str();
  cmd->add_option("--threads", a->threads, "HTTP worker threads")->capture_default_str();
  cmd->add_option("--max-body", a->max_body, "largest request body in bytes, after decompression (larger: 413)")->capture_default_str();
  cmd->add_option("--idle-timeout", a->idle_timeout, "seconds a connection may stay silent (idle keep-alive, slow request)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--request-timeout", a->request_timeout,
                  "seconds in which each request (headers and body) must arrive, however it trickles in")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--max-connections", a->max_connections,
                  "connections accepted at once (served or waiting for a worker); more wait in the kernel's backlog")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--max-mentions", a->max_mentions, "most mentions in one request (more: 413)")->capture_default_str();
  cmd->add_option("--max-batch", a->max_batch, "most mentions linked together")->capture_default_str();
  auto rf = add_release_flags(cmd);
  auto pf = add_prior_flags(cmd);
  cmd->add_option("--batch-wait-ms", a->batch_wait_ms, "how long a batch waits for more requests")->capture_default_str();
  cmd->add_option("-k", a->opt.k, "candidates per mention")->capture_default_str();
  cmd->add_option("--top", a->opt.top, "alternatives per mention")->capture_default_str();
  cmd->callback([a, rf, pf] {
    a->opt.quirks = rf->resolve();
    // SIGTERM/SIGINT write a byte to a pipe (async-signal-safe, whichever thread takes the signal); a
    // watcher thread reads it and stops the server from outside the handler.
    if (pipe(g_signal_pipe) != 0) throw Error("cannot create the signal pipe");
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    configure_threads();
    auto setup = make_linker(a->kb, a->model, a->vocab, a->index, a->opt, "", *pf);
    Batcher batcher(*setup.linker, a->max_batch, std::chrono::milliseconds(a->batch_wait_ms));
    httplib::Server server;
    // Workers, the connection cap and the per-request deadline (server_guard.h); the queue is owned by
    // the server and lives while it listens.
    ConnectionQueue* connections = nullptr;
    const std::chrono::milliseconds request_timeout(1000LL * a->request_timeout);
    server.new_task_queue = [&] {
      connections = new ConnectionQueue(static_cast<size_t>(std::max(1, a->threads)),
                                        static_cast<size_t>(std::max(a->max_connections, a->threads)), request_timeout);
      return connections;
    };
    // After each response the connection's next request gets a new budget.
    server.set_logger([request_timeout](const httplib::Request&, const httplib::Response&) {
      set_request_deadline(request_timeout);
    });
    server.set_payload_max_length(a->max_body);
    // Long keep-alive: clients that reconnect every few requests race the server's close.
    server.set_keep_alive_max_count(100000);
    // An idle or slow client holds a worker thread; it is cut after --idle-timeout seconds of silence.
    server.set_keep_alive_timeout(a->idle_timeout);
    server.set_read_timeout(a->idle_timeout, 0);
    server.set_write_timeout(a->idle_timeout, 0);
    server.set_tcp_nodelay(true);
    std::atomic<uint64_t> served{0};
    server.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, {{"status", "ok"}, {"linker", setup.kind()}, {"entities", setup.kb->info().entities},
                           {"served_mentions", served.load()},
                           {"connections", connections ? connections->active() : 0},
                           {"waiting_connections", connections ? connections->waiting() : 0}});
    });
    server.Get(R"(/entity/(-?\d+))", [&](const httplib::Request& req, httplib::Response& res) {
      int64_t id = 0;
      try {
        id = std::stoll(req.matches[1]);
      } catch (...) {
        return send_error(res, 400, "entity id out of range");
      }
      auto e = setup.kb->entity(id);
      if (!e) return send_error(res, 404, "entity " + std::to_string(id) + " is not in the knowledge base");
      send_json(res, 200, {{"id", e->id}, {"title", e->title}, {"description", e->description}, {"count", e->count},
                           {"class", e->ner_class}});
    });
    // Bodies are read through a content reader that stops at --max-body of *decompressed* bytes
    // (cpp-httplib inflates gzip/deflate/br bodies, and its own limit counts the compressed bytes).
    using BodyHandler = std::function<void(const httplib::Request&, const std::string&, httplib::Response&)>;
    auto limited = [&](BodyHandler handler) {
      return [&, handler](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
        std::string body;
        bool over = false;
        const bool read = reader([&](const char* data, size_t n) {
          if (n > a->max_body - std::min(a->max_body, body.size())) {
            over = true;
            return false;
          }
          body.append(data, n);
          return true;
        });
        uint64_t declared = 0;
        try {
          if (req.has_header("Content-Length")) declared = std::stoull(req.get_header_value("Content-Length"));
        } catch (...) {
        }
        if (over || (!read && declared > a->max_body))
          return send_error(res, 413, "request body over " + std::to_string(a->max_body) + " bytes (--max-body; after decompression)");
        if (!read) return send_error(res, 400, "the request body could not be read");
        handler(req, body, res);
      };
    };
    // The linker for a request's options: the shared batcher for the pipeline's own (it links
    // concurrent requests together); the count prior, which gains nothing from batching, and
    // requests with their own options link in the request's thread. Options out of range or NER-CD
    // without a classifier throw InvalidArgument: 400.
    auto linker_for = [&](const CallOptions& options) -> const Linker& {
      if (setup.model && !options.any_link_option()) return batcher;
      return setup.pipeline->linker(options);
    };
    server.Post("/link", limited([&](const httplib::Request&, const std::string& raw, httplib::Response& res) {
      LinkRequest r = parse_link_request(parse_request_body(raw), a->max_mentions);
      auto results = linker_for(r.options).link(r.mentions);
      nlohmann::json out = nlohmann::json::array();
      for (size_t i = 0; i < results.size(); ++i) out.push_back(result_json(r.items[i], results[i]));
      served += results.size();
      send_json(res, 200, r.single ? out[0] : out);
    }));
    // Links spans of texts with the linker for the request's options.
    auto link_spans = [&](const Linker& linker, const std::vector<std::string>& texts, std::vector<std::vector<TextSpan>> spans) {
      auto out = link_text_spans(linker, texts, std::move(spans));
      for (const auto& d : out) served += d.size();
      return out;
    };
    // POST /annotate: {"text": ..., "id"?: ..., "threshold"?: x, "all_case"?: bool}, or an array of
    // such documents (or {"documents": [...]}): the JSON of 'ner4el annotate'.
    server.Post("/annotate", limited([&](const httplib::Request&, const std::string& raw, httplib::Response& res) {
      AnnotateRequest r = parse_annotate_request(parse_request_body(raw));
      const Linker& linker = linker_for(r.options);  // before detection: bad options are a 400 at once
      std::vector<std::vector<TextSpan>> spans;
      for (size_t d = 0; d < r.texts.size(); ++d) {
        const auto& o = r.document_options[d];
        spans.push_back(setup.pipeline->detect(r.texts[d], o.spotter ? &*o.spotter : nullptr));
      }
      auto linked = link_spans(linker, r.texts, std::move(spans));
      nlohmann::json out = nlohmann::json::array();
      for (size_t d = 0; d < r.documents.size(); ++d) {
        const auto& doc_in = r.documents[d];
        nlohmann::json doc{{"id", doc_in.contains("id") ? doc_in["id"] : nlohmann::json(d)}, {"spans", nlohmann::json::array()}};
        for (const auto& s : linked[d]) doc["spans"].push_back(span_json(s));
        out.push_back(std::move(doc));
      }
      send_json(res, 200, r.single ? out[0] : out);
    }));
    // POST /: REL's API. {"text": ..., "spans": []} finds and links the mentions (REL's end-to-end
    // mode); with "spans": [[start, length], ...] (code points) it links those spans only (REL's ED
    // mode). Answer: [[start, length, mention, entity_title, ed_score, md_score, tag], ...].
    server.Get("/", [&](const httplib::Request&, httplib::Response& res) {  // REL's status answer
      send_json(res, 200, {{"schemaVersion", 1}, {"label", "status"}, {"message", "up"}, {"color", "green"}});
    });
    auto rel = limited([&](const httplib::Request&, const std::string& raw, httplib::Response& res) {
      RelRequest r = parse_rel_request(parse_request_body(raw), a->max_mentions);
      if (r.detect) r.spans = setup.pipeline->detect(r.text);
      auto linked = link_spans(linker_for({}), {r.text}, {std::move(r.spans)});
      nlohmann::json out = nlohmann::json::array();
      for (const auto& s : linked[0]) out.push_back(rel_json(s));
      send_json(res, 200, out);
    });
    server.Post("/", rel);
    server.Post("/ne", rel);  // REL's other name for it
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a handler already wrote its JSON error
      if (res.status == 413) return send_error(res, 413, "request body too large (--max-body)");
      if (res.status == 404) return send_error(res, 404, "no route " + req.method + " " + req.path);
      send_error(res, res.status, "request failed");
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const RequestError& e) {  // the request's fault, with its status
        send_error(res, e.status, e.what());
      } catch (const InvalidArgument& e) {  // the request's fault
        send_error(res, 400, e.what());
      } catch (const FormatError& e) {
        send_error(res, 422, e.what());
      } catch (const NotFound& e) {
        send_error(res, 404, e.what());
      } catch (const std::exception& e) {  // ours
        send_error(res, 500, e.what());
      } catch (...) {
        send_error(res, 500, "internal error");
      }
    });

    int port = a->port;
    if (port == 0) {
      port = server.bind_to_any_port(a->host.c_str());
    } else if (!server.bind_to_port(a->host.c_str(), port)) {
      throw Error("cannot listen on " + a->host + ":" + std::to_string(port) + " (in use, or not permitted)");
    }
    widen_backlog(port);
    std::thread stopper([&] {
      char c;
      while (read(g_signal_pipe[0], &c, 1) < 0 && errno == EINTR) {
      }
      server.stop();
    });
    std::cerr << "serving " << setup.kind() << " links on http://" << a->host << ":" << port << " (SIGTERM stops)\n";
    std::cout << "port " << port << std::endl;
    server.listen_after_bind();
    // listen returned: by a signal, or an error. Wake the watcher if it is still waiting.
    on_signal(0);
    stopper.join();
    std::cerr << "stopped after " << served.load() << " mentions\n";
  });
}

}  // namespace ner4el::cli
