#include "launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "ner4el/error.h"

namespace ner4el::cli {

namespace {

/// This process's own command line, as it was started.
std::vector<std::string> own_arguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  if (args.empty()) throw Error("cannot read /proc/self/cmdline to start the other processes");
  return args;
}

/// A TCP port free on loopback now (the first process binds it for the run's store).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    throw Error("cannot find a free port on 127.0.0.1 for the processes to meet");
  }
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

/// True when this process is itself one of a run's processes (WORLD_SIZE is set).
bool in_launched_world() {
  const char* w = std::getenv("WORLD_SIZE");
  return w && *w;
}

/// Runs the N processes; returns the exit status for this command (0 when all succeeded).
int launch_local_world(int nproc) {
  const auto args = own_arguments();
  const int port = free_port();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string threads = std::getenv("NER4EL_THREADS") ? std::getenv("NER4EL_THREADS")
                                                           : std::to_string(std::max(1u, cores / static_cast<unsigned>(nproc)));
  std::cerr << "starting " << nproc << " processes (127.0.0.1:" << port << ", " << threads << " thread(s) each)\n";
  std::vector<pid_t> children;
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = fork();
    if (pid < 0) throw Error("cannot start process " + std::to_string(rank));
    if (pid == 0) {
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      setenv("NER4EL_THREADS", threads.c_str(), 1);
      std::vector<char*> argv;
      for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
      argv.push_back(nullptr);
      execv("/proc/self/exe", argv.data());
      _exit(127);
    }
    children.push_back(pid);
  }
  int status = 0;
  for (size_t left = children.size(); left > 0; --left) {
    int st = 0;
    const pid_t done = wait(&st);
    if (done < 0) break;
    const bool failed = !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    if (failed && status == 0) {
      size_t rank = 0;
      while (rank < children.size() && children[rank] != done) ++rank;
      std::cerr << "error: process " << rank << " of " << nproc << " "
                << (WIFSIGNALED(st) ? "was killed by signal " + std::to_string(WTERMSIG(st))
                                    : "exited with status " + std::to_string(WEXITSTATUS(st)))
                << "; stopping the others\n";
      status = 1;
      for (pid_t c : children)
        if (c != done) kill(c, SIGTERM);
    }
  }
  return status;
}

}  // namespace

bool launch_if_asked(int nproc, const std::string& what) {
  if (nproc <= 1 || in_launched_world()) return false;
  if (launch_local_world(nproc) != 0) throw Error(what + " failed");
  return true;
}

}  // namespace ner4el::cli
