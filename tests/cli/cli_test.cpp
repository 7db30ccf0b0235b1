// [cli] The command line through the real binary: jobs, events, report, plan,
// retry, cancel, completion and --help. Tests that need a provider run the
// simulator and are tagged [e2e] as well.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "app/run_lock.h"
#include "e2e/e2e_fixture.h"
#include "support/lines.h"
#include "support/pg_server.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::lines_of;
using vidbatch::test::SimProcess;
using vidbatch::test::Subprocess;
using vidbatch::test::SubprocessOptions;

namespace {

// Runs vidbatch with exactly `args` in `dir` (no flags added).
CommandResult run_cli(const std::string& dir, const std::vector<std::string>& args) {
  SubprocessOptions options;
  options.argv = {VIDBATCH_BIN};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = {{"OPENAI_API_KEY", "sk-cli-test"}};
  options.cwd = dir;
  options.stdout_path = dir + "/cli.out";
  options.stderr_path = dir + "/cli.err";
  Subprocess process(options);
  CommandResult result;
  result.exit_code = process.wait();
  result.out = read_file(dir + "/cli.out");
  result.err = read_file(dir + "/cli.err");
  return result;
}

std::vector<std::string> ledger_flags(const E2eFolder& folder) {
  return {"--db", folder.db(), "--config", folder.path("vidbatch.toml")};
}

CommandResult on_ledger(const E2eFolder& folder, std::vector<std::string> args) {
  auto flags = ledger_flags(folder);
  args.insert(args.end(), flags.begin(), flags.end());
  return run_cli(folder.dir(), args);
}

// A finished batch "cli" of `count` jobs; job-1 fails moderation.
void run_batch(const E2eFolder& folder, const SimProcess& sim, int count) {
  std::string manifest = folder.write_manifest("cli", count, {{1, "Please [[fail]] this one"}});
  CommandResult run = folder.run({"run", manifest}, sim.base_url());
  INFO(run.err);
  REQUIRE(run.exit_code == 1);  // one job failed
}

}  // namespace

TEST_CASE("jobs, events and reports read a finished batch", "[cli][e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  run_batch(folder, sim, 4);

  CommandResult jobs = on_ledger(folder, {"jobs", "--json"});
  REQUIRE(jobs.exit_code == 0);
  auto job_lines = lines_of(jobs.out);
  REQUIRE(job_lines.size() == 4);
  auto first = parse_json(job_lines[0]);
  CHECK(std::string(first["state"].GetString()) == "done");
  CHECK(first["progress"].GetDouble() == 100);
  CHECK(std::string(first["output_path"].GetString()).ends_with("cli/job-0.mp4"));

  CommandResult failed = on_ledger(folder, {"jobs", "--state", "failed"});
  REQUIRE(failed.exit_code == 0);
  CHECK(lines_of(failed.out).size() == 2);  // header + job-1
  CHECK_THAT(failed.out, Catch::Contains("job-1"));
  CHECK(on_ledger(folder, {"jobs", "--state", "finished"}).exit_code == 2);

  CommandResult events = on_ledger(folder, {"events", "--job", "job-0", "--json"});
  REQUIRE(events.exit_code == 0);
  auto event_lines = lines_of(events.out);
  REQUIRE(event_lines.size() >= 5);
  CHECK(parse_json(event_lines.front())["from"].IsNull());
  CHECK(std::string(parse_json(event_lines.back())["to"].GetString()) == "done");
  CommandResult text = on_ledger(folder, {"events", "--batch", "cli"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("cli/job-0  created -> queued"));
  CHECK(lines_of(text.out).size() == folder.open_store()->events(std::nullopt)->size());
  CommandResult missing = on_ledger(folder, {"events", "--job", "nope"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("job nope"));

  CommandResult md = on_ledger(folder, {"report", "--format", "md"});
  REQUIRE(md.exit_code == 0);
  CHECK_THAT(md.out, Catch::Contains("| Jobs | 4 (done 3, failed 1) |"));
  CHECK_THAT(md.out, Catch::Contains("| Success rate | 75.0 %"));

  CommandResult html = on_ledger(folder, {"report", "--format", "html", "--batch", "cli",
                                          "--output", "reports/r.html"});
  REQUIRE(html.exit_code == 0);
  std::string page = read_file(folder.path("reports/r.html"));
  std::size_t cards = 0;
  for (auto at = page.find("<article class=\"card\""); at != std::string::npos;
       at = page.find("<article class=\"card\"", at + 1)) {
    ++cards;
  }
  CHECK(cards == 4);
  CHECK_THAT(page, Catch::Contains("src=\"../out/cli/job-0.mp4\""));
  CHECK_FALSE(std::filesystem::exists(folder.path("reports/r.html.tmp")));
}

TEST_CASE("retry queues failed jobs again and cancel stops unfinished ones", "[cli][e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  run_batch(folder, sim, 3);

  CHECK(on_ledger(folder, {"retry"}).exit_code == 2);  // which jobs?
  CommandResult not_failed = on_ledger(folder, {"retry", "--job", "job-0"});
  CHECK(not_failed.exit_code == 2);
  CHECK_THAT(not_failed.err, Catch::Contains("the job is done"));

  CommandResult retry = on_ledger(folder, {"retry", "--batch", "cli", "--failed"});
  INFO(retry.err);
  REQUIRE(retry.exit_code == 0);
  CHECK_THAT(retry.out, Catch::Contains("1 job(s) queued again"));
  {
    auto store = folder.open_store();
    auto job = store->find_job("cli", "job-1");
    REQUIRE(job->has_value());
    CHECK((*job)->state == JobState::queued);
    CHECK((*job)->attempt == 1);  // keeps counting: the next create is attempt 2
    CHECK((*job)->error_code.empty());
    auto events = store->events((*job)->row_id);
    CHECK(events->back().from == JobState::failed);
    CHECK_THAT(events->back().message, Catch::Contains("retry requested by the user"));
    require_consistent_events(*store);
  }
  CHECK_THAT(on_ledger(folder, {"retry", "--failed"}).out, Catch::Contains("no failed jobs"));

  // Both refuse while a run holds the ledger.
  {
    auto lock = RunLock::acquire(folder.db());
    REQUIRE(lock.has_value());
    CommandResult busy_retry = on_ledger(folder, {"retry", "--canceled"});
    CHECK(busy_retry.exit_code == 3);
    CommandResult busy_cancel = on_ledger(folder, {"cancel", "--batch", "cli"});
    CHECK(busy_cancel.exit_code == 3);
    CHECK(folder.open_store()->find_job("cli", "job-1")->value().state == JobState::queued);
  }

  CHECK(on_ledger(folder, {"cancel"}).exit_code == 2);
  CHECK(on_ledger(folder, {"cancel", "--job", "job-0"}).exit_code == 2);  // done
  CommandResult cancel = on_ledger(folder, {"cancel", "--batch", "cli"});
  INFO(cancel.err);
  REQUIRE(cancel.exit_code == 0);
  CHECK_THAT(cancel.out, Catch::Contains("1 job(s) canceled"));
  CHECK(folder.open_store()->find_job("cli", "job-1")->value().state == JobState::canceled);
  CHECK(on_ledger(folder, {"cancel", "--batch", "nope"}).exit_code == 2);

  // A canceled job comes back with retry --canceled and then runs to the end.
  REQUIRE(on_ledger(folder, {"retry", "--job", "job-1"}).exit_code == 0);
  folder.write_manifest("cli", 3, {{1, "Please [[fail]] this one"}});
  CommandResult resume = folder.run({"resume"}, sim.base_url());
  CHECK(resume.exit_code == 1);  // it fails moderation again, as its prompt says
  auto job = folder.open_store()->find_job("cli", "job-1");
  CHECK((*job)->state == JobState::failed);
  CHECK((*job)->attempt == 2);
  require_consistent_events(*folder.open_store());
}

TEST_CASE("plan prints jobs, seconds and cost and touches no ledger", "[cli]") {
  E2eFolder folder;
  std::string manifest = folder.write_manifest("promo", 3);
  CommandResult plan = run_cli(folder.dir(), {"plan", manifest, "--budget", "1"});
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK_THAT(plan.out, Catch::Contains("3 job(s), 12 s of video, estimated cost $1.20"));
  CHECK_THAT(plan.out, Catch::Contains("budget $1.00: NOT enough"));
  CHECK_FALSE(std::filesystem::exists(folder.path("vidbatch.db")));
  CHECK_FALSE(std::filesystem::exists(folder.db()));

  CommandResult json = run_cli(folder.dir(), {"plan", manifest, "--json"});
  REQUIRE(json.exit_code == 0);
  auto doc = parse_json(json.out);
  CHECK(doc["total_jobs"].GetInt() == 3);
  CHECK(doc["estimated_cost_usd"].GetDouble() == Approx(1.2));

  std::ofstream(folder.path("bad.yaml")) << "batch: x\njobs:\n  - {id: a, prompt: p, seconds: 5}\n";
  CommandResult bad = run_cli(folder.dir(), {"plan", "bad.yaml"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("bad.yaml:3:"));
  CHECK(bad.out.empty());
}

TEST_CASE("every command has --help with an example, and bash completion knows them", "[cli]") {
  E2eFolder folder;
  CommandResult completion = run_cli(folder.dir(), {"completion", "bash"});
  REQUIRE(completion.exit_code == 0);
  const std::vector<std::string> commands = {"run",      "resume",  "status", "report",
                                             "validate", "resolve", "jobs",   "events",
                                             "plan",     "retry",   "cancel", "completion",
                                             "migrate",  "workers"};
  for (const auto& command : commands) {
    INFO(command);
    CommandResult help = run_cli(folder.dir(), {command, "--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("Example"));
    // The help ends with the example: its last line runs this very command.
    auto help_lines = lines_of(help.out);
    while (!help_lines.empty() && help_lines.back().empty()) {
      help_lines.pop_back();
    }
    REQUIRE_FALSE(help_lines.empty());
    CHECK_THAT(help_lines.back(), Catch::Contains("vidbatch " + command + " "));
    CHECK_THAT(completion.out, Catch::Contains(" " + command));
  }
  CHECK_THAT(completion.out, Catch::Contains("complete -o default -F _vidbatch vidbatch"));
  CHECK_THAT(completion.out, Catch::Contains("--format"));
  std::ofstream(folder.path("completion.bash")) << completion.out;
  // The script is valid bash and completes a subcommand and a flag.
  SubprocessOptions options;
  options.argv = {"/bin/bash", "-c",
                  "source completion.bash; COMP_WORDS=(vidbatch rep); COMP_CWORD=1; _vidbatch; "
                  "echo \"${COMPREPLY[*]}\"; COMP_WORDS=(vidbatch report --for); COMP_CWORD=2; "
                  "_vidbatch; echo \"${COMPREPLY[*]}\"; COMP_WORDS=(vidbatch jobs --state fa); "
                  "COMP_CWORD=3; _vidbatch; echo \"${COMPREPLY[*]}\""};
  options.cwd = folder.dir();
  options.stdout_path = folder.path("bash.out");
  options.stderr_path = folder.path("bash.err");
  Subprocess bash(options);
  REQUIRE(bash.wait() == 0);
  CHECK(read_file(folder.path("bash.err")).empty());
  const auto replies = lines_of(read_file(folder.path("bash.out")));
  CHECK(replies == std::vector<std::string>{"report", "--format", "failed"});
  CHECK(run_cli(folder.dir(), {"completion", "zsh"}).exit_code == 2);
}

TEST_CASE("migrate copies a finished SQLite ledger into PostgreSQL; every command reads it",
          "[cli][e2e][postgres]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  run_batch(folder, sim, 4);
  const std::string url = fresh_pg_database();
  const std::vector<std::string> on_pg = {"--db", url, "--config", folder.path("vidbatch.toml")};
  auto with_pg = [&](std::vector<std::string> args) {
    args.insert(args.end(), on_pg.begin(), on_pg.end());
    return run_cli(folder.dir(), args);
  };

  CHECK(with_pg({"status"}).exit_code == 2);  // no ledger there yet
  // Not while a worker is alive on the source; one whose heartbeat expired does not count.
  {
    auto source = folder.open_store();
    REQUIRE(source->register_worker("host-b:77:ab12", "host-b", 77, 600000).has_value());
    REQUIRE(source->register_worker("host-c:78:cd34", "host-c", 78, 1).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CommandResult refused = on_ledger(folder, {"migrate", "--to", url});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Catch::Contains("1 worker(s) are running on this ledger: "
                                            "host-b:77:ab12 (host host-b, pid 77"));
    CHECK_THAT(refused.err, Catch::Contains("vidbatch workers --db"));
    CHECK(with_pg({"status"}).exit_code == 2);  // nothing copied
    REQUIRE(source->release_worker("host-b:77:ab12").has_value());
  }
  CommandResult migrated = on_ledger(folder, {"migrate", "--to", url});
  INFO(migrated.err);
  REQUIRE(migrated.exit_code == 0);
  CHECK_THAT(migrated.out, Catch::Contains("verified row for row"));
  CHECK_THAT(migrated.out, Catch::Matches("(.|\n)*jobs +4 rows(.|\n)*"));

  // The same answers from both ledgers, through the real binary.
  for (const std::vector<std::string>& read : {std::vector<std::string>{"jobs", "--json"},
                                               {"events", "--batch", "cli", "--json"},
                                               {"status", "--json"},
                                               {"report", "--format", "csv"}}) {
    INFO(read.front());
    CommandResult from_file = on_ledger(folder, read);
    CommandResult from_pg = with_pg(read);
    INFO(from_pg.err);
    REQUIRE(from_pg.exit_code == from_file.exit_code);
    CHECK(from_pg.out == from_file.out);
  }
  auto copy = JobStore::open(url);
  REQUIRE(copy.has_value());
  require_consistent_events(**copy);

  // Not twice: the target holds a ledger now.
  CommandResult again = on_ledger(folder, {"migrate", "--to", url});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("already holds"));
  CHECK(on_ledger(folder, {"migrate", "--to", folder.path("other.db")}).exit_code == 2);

  // Commands that write work on it too: the failed job goes back to the queue there.
  CommandResult retry = with_pg({"retry", "--failed"});
  INFO(retry.err);
  REQUIRE(retry.exit_code == 0);
  CHECK((*copy)->find_job("cli", "job-1")->value().state == JobState::queued);
  CHECK(folder.open_store()->find_job("cli", "job-1")->value().state == JobState::failed);
}

namespace {

// A run of 3 jobs of `batch`, started and waited for until `vidbatch workers` lists its pid.
struct ListedRun {
  std::unique_ptr<Subprocess> process;
  std::string pid;  // "pid N", as the listing says it
  CommandResult listed;
};

ListedRun start_listed_run(const E2eFolder& folder, const SimProcess& sim,
                           const std::string& batch) {
  ListedRun run;
  run.process = folder.start({"run", folder.write_manifest(batch, 3)}, sim.base_url(), batch);
  wait_for_import(folder, *run.process);
  run.pid = "pid " + std::to_string(run.process->pid());
  for (int i = 0; i < 100; ++i) {
    run.listed = on_ledger(folder, {"workers"});
    if (run.listed.out.find(run.pid) != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return run;
}

}  // namespace

TEST_CASE("a run is a worker of its ledger while it runs; SIGINT removes its row", "[cli][e2e]") {
  SimProcess sim({"--gen-ms", "3000", "--quiet"});
  E2eFolder folder;
  ListedRun run = start_listed_run(folder, sim, "workers");
  INFO(run.listed.err);
  REQUIRE(run.listed.exit_code == 0);
  REQUIRE(lines_of(run.listed.out).size() == 1);
  CHECK_THAT(run.listed.out, Catch::Contains(run.pid));
  CHECK_THAT(run.listed.out, Catch::Contains("expires in"));

  run.process->send_signal(SIGINT);
  CommandResult stopped = folder.finish(*run.process, "workers");
  INFO(stopped.err);
  REQUIRE(stopped.exit_code == 130);
  CommandResult after = on_ledger(folder, {"workers"});
  REQUIRE(after.exit_code == 0);
  CHECK(after.out == "no workers on this ledger\n");
}

TEST_CASE("the row of a killed run expires; the next run reaps it and pays nothing twice",
          "[cli][e2e]") {
  SimProcess sim({"--gen-ms", "3000", "--quiet"});
  E2eFolder folder;
  folder.write_config(16, "[store]\nworker_ttl_ms = 4000\n");
  ListedRun run = start_listed_run(folder, sim, "reaped");
  run.process->send_signal(SIGKILL);
  folder.finish(*run.process, "reaped");

  // The row stays until its time to live (4 s here) runs out.
  CommandResult listed = on_ledger(folder, {"workers"});
  REQUIRE_THAT(listed.out, Catch::Contains(run.pid));
  for (int i = 0; i < 30 && listed.out.find("expired") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    listed = on_ledger(folder, {"workers"});
  }
  REQUIRE_THAT(listed.out, Catch::Contains("expired"));

  CommandResult resumed = folder.run({"resume"}, sim.base_url());
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(on_ledger(folder, {"workers"}).out == "no workers on this ledger\n");
  CHECK(parse_json(sim.stats())["creates_total"].GetInt() == 3);
  auto store = folder.open_store();
  auto jobs = store->list_jobs({});
  REQUIRE(jobs.has_value());
  REQUIRE(jobs->size() == 3);
  for (const JobRecord& job : *jobs) {
    CHECK(job.state == JobState::done);
  }
  require_consistent_events(*store);
}

TEST_CASE("a batch runs end to end on a PostgreSQL ledger: one create per job",
          "[cli][e2e][postgres]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  std::string manifest = folder.write_manifest("pg", 5);
  const std::string url = fresh_pg_database();
  CommandResult run =
      run_cli(folder.dir(), {"run", manifest, "--db", url, "--config", folder.path("vidbatch.toml"),
                             "--out", folder.out(), "--base-url", sim.base_url()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(parse_json(sim.stats())["creates_total"].GetInt() == 5);
  CHECK_FALSE(std::filesystem::exists(folder.db()));  // nothing went to a SQLite file

  auto store = JobStore::open(url);
  REQUIRE(store.has_value());
  auto jobs = (*store)->list_jobs({});
  REQUIRE(jobs.has_value());
  REQUIRE(jobs->size() == 5);
  for (const JobRecord& job : *jobs) {
    CHECK(job.state == JobState::done);
    CHECK(std::filesystem::exists(job.output_path));
  }
  require_consistent_events(**store);
  CommandResult workers = run_cli(folder.dir(), {"workers", "--db", url});
  CHECK(workers.out == "no workers on this ledger\n");
}
