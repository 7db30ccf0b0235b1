#include "support/pg_server.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "store/pg_connection.h"
#include "support/subprocess.h"

namespace vb::test {

namespace {

constexpr const char* k_missing_binaries =
    "PostgreSQL's server binaries were not found (no initdb in `pg_config --bindir` nor in "
    "/usr/lib/postgresql/*/bin): the PostgreSQL store tests need them. Run tools/bootstrap, "
    "which installs postgresql and libpq-dev";

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// Where initdb and pg_ctl are: libpq-dev's pg_config knows; else the newest Debian cluster.
std::string find_bindir() {
  if (FILE* pipe = ::popen("pg_config --bindir 2>/dev/null", "r")) {
    char buffer[512] = {};
    const std::size_t read = std::fread(buffer, 1, sizeof buffer - 1, pipe);
    ::pclose(pipe);
    const std::string dir = trimmed(std::string(buffer, read));
    if (!dir.empty() && executable(dir + "/initdb") && executable(dir + "/pg_ctl")) {
      return dir;
    }
  }
  glob_t found{};
  std::string newest;
  if (::glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &found) == 0 && found.gl_pathc > 0) {
    const std::string initdb = found.gl_pathv[found.gl_pathc - 1];
    newest = initdb.substr(0, initdb.size() - std::string("/initdb").size());
  }
  ::globfree(&found);
  return newest;
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return text.size() > 1500 ? text.substr(text.size() - 1500) : text;
}

// The file naming the ctest run's shared server (written by the fixture's start case), if any.
std::string shared_server_file() {
  const char* path = std::getenv("VIDBATCH_TEST_PG_SHARED");
  return path == nullptr ? std::string() : std::string(path);
}

// The socket folder written in `file`, if a server listens there.
std::string running_server_dir(const std::string& file) {
  std::ifstream in(file);
  std::string dir;
  std::getline(in, dir);
  return !dir.empty() && ::access((dir + "/.s.PGSQL.5432").c_str(), F_OK) == 0 ? dir : "";
}

class Server {
 public:
  // How the server ends: with this process, or with the process that runs the tests (ctest).
  enum class Lifetime { process, parent };

  explicit Server(Lifetime lifetime = Lifetime::process) {
    const std::string file = shared_server_file();
    if (lifetime == Lifetime::process && !file.empty()) {
      m_dir = running_server_dir(file);
      if (!m_dir.empty()) {
        return;  // the ctest run's server: started and stopped by its fixture
      }
    }
    m_error = start(lifetime);
  }
  ~Server() {
    m_admin.reset();
    if (m_watchdog > 0) {
      ::close(m_watchdog_pipe);  // EOF: the watchdog stops the server and removes the folder
      int status = 0;
      ::waitpid(m_watchdog, &status, 0);
    }
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const std::string& error() const { return m_error; }
  std::string url(const std::string& database) const {
    return "postgresql://postgres@/" + database + "?host=" + m_dir;
  }
  const std::string& dir() const { return m_dir; }
  // A database name no other test process on a shared server uses.
  std::string next_database() {
    return "t" + std::to_string(::getpid()) + "_" + std::to_string(++m_databases);
  }
  store_detail::PgConnection& admin(const std::string& database) {
    if (!m_admin || m_admin_database != database) {
      m_admin.reset();
      auto connected = store_detail::PgConnection::connect(url(database), url(database));
      INFO((connected ? std::string() : connected.error().describe()));
      REQUIRE(connected.has_value());
      m_admin = std::move(*connected);
      m_admin_database = database;
    }
    return *m_admin;
  }

 private:
  // Runs a server command (as postgres when we are root); its output goes to `log`.
  int run(std::vector<std::string> argv, const std::string& log) {
    if (m_as_postgres) {
      argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
    }
    vidbatch::test::SubprocessOptions options;
    options.argv = std::move(argv);
    options.stdout_path = log;
    options.stderr_path = log;
    vidbatch::test::Subprocess process(options);
    return process.wait();
  }

  // The watchdog: a shell that waits for the end of this process (its pipe reaches EOF however
  // the process ends) or of our parent (the ctest run, polled), then stops the server and
  // removes its folder. In a session of its own, so a signal to the tests' process group leaves
  // it to clean up; its output goes nowhere, so ctest never waits on it.
  void start_watchdog(const std::string& stop_command, Lifetime lifetime) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      return;
    }
    const std::string wait =
        lifetime == Lifetime::process
            ? "read -r ignored"
            : "while kill -0 " + std::to_string(::getppid()) + " 2>/dev/null; do sleep 1; done";
    const std::string script =
        wait + "; " + stop_command + " >/dev/null 2>&1; rm -rf '" + m_dir + "'";
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setsid();
      ::dup2(fds[0], 0);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    if (lifetime == Lifetime::parent) {
      ::close(fds[1]);
      return;  // not ours to wait for: it outlives this process
    }
    m_watchdog = pid;
    m_watchdog_pipe = fds[1];
  }

  std::string start(Lifetime lifetime) {
    const std::string bin = find_bindir();
    if (bin.empty()) {
      return k_missing_binaries;
    }
    std::string pattern = "/tmp/vbpg.XXXXXX";  // short: a socket path has at most 107 bytes
    if (::mkdtemp(pattern.data()) == nullptr) {
      return "cannot create a folder for the test server in /tmp";
    }
    m_dir = pattern;
    m_as_postgres = ::geteuid() == 0;
    std::string runner;
    if (m_as_postgres) {
      const passwd* user = ::getpwnam("postgres");
      if (user == nullptr || !executable("/usr/sbin/runuser")) {
        return "running as root, but there is no postgres user (or no runuser) to run the test "
               "server as: initdb refuses root. Run tools/bootstrap (installs postgresql)";
      }
      if (::chown(m_dir.c_str(), user->pw_uid, user->pw_gid) != 0) {
        return "cannot give " + m_dir + " to the postgres user";
      }
      runner = "/usr/sbin/runuser -u postgres -- ";
    }
    const std::string data = m_dir + "/data";
    start_watchdog(runner + "'" + bin + "/pg_ctl' -D '" + data + "' -m immediate stop", lifetime);
    if (run({bin + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-locale", "--no-sync"},
            m_dir + "/initdb.log") != 0) {
      return "initdb failed:\n" + tail_of(m_dir + "/initdb.log");
    }
    const std::string options = "-k " + m_dir +
                                " -c listen_addresses= -c fsync=off -c synchronous_commit=off "
                                "-c full_page_writes=off -c max_connections=200";
    if (run({bin + "/pg_ctl", "-D", data, "-l", m_dir + "/server.log", "-w", "-t", "60", "-o",
             options, "start"},
            m_dir + "/pg_ctl.log") != 0) {
      return "the test PostgreSQL server did not start:\n" + tail_of(m_dir + "/server.log");
    }
    return "";
  }

  std::string m_dir;
  bool m_as_postgres = false;
  pid_t m_watchdog = -1;
  int m_watchdog_pipe = -1;
  std::string m_error;
  int m_databases = 0;
  std::unique_ptr<store_detail::PgConnection> m_admin;
  std::string m_admin_database;
};

Server& server() {
  static Server instance;  // destroyed at exit: the server stops with the tests
  if (!instance.error().empty()) {
    FAIL(instance.error());
  }
  return instance;
}

}  // namespace

std::string pg_database_url(const std::string& name) {
  return server().url(name);
}

void pg_admin_exec(const std::string& sql, const std::string& database) {
  auto done = server().admin(database).exec(sql);
  INFO(sql);
  INFO((done ? std::string() : done.error().describe()));
  REQUIRE(done.has_value());
}

std::string fresh_pg_database() {
  Server& s = server();
  const std::string name = s.next_database();
  pg_admin_exec("CREATE DATABASE " + name);
  return s.url(name);
}

// The fixture of a ctest run (tests/catch_tests.cmake): one server for every [postgres] test
// process of the run instead of one each, named in $VIDBATCH_TEST_PG_SHARED. Hidden cases, run
// by ctest only.
TEST_CASE("the ctest run's PostgreSQL server starts", "[.][pg-fixture]") {
  const std::string file = shared_server_file();
  REQUIRE_FALSE(file.empty());
  Server shared(Server::Lifetime::parent);
  REQUIRE(shared.error().empty());
  const std::string partial = file + ".partial";
  std::ofstream(partial) << shared.dir() << "\n";
  REQUIRE(std::rename(partial.c_str(), file.c_str()) == 0);
}

TEST_CASE("the ctest run's PostgreSQL server stops", "[.][pg-fixture]") {
  const std::string file = shared_server_file();
  REQUIRE_FALSE(file.empty());
  const std::string dir = running_server_dir(file);
  std::remove(file.c_str());
  if (dir.empty()) {
    return;  // never started, or gone already
  }
  // The folder (a copy of the template per test database: many files) is removed by the
  // server's watchdog once ctest exits, not in this test's time.
  const std::string runner = ::geteuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : "";
  const std::string stop =
      runner + "'" + find_bindir() + "/pg_ctl' -D '" + dir + "/data' -m immediate stop >/dev/null";
  CHECK(std::system(stop.c_str()) == 0);
}

}  // namespace vb::test
