#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ner4el/error.h"
#include "ner4el/link_json.h"
#include "requests.h"

namespace ner4el::server {

namespace {

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(json_text(body), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}, {"status", status}});
}

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

}  // namespace

LinkServer::LinkServer(const Pipeline& pipeline, ServerOptions options) : pipeline_(pipeline), options_(options) {
  // Workers, the connection cap and the per-request deadline (connections.h); the queue is owned by
  // the server and lives while it listens.
  ConnectionQueue::Limits limits;
  limits.threads = static_cast<size_t>(std::max(1, options_.threads));
  limits.max_connections = static_cast<size_t>(std::max(options_.max_connections, options_.threads));
  limits.idle_timeout = std::chrono::milliseconds(1000LL * options_.idle_timeout);
  limits.request_timeout = std::chrono::milliseconds(1000LL * options_.request_timeout);
  limits.stop_timeout = std::chrono::milliseconds(1000LL * options_.stop_timeout);
  http_.new_task_queue = [this, limits] { return connections_ = new ConnectionQueue(limits); };
  // After each response the connection's next request gets a new budget.
  http_.set_logger([](const httplib::Request&, const httplib::Response&) { restart_request_deadline(); });
  http_.set_payload_max_length(options_.max_body);
  // Long keep-alive: clients that reconnect every few requests race the server's close.
  http_.set_keep_alive_max_count(100000);
  // An idle or slow client holds a worker thread; it is cut after --idle-timeout seconds of silence.
  http_.set_keep_alive_timeout(options_.idle_timeout);
  http_.set_read_timeout(options_.idle_timeout, 0);
  http_.set_write_timeout(options_.idle_timeout, 0);
  http_.set_tcp_nodelay(true);
  add_info_routes();
  add_link_routes();
  add_rel_routes();
  add_error_handlers();
}

int LinkServer::bind() {
  int port = options_.port;
  if (port < 0 || port > 65535) throw InvalidArgument("port " + std::to_string(port) + " is not a port (0 to 65535; 0: any free one)");
  if (port == 0) {
    port = http_.bind_to_any_port(options_.host.c_str());
  } else if (!http_.bind_to_port(options_.host.c_str(), port)) {
    throw Error("cannot listen on " + options_.host + ":" + std::to_string(port) + " (in use, or not permitted)");
  }
  if (port < 0) throw Error("cannot listen on " + options_.host + " (no free port, or not permitted)");
  widen_backlog(port);
  return port;
}

void LinkServer::run() { http_.listen_after_bind(); }

void LinkServer::add_info_routes() {
  http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "ok"}, {"linker", pipeline_.description()}, {"entities", pipeline_.kb().info().entities},
                         {"served_mentions", served_.load()},
                         {"connections", connections_ ? connections_->active() : 0},
                         {"waiting_connections", connections_ ? connections_->waiting() : 0}});
  });
  http_.Get(R"(/entity/(-?\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t id = 0;
    try {
      id = std::stoll(req.matches[1]);
    } catch (...) {
      return send_error(res, 400, "entity id out of range");
    }
    auto e = pipeline_.kb().entity(id);
    if (!e) return send_error(res, 404, "entity " + std::to_string(id) + " is not in the knowledge base");
    send_json(res, 200, {{"id", e->id}, {"title", e->title}, {"description", e->description}, {"count", e->count},
                         {"class", e->ner_class}});
  });
  http_.Get("/", [](const httplib::Request&, httplib::Response& res) {  // REL's status answer
    send_json(res, 200, {{"schemaVersion", 1}, {"label", "status"}, {"message", "up"}, {"color", "green"}});
  });
}

// Bodies are read through a content reader that stops at --max-body of *decompressed* bytes
// (cpp-httplib inflates gzip/deflate/br bodies, and its own limit counts the compressed bytes).
httplib::Server::HandlerWithContentReader LinkServer::with_body(
    std::function<void(const std::string& body, httplib::Response& res)> handler) {
  return [this, handler](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    const size_t max = options_.max_body;
    std::string body;
    bool over = false;
    const bool read = reader([&](const char* data, size_t n) {
      if (n > max - std::min(max, body.size())) {
        over = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    pause_request_deadline();  // the request is in: linking it is not the client's time
    uint64_t declared = 0;
    try {
      if (req.has_header("Content-Length")) declared = std::stoull(req.get_header_value("Content-Length"));
    } catch (...) {
    }
    if (over || (!read && declared > max))
      return send_error(res, 413, "request body over " + std::to_string(max) + " bytes (--max-body; after decompression)");
    if (!read) return send_error(res, 400, "the request body could not be read");
    handler(body, res);
  };
}

void LinkServer::check_candidates(const std::vector<Mention>& mentions, const std::string& where) const {
  try {
    pipeline_.check_candidates(mentions, where);
  } catch (const FormatError& e) {
    throw RequestError(400, e.what());  // the request's fault: a candidate the KB does not have
  }
}

void LinkServer::check_detected(size_t mentions) const {
  // Each mention found costs an encoder pass: a request's are bounded as /link's are.
  if (mentions > options_.max_mentions)
    throw RequestError(413, "the text has " + std::to_string(mentions) + " mentions or more, over the " +
                                std::to_string(options_.max_mentions) +
                                " a request may have (--max-mentions); send it in parts");
}

void LinkServer::add_link_routes() {
  http_.Post("/link", with_body([this](const std::string& raw, httplib::Response& res) {
    LinkRequest r = parse_link_request(parse_request_body(raw), options_.max_mentions);
    check_candidates(r.mentions, "mentions");
    auto results = pipeline_.link(r.mentions, r.options);
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < results.size(); ++i) out.push_back(result_json(r.items[i], results[i]));
    served_ += results.size();
    send_json(res, 200, r.single ? out[0] : out);
  }));
  // POST /annotate: {"text": ..., "id"?: ..., "threshold"?: x, "all_case"?: bool, "mentions"?: "spotter" |
  // "tagger" | "both"}, or an array of
  // such documents (or {"documents": [...]}): the JSON of 'ner4el annotate'.
  http_.Post("/annotate", with_body([this](const std::string& raw, httplib::Response& res) {
    AnnotateRequest r = parse_annotate_request(parse_request_body(raw));
    (void)pipeline_.linker().options_for(r.options);  // before detection: bad options are a 400 at once
    std::vector<std::vector<TextSpan>> spans;
    size_t found = 0;
    for (size_t d = 0; d < r.texts.size(); ++d) {
      const auto& o = r.document_options[d];
      spans.push_back(pipeline_.detect(r.texts[d], o));
      check_detected(found += spans.back().size());
    }
    auto linked = pipeline_.link_spans(r.texts, spans, r.options);
    nlohmann::json out = nlohmann::json::array();
    for (size_t d = 0; d < r.documents.size(); ++d) {
      const auto& doc_in = r.documents[d];
      nlohmann::json doc{{"id", doc_in.contains("id") ? doc_in["id"] : nlohmann::json(d)}, {"spans", nlohmann::json::array()}};
      for (const auto& s : linked[d]) doc["spans"].push_back(span_json(s));
      served_ += linked[d].size();
      out.push_back(std::move(doc));
    }
    send_json(res, 200, r.single ? out[0] : out);
  }));
}

// POST /: REL's API. {"text": ..., "spans": []} finds and links the mentions (REL's end-to-end
// mode); with "spans": [[start, length], ...] (code points) it links those spans only (REL's ED
// mode). Answer: [[start, length, mention, entity_title, ed_score, md_score, tag], ...].
void LinkServer::add_rel_routes() {
  auto rel = with_body([this](const std::string& raw, httplib::Response& res) {
    const nlohmann::json body = parse_request_body(raw);
    RelRequest r = parse_rel_request(body, options_.max_mentions);
    if (r.detect) {  // (an extension: "mentions" chooses the detection, as in /annotate)
      const CallOptions detection = request_options(body);
      check_detected((r.spans = pipeline_.detect(r.text, detection)).size());
    }
    std::vector<LinkedSpan> linked;
    if (r.candidates.empty()) {
      linked = pipeline_.link_spans(r.text, r.spans);
    } else {  // spans that bring their candidates: linked as mentions with them
      std::vector<Mention> mentions;
      for (size_t i = 0; i < r.spans.size(); ++i) {
        mentions.push_back(mention_in(r.text, r.spans[i]));
        mentions.back().candidates = r.candidates[i];
      }
      check_candidates(mentions, "spans");
      auto results = pipeline_.link(mentions);
      for (size_t i = 0; i < r.spans.size(); ++i) linked.push_back({r.spans[i], std::move(results[i])});
    }
    served_ += linked.size();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : linked) out.push_back(rel_json(s));
    send_json(res, 200, out);
  });
  http_.Post("/", rel);
  http_.Post("/ne", rel);  // REL's other name for it
}

void LinkServer::add_error_handlers() {
  http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler already wrote its JSON error
    if (res.status == 413) return send_error(res, 413, "request body too large (--max-body)");
    if (res.status == 404) return send_error(res, 404, "no route " + req.method + " " + req.path);
    send_error(res, res.status, "request failed");
  });
  http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
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
}

}  // namespace ner4el::server
