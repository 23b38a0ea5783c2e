#pragma once
// A throwaway PostgreSQL server for one test process: initdb into a fresh
// temporary directory, started on a free loopback port, stopped and
// removed at exit. As root, every PostgreSQL program runs as the
// unprivileged `postgres` user (PostgreSQL refuses to run as root). A
// watcher process stops the server should the test process die without
// cleaning up (a crash, a kill), so no server outlives its tests.
//
// Tests never use a server started by hand; a machine without PostgreSQL's
// programs (scripts/setup installs them) fails the test, saying so.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "jobs/postgres.hpp"
#include "jobs/store_factory.hpp"

namespace visor::test {

class PostgresServer {
 public:
  // The server of this test process, started on first use. Throws
  // std::runtime_error, with what failed, when it cannot be started.
  static PostgresServer& shared() {
    static const std::unique_ptr<PostgresServer> server(new PostgresServer());
    return *server;
  }

  ~PostgresServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  std::string uri(const std::string& database) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }

  // A new, empty database of its own for a test; its URI.
  std::string new_database() {
    static std::atomic<int> counter{0};
    const std::string name = "test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    auto conn = jobs::pg::Connection::open(uri("postgres"), "the test server");
    if (!conn) throw std::runtime_error(conn.error().message);
    if (Status s = conn->exec("CREATE DATABASE " + name); !s) throw std::runtime_error(s.error().message);
    return uri(name);
  }

  // pg_ctl stop (fast: connections are closed, as in a restart by an
  // operator) and start again on the same port and data.
  void stop() { (void)run(pg_ctl() + " -m fast -w stop"); }
  void start() {
    const std::string options = "-p " + std::to_string(port_) + " -k " + dir_.string() +
                                " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200";
    if (!run(pg_ctl() + " -l " + (dir_ / "server.log").string() + " -w -t 30 -o '" + options + "' start")) {
      throw std::runtime_error("pg_ctl could not start PostgreSQL; see " + (dir_ / "server.log").string());
    }
  }
  void restart() {
    stop();
    start();
  }

  // A store on the database `uri` (from new_database()); fails the test
  // when it cannot be opened.
  static std::unique_ptr<jobs::JobStore> open_store(const std::string& uri, jobs::StoreOptions options = {}) {
    auto store = jobs::open_job_store({jobs::StoreLocation::Kind::postgres, uri}, options);
    EXPECT_TRUE(store.ok()) << (store ? "" : store.error().message);
    return store ? std::move(store).value() : nullptr;
  }

 private:
  PostgresServer() {
    bin_ = read_command("pg_config --bindir");
    if (bin_.empty() || !std::filesystem::exists(std::filesystem::path(bin_) / "initdb")) {
      throw std::runtime_error("PostgreSQL's programs (initdb, pg_ctl) are not installed: run scripts/setup");
    }
    dir_ = std::filesystem::temp_directory_path() / ("visor-pg-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (::geteuid() == 0) {
      const passwd* postgres = ::getpwnam("postgres");
      if (postgres == nullptr) throw std::runtime_error("running as root, but there is no user 'postgres' to run PostgreSQL as");
      if (::chown(dir_.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
        throw std::runtime_error("cannot give " + dir_.string() + " to the postgres user");
      }
      as_postgres_ = "runuser -u postgres -- ";
    }
    port_ = free_port();
    if (!run(as_postgres_ + bin_ + "/initdb -D " + (dir_ / "data").string() +
             " -A trust -U postgres -E UTF8 --locale=C --no-sync > " + (dir_ / "initdb.log").string() + " 2>&1")) {
      throw std::runtime_error("initdb failed; see " + (dir_ / "initdb.log").string());
    }
    start();
    watch_for_our_end();
  }

  std::string pg_ctl() const { return as_postgres_ + bin_ + "/pg_ctl -D " + (dir_ / "data").string(); }

  // Stops the server once this process is gone, however it ended.
  void watch_for_our_end() const {
    const std::string watcher = "(while kill -0 " + std::to_string(::getpid()) + " 2>/dev/null; do sleep 1; done; " +
                                pg_ctl() + " -m immediate stop; rm -rf " + dir_.string() + ") >/dev/null 2>&1 &";
    (void)run(watcher);
  }

  static bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

  static std::string read_command(const std::string& command) {
    std::array<char, 512> buffer{};
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return out;
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
    ::pclose(pipe);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
  }

  std::string bin_;
  std::string as_postgres_;
  std::filesystem::path dir_;
  int port_ = 0;
};

}  // namespace visor::test
