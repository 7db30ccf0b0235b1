// A throwaway PostgreSQL server for the tests: started on first use (initdb + pg_ctl, as the
// `postgres` user when run as root, a unix socket in a new /tmp folder, no TCP, fsync off),
// stopped and removed when the process exits. A watchdog process stops it too when the test
// process dies by a signal, so no server outlives its tests. Under ctest, every test process
// uses the run's one server instead (a fixture starts it: $VIDBATCH_TEST_PG_SHARED names it);
// each test has databases of its own. Not thread-safe: call from the test's main thread.
#pragma once

#include <string>

namespace vb::test {

// The URL of a new, empty database on this process's server ("postgresql://postgres@/tN?
// host=/tmp/vbpg.XXXXXX"). Fails the running test with a clear message when PostgreSQL's
// server binaries are missing (tools/bootstrap installs them) or the server does not start.
std::string fresh_pg_database();

// The URL of database `name` on this process's server (starting it if needed).
std::string pg_database_url(const std::string& name);

// Runs `sql` on this process's server, on database `database`; fails the test on an error.
void pg_admin_exec(const std::string& sql, const std::string& database = "postgres");

}  // namespace vb::test
