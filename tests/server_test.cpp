// 'ner4el serve' as a client sees it, on loopback only, with bounded request loops.
#include <httplib.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_util.h"

namespace ner4el {
namespace {

class Server : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir.file("e.jsonl"),
                     R"({"id": 1, "title": "Paris", "description": "capital of France", "count": 50, "class": "LOC", "aliases": ["Paris"]})" "\n"
                     R"({"id": 2, "title": "Paris Hilton", "description": "a socialite", "count": 20, "class": "PER", "aliases": ["Paris", "Hilton", "Paris Hilton"]})" "\n"
                     R"({"id": 3, "title": "Charles Bukowski", "description": "a poet", "count": 5, "class": "PER", "aliases": ["Charles Bukowski", "Bukowski"]})" "\n");
    ASSERT_EQ(test::run(std::string(NER4EL_TOOL) + " kb build --entities " + dir.file("e.jsonl") + " -o " + dir.file("kb") + " >/dev/null"), 0);
    launch({"--max-mentions", "8", "--max-body", "4096"}, pid, port);
  }
  // Starts 'ner4el serve' on the fixture's KB with the count prior and extra arguments.
  void launch(const std::vector<std::string>& extra, pid_t& child, int& bound) {
    std::vector<std::string> args{NER4EL_TOOL, "serve", "--kb", dir.file("kb"), "--model", "prior", "--port", "0"};
    // The alias-table spotter unless a test asks for another mention detection.
    if (std::find(extra.begin(), extra.end(), "--mentions") == extra.end()) args.insert(args.end(), {"--mentions", "spotter"});
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    child = fork();
    if (child == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      // The count prior: these tests are about HTTP, not about the encoder behind it.
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(NER4EL_TOOL, argv.data());
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    close(out[0]);
    ASSERT_EQ(line.rfind("port ", 0), 0u) << line;
    bound = std::stoi(line.substr(5));
  }
  void TearDown() override {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    return c;
  }
  test::TempDir dir;
  pid_t pid = -1;
  int port = 0;
};

TEST_F(Server, LinksHealthAndEntities) {
  auto c = client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(nlohmann::json::parse(h->body)["status"], "ok");
  auto r = c.Post("/link", R"({"mention": "PARIS", "left_context": "", "right_context": ""})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["entity_id"], 1);
  EXPECT_EQ(j["alternatives"].size(), 2u);
  auto batch = c.Post("/link", R"({"mentions": [{"mention": "hilton", "left_context": "", "right_context": ""},
                                                 {"mention": "Lyon", "left_context": "", "right_context": ""}]})",
                      "application/json");
  ASSERT_TRUE(batch);
  auto arr = nlohmann::json::parse(batch->body);
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[0]["entity_id"], 2);
  EXPECT_TRUE(arr[1]["entity_id"].is_null());
  EXPECT_EQ(arr[1]["reason"], "not in alias table");
  auto e = c.Get("/entity/2");
  ASSERT_TRUE(e);
  EXPECT_EQ(nlohmann::json::parse(e->body)["title"], "Paris Hilton");
  auto missing = c.Get("/entity/99");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(nlohmann::json::parse(missing->body).contains("error"));
}

// REL's API with the exact documents of REL's own client (scripts/code_tutorials/test_API.py):
// end-to-end with "spans": [], and ED with "spans": [(41, 16)]; and REL's status answer.
// The NER tagger as the server's mention detection (REL's end-to-end mode and /annotate): typed
// spans, the tagger's class as REL's tag, NIL rows for names the KB lacks; "mentions" per request.
TEST_F(Server, TaggerFindsMentionsForRelAndAnnotate) {
  pid_t tpid = -1;
  int tport = 0;
  launch({"--mentions", "tagger"}, tpid, tport);
  httplib::Client c("127.0.0.1", tport);
  c.set_read_timeout(30, 0);
  const std::string text = "Angela Merkel met Charles Bukowski in Paris on Monday .";
  auto el = c.Post("/", nlohmann::json{{"text", text}, {"spans", nlohmann::json::array()}}.dump(), "application/json");
  ASSERT_TRUE(el);
  ASSERT_EQ(el->status, 200) << el->body;
  const auto rows = nlohmann::json::parse(el->body);
  ASSERT_EQ(rows.size(), 3u) << rows;
  EXPECT_EQ(rows[0][2], "Angela Merkel");
  EXPECT_EQ(rows[0][3], "NIL");
  EXPECT_EQ(rows[0][6], "PER");
  EXPECT_EQ(rows[1][3], "Charles_Bukowski");
  EXPECT_EQ(rows[2][2], "Paris");
  EXPECT_EQ(rows[2][6], "LOC");
  auto spotted = c.Post("/annotate", nlohmann::json{{"text", text}, {"mentions", "spotter"}}.dump(), "application/json");
  ASSERT_TRUE(spotted);
  ASSERT_EQ(spotted->status, 200) << spotted->body;
  const auto spans = nlohmann::json::parse(spotted->body)["spans"];
  ASSERT_EQ(spans.size(), 2u) << spans;  // the KB's aliases only: no NIL span, no type
  EXPECT_FALSE(spans[0].contains("type"));
  auto tagged = c.Post("/annotate", nlohmann::json{{"text", "nothing to see here ."}}.dump(), "application/json");
  ASSERT_TRUE(tagged);
  EXPECT_TRUE(nlohmann::json::parse(tagged->body)["spans"].empty()) << tagged->body;
  auto bad = c.Post("/annotate", nlohmann::json{{"text", text}, {"mentions", "flair"}}.dump(), "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  kill(tpid, SIGKILL);
  waitpid(tpid, nullptr, 0);
}

TEST_F(Server, AnswersRelClients) {
  auto c = client();
  const std::string text = "If you're going to try, go all the way - Charles Bukowski";
  auto el = c.Post("/", nlohmann::json{{"text", text}, {"spans", nlohmann::json::array()}}.dump(), "application/json");
  ASSERT_TRUE(el);
  ASSERT_EQ(el->status, 200) << el->body;
  auto rows = nlohmann::json::parse(el->body);
  ASSERT_EQ(rows.size(), 1u) << rows;
  EXPECT_EQ(rows[0], nlohmann::json::parse(R"([41, 16, "Charles Bukowski", "Charles_Bukowski", 1.0, 1.0, "PER"])")) << rows;
  auto ed = c.Post("/", nlohmann::json{{"text", text}, {"spans", {{41, 16}}}}.dump(), "application/json");
  ASSERT_TRUE(ed);
  ASSERT_EQ(ed->status, 200) << ed->body;
  EXPECT_EQ(nlohmann::json::parse(ed->body)[0][3], "Charles_Bukowski");
  // ED mode links only the spans given: here "Bukowski" alone, not the spotter's longer span.
  auto part = c.Post("/ne", nlohmann::json{{"text", text}, {"spans", {{49, 8}}}}.dump(), "application/json");
  ASSERT_TRUE(part);
  auto prow = nlohmann::json::parse(part->body);
  ASSERT_EQ(prow.size(), 1u);
  EXPECT_EQ(prow[0][0], 49);
  EXPECT_EQ(prow[0][2], "Bukowski");
  // Offsets are code points: an accented text before the span moves the bytes, not the offsets.
  auto accented = c.Post("/", nlohmann::json{{"text", "Café in Paris"}, {"spans", nlohmann::json::array()}}.dump(), "application/json");
  ASSERT_TRUE(accented);
  auto arow = nlohmann::json::parse(accented->body);
  ASSERT_EQ(arow.size(), 1u);
  EXPECT_EQ(arow[0][0], 8);
  EXPECT_EQ(arow[0][1], 5);
  EXPECT_EQ(arow[0][3], "Paris");
  auto status = c.Get("/");
  ASSERT_TRUE(status);
  EXPECT_EQ(nlohmann::json::parse(status->body)["message"], "up");
  // Spans outside the text, and malformed spans.
  auto bad = c.Post("/", R"({"text": "abc", "spans": [[2, 5]]})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 422);
  bad = c.Post("/", R"({"text": "abc", "spans": [["a", 1]]})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  bad = c.Post("/", R"({"spans": []})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(Server, AnnotatesText) {
  auto c = client();
  auto r = c.Post("/annotate", R"({"id": "d1", "text": "Yesterday Paris Hilton met Bukowski in Paris."})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto doc = nlohmann::json::parse(r->body);
  EXPECT_EQ(doc["id"], "d1");
  ASSERT_EQ(doc["spans"].size(), 3u) << doc;
  // Longest match first: "Paris Hilton" is one span, not "Paris" and "Hilton".
  EXPECT_EQ(doc["spans"][0]["mention"], "Paris Hilton");
  EXPECT_EQ(doc["spans"][0]["entity_id"], 2);
  EXPECT_EQ(doc["spans"][0]["start"], 10);
  EXPECT_EQ(doc["spans"][0]["end"], 22);
  EXPECT_EQ(doc["spans"][1]["entity_id"], 3);
  EXPECT_EQ(doc["spans"][2]["mention"], "Paris");
  EXPECT_EQ(doc["spans"][2]["entity_id"], 1);
  // Lower-case text: nothing by default; all_case finds the aliases.
  r = c.Post("/annotate", R"([{"text": "paris hilton"}, {"text": "paris hilton", "all_case": true}])", "application/json");
  ASSERT_TRUE(r);
  auto docs = nlohmann::json::parse(r->body);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["spans"].size(), 0u);
  EXPECT_EQ(docs[1]["spans"].size(), 1u);
  r = c.Post("/annotate", R"({"text": 5})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  // Per-call options: top 1 reports one alternative; k out of range and NER-CD without a
  // classifier are the client's errors.
  r = c.Post("/annotate", R"({"text": "We saw Paris.", "top": 1})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["spans"][0]["alternatives"].size(), 1u);
  r = c.Post("/link", R"({"mentions": [{"mention": "Paris", "left_context": "", "right_context": ""}], "k": 1})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)[0]["alternatives"].size(), 1u);
  for (const char* body : {R"({"text": "Paris", "k": 0})", R"({"text": "Paris", "top": "x"})", R"({"text": "Paris", "ner_cd": true})"}) {
    r = c.Post("/annotate", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body << " " << r->body;
  }
}

int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Idle connections (once 16 of them held every worker for 30 s): with 4 workers and a 1 s idle
// timeout, 8 silent connections delay a real client by about a second, not forever.
TEST_F(Server, IdleConnectionsDoNotStarveClients) {
  pid_t small = -1;
  int small_port = 0;
  launch({"--threads", "4", "--idle-timeout", "1"}, small, small_port);
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) {
    int fd = connect_loopback(small_port);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  httplib::Client c("127.0.0.1", small_port);
  c.set_read_timeout(10, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto h = c.Get("/health");
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_LT(waited, 6.0);
  for (int fd : idle) close(fd);
  kill(small, SIGKILL);
  waitpid(small, nullptr, 0);
}


// A request whose headers trickle in, a line every 0.4 s (each wait shorter than --idle-timeout), is
// cut at --request-timeout instead of holding a worker as long as the client likes; other clients
// are answered meanwhile.
TEST_F(Server, TricklingRequestIsCutAtTheDeadline) {
  pid_t small = -1;
  int small_port = 0;
  launch({"--threads", "2", "--idle-timeout", "2", "--request-timeout", "3"}, small, small_port);
  int fd = connect_loopback(small_port);
  ASSERT_GE(fd, 0);
  const std::string start = "POST /link HTTP/1.1\r\nHost: localhost\r\n";
  ASSERT_EQ(send(fd, start.data(), start.size(), MSG_NOSIGNAL), static_cast<ssize_t>(start.size()));
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  bool cut = false;
  httplib::Client other("127.0.0.1", small_port);
  other.set_read_timeout(10, 0);
  int answered = 0;
  while (elapsed() < 15 && !cut) {
    const std::string line = "X-Slow: " + std::to_string(elapsed()) + "\r\n";
    if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) < 0) cut = true;
    char c;
    if (!cut && recv(fd, &c, 1, MSG_DONTWAIT) == 0) cut = true;  // the server closed it
    if (auto h = other.Get("/health"); h && h->status == 200) ++answered;
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  const double when = elapsed();
  close(fd);
  kill(small, SIGKILL);
  waitpid(small, nullptr, 0);
  EXPECT_TRUE(cut) << "a trickling request was still open after 15 s";
  EXPECT_GT(when, 2.5);
  EXPECT_LT(when, 8.0);
  EXPECT_GE(answered, 3) << "other clients were not answered while the slow one was open";
}

// Clients that trickle their headers a line at a time hold no worker until their headers are all
// there (80 of them once kept /health from answering): with 4 workers, 12 such clients and 8 silent
// ones leave /health answering at once, and each is still cut at its deadline.
TEST_F(Server, SlowHeadersHoldNoWorker) {
  pid_t small = -1;
  int small_port = 0;
  launch({"--threads", "4", "--idle-timeout", "2", "--request-timeout", "20"}, small, small_port);
  std::vector<int> slow, silent;
  for (int i = 0; i < 12; ++i) {
    const int fd = connect_loopback(small_port);
    ASSERT_GE(fd, 0);
    const std::string start = "POST /link HTTP/1.1\r\nHost: localhost\r\n";
    ASSERT_EQ(send(fd, start.data(), start.size(), MSG_NOSIGNAL), static_cast<ssize_t>(start.size()));
    slow.push_back(fd);
  }
  for (int i = 0; i < 8; ++i) silent.push_back(connect_loopback(small_port));
  httplib::Client other("127.0.0.1", small_port);
  other.set_read_timeout(2, 0);
  int answered = 0, tries = 0;
  for (; tries < 10; ++tries) {
    for (int fd : slow) {
      const std::string line = "X-Slow: " + std::to_string(tries) + "\r\n";
      (void)send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    }
    if (auto h = other.Get("/health"); h && h->status == 200) ++answered;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (int fd : slow) close(fd);
  for (int fd : silent) close(fd);
  kill(small, SIGKILL);
  waitpid(small, nullptr, 0);
  EXPECT_EQ(answered, tries) << "/health went unanswered (2 s) while slow clients held the workers";
}

// A stop waits for no client: a request whose body trickles in (under a 60 s request deadline) is
// cut --stop-timeout after SIGTERM, and the server exits cleanly.
TEST_F(Server, StopWaitsAtMostTheStopTimeout) {
  pid_t small = -1;
  int small_port = 0;
  launch({"--request-timeout", "60", "--idle-timeout", "5", "--stop-timeout", "1"}, small, small_port);
  const int fd = connect_loopback(small_port);
  ASSERT_GE(fd, 0);
  const std::string head = "POST /link HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
  ASSERT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    while (!done && send(fd, " ", 1, MSG_NOSIGNAL) == 1) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const auto t0 = std::chrono::steady_clock::now();
  kill(small, SIGTERM);
  int status = 0;
  waitpid(small, &status, 0);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  done = true;
  trickle.join();
  close(fd);
  EXPECT_LT(waited, 5.0) << "SIGTERM waited for a trickling request";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// --max-connections bounds the connections the server holds (served or waiting for a worker); the
// rest wait in the kernel's backlog, and every client is answered in turn.
TEST_F(Server, ConnectionCapBoundsWhatTheServerHolds) {
  pid_t small = -1;
  int small_port = 0;
  launch({"--threads", "2", "--max-connections", "4", "--idle-timeout", "1"}, small, small_port);
  std::vector<int> idle;
  for (int i = 0; i < 12; ++i) {
    int fd = connect_loopback(small_port);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  httplib::Client c("127.0.0.1", small_port);
  c.set_read_timeout(30, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto h = c.Get("/health");
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (int fd : idle) close(fd);
  kill(small, SIGKILL);
  waitpid(small, nullptr, 0);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->status, 200);
  auto j = nlohmann::json::parse(h->body);
  EXPECT_LE(j["connections"].get<int>() + j["waiting_connections"].get<int>(), 4) << h->body;
  EXPECT_GE(j["connections"].get<int>(), 1);
  EXPECT_LT(waited, 12.0);  // 12 idle connections, 4 at a time, each cut after about 1 s
}

TEST_F(Server, BadRequestsGetJsonErrors) {
  {  // A gzip body: 10,000 bytes inflated from about a hundred, over --max-body 4096 (cpp-httplib's
     // own limit counts the compressed bytes): 413.
    auto zip = client();
    zip.set_compress(true);
    const std::string big = R"({"mention": "Paris", "left_context": ")" + std::string(10000, ' ') + R"(", "right_context": ""})";
    auto r = zip.Post("/link", big, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_NE(r->body.find("after decompression"), std::string::npos) << r->body;
    const std::string small = R"({"mention": "Paris", "left_context": ")" + std::string(1000, ' ') + R"(", "right_context": ""})";
    r = zip.Post("/link", small, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;  // compressed bodies within the limit are fine
  }
  {  // A body nested 400,000 levels deep, under the body limit (once a stack overflow that killed
     // the server): 400 naming the depth, and the server answers the next request.
    pid_t big = -1;
    int big_port = 0;
    launch({"--max-body", "2000000"}, big, big_port);
    httplib::Client deep("127.0.0.1", big_port);
    deep.set_read_timeout(10, 0);
    const std::string body = std::string(400000, '[') + std::string(400000, ']');
    for (const char* route : {"/link", "/annotate", "/"}) {
      auto r = deep.Post(route, body, "application/json");
      ASSERT_TRUE(r) << route;
      EXPECT_EQ(r->status, 400) << route;
      EXPECT_NE(r->body.find("nested deeper than 128 levels"), std::string::npos) << r->body;
    }
    auto h = deep.Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    kill(big, SIGKILL);
    waitpid(big, nullptr, 0);
  }
  auto c = client();
  auto bad = c.Post("/link", "{not json", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(nlohmann::json::parse(bad->body)["error"].get<std::string>().find("not valid JSON"), std::string::npos);
  auto field = c.Post("/link", R"([{"mention": "x", "left_context": "", "right_context": ""}, {"mention": 3}])", "application/json");
  ASSERT_TRUE(field);
  EXPECT_EQ(field->status, 400);
  EXPECT_NE(nlohmann::json::parse(field->body)["error"].get<std::string>().find("mentions[1]: field 'mention'"), std::string::npos)
      << field->body;
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 9; ++i) many.push_back({{"mention", "a"}, {"left_context", ""}, {"right_context", ""}});
  auto too_many = c.Post("/link", many.dump(), "application/json");
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 413);
  auto big = c.Post("/link", std::string(5000, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413) << big->body;
  auto route = c.Get("/nowhere");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 404);
  // Still serving after all that.
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

// Detection's mentions count against --max-mentions (8 here) as given ones do: each costs an
// encoder pass, so a text full of aliases is a 413 at once, not minutes of work.
TEST_F(Server, TextWithTooManyMentionsIs413) {
  auto c = client();
  std::string text;
  for (int i = 0; i < 9; ++i) text += "Paris and ";
  for (const char* route : {"/annotate", "/"}) {
    auto r = c.Post(route, nlohmann::json{{"text", text}, {"spans", nlohmann::json::array()}}.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413) << route << " " << r->body;
    EXPECT_NE(r->body.find("--max-mentions"), std::string::npos) << r->body;
  }
  auto ok = c.Post("/annotate", nlohmann::json{{"text", "Paris and Paris."}}.dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

// Per-call options take any number of distinct values (a 65th k/top set once locked every client
// out until a restart): 100 sets, each answered as asked.
TEST_F(Server, AnyNumberOfDistinctPerCallOptions) {
  auto c = client();
  for (int k = 1; k <= 50; ++k)
    for (int top = 1; top <= 2; ++top) {
      const nlohmann::json mention{{"mention", "Paris"}, {"left_context", "in"}, {"right_context", "today"}};
      auto r = c.Post("/link", nlohmann::json{{"mentions", {mention}}, {"k", k}, {"top", top}}.dump(), "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << "k " << k << ", top " << top << ": " << r->body;
      EXPECT_EQ(nlohmann::json::parse(r->body)[0]["alternatives"].size(), static_cast<size_t>(std::min(top, k == 1 ? 1 : 2)));
    }
}

// Mentions and REL's ED spans may bring their candidates ([start, length, [ids or titles]]); one
// the KB lacks is a 400 naming it.
TEST_F(Server, MentionsAndSpansBringTheirOwnCandidates) {
  auto c = client();
  auto r = c.Post("/link", R"({"mentions": [{"mention": "Paris", "left_context": "", "right_context": "", "candidates": ["Paris Hilton"]}]})",
                  "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)[0]["entity_id"], 2) << r->body;  // the alias table's best is Paris (count 50)
  auto rel = c.Post("/", R"({"text": "Paris and Bukowski met.", "spans": [[0, 5, [2]], [10, 8]]})", "application/json");
  ASSERT_TRUE(rel);
  ASSERT_EQ(rel->status, 200) << rel->body;
  auto rows = nlohmann::json::parse(rel->body);
  ASSERT_EQ(rows.size(), 2u) << rel->body;
  EXPECT_EQ(rows[0][3], "Paris_Hilton") << rel->body;
  EXPECT_EQ(rows[1][3], "Charles_Bukowski") << rel->body;
  for (const auto& [route, body, want] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/link", R"({"mentions": [{"mention": "Paris", "left_context": "", "right_context": "", "candidates": [7]}]})",
            "mentions[0]: candidates[0]: no entity with id 7"},
           {"/", R"({"text": "Paris.", "spans": [[0, 5, ["Lutetia"]]]})", "spans[0]: candidates[0]: no entity titled 'Lutetia'"},
           {"/", R"({"text": "Paris.", "spans": [[0, 5, "Paris"]]})", "spans[0][2]: expected a list"}}) {
    auto bad = c.Post(route, body, "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << route << " " << bad->body;
    EXPECT_NE(bad->body.find(want), std::string::npos) << bad->body;
  }
}

// A port number past 65535 is said to be one, before anything is opened.
TEST_F(Server, PortOutOfRangeIsAUsageError) {
  std::string out;
  EXPECT_EQ(test::run(std::string(NER4EL_TOOL) + " serve --kb " + dir.file("kb") + " --model prior --port 70000 2>&1", &out), 2);
  EXPECT_NE(out.find("--port"), std::string::npos) << out;
  EXPECT_NE(out.find("65535"), std::string::npos) << out;
}

TEST_F(Server, ConcurrentClientsAndCleanShutdown) {
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t)
    clients.emplace_back([&] {
      auto c = client();
      for (int i = 0; i < 20; ++i) {
        auto r = c.Post("/link", R"({"mention": "Paris", "left_context": "in", "right_context": "today"})", "application/json");
        if (r && r->status == 200 && nlohmann::json::parse(r->body)["entity_id"] == 1) {
          ++ok;
        } else {
          ++bad;
          ADD_FAILURE() << (r ? "HTTP " + std::to_string(r->status) : "client error: " + httplib::to_string(r.error()));
        }
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 320);
  EXPECT_EQ(bad.load(), 0);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace ner4el
