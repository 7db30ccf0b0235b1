// `vidbatch verify`: the files of done jobs checked again against the ledger and their requests
// (src/audit): still there, the recorded size and SHA-256, headers that match the request.
// Exit 0 when every file is as recorded and as asked, 1 when any is off.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "audit/output_audit.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "plan/plan.h"
#include "store/job_json.h"

namespace vb {

namespace {

struct VerifyFlags {
  std::string batch;
  bool json = false;
  bool no_hash = false;  // size and headers only: a tree of large videos in seconds
  int threads = 0;       // 0: one per core, at least 2
};

struct VerifyTotals {
  std::size_t checked = 0;
  std::size_t off = 0;
  std::size_t known = 0;  // off only by a mismatch recorded at download
  double seconds = 0;
};

Result<std::vector<AuditTask>> done_jobs(Ledger& ledger, const VerifyFlags& flags) {
  JobFilter filter;
  if (!flags.batch.empty()) {
    filter.batch = flags.batch;
  }
  filter.state = JobState::done;
  ProviderCatalog catalog(ledger.config);
  const bool check_headers = ledger.config.output.verify != VideoVerify::off;
  std::vector<AuditTask> tasks;
  VB_TRY(ledger.store->for_each_job(filter, [&](const JobRecord& job) -> Status {
    const ProviderCatalog::Entry* provider = catalog.find(job.spec.provider);
    const std::string size = provider ? provider->dialect->delivered_size(job.spec) : job.spec.size;
    tasks.push_back({job.batch, job.spec.id, job.output_path, job.bytes,
                     flags.no_hash ? std::string() : job.sha256, expectation_for(job.spec, size),
                     check_headers, job.check.verdict});
    return {};
  }));
  return tasks;
}

void write_json(const std::vector<AuditFinding>& findings, const VerifyTotals& totals,
                std::ostream& out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("checked");
  w.Uint64(totals.checked);
  w.Key("ok");
  w.Uint64(totals.checked - totals.off);
  w.Key("off");
  w.Uint64(totals.off);
  w.Key("seconds");
  w.Double(totals.seconds);
  w.Key("jobs");
  w.StartArray();
  for (const AuditFinding& f : findings) {
    if (f.ok()) {
      continue;
    }
    w.StartObject();
    put_json_member(w, "batch", f.task->batch);
    put_json_member(w, "id", f.task->job_id);
    put_json_member(w, "path", f.task->path);
    w.Key("bytes_recorded");
    w.Int64(f.task->bytes);
    w.Key("bytes_on_disk");
    f.bytes_on_disk < 0 ? w.Null() : w.Int64(f.bytes_on_disk);
    put_json_member(w, "recorded_verify", f.task->recorded_verdict);
    w.Key("known_mismatch");
    w.Bool(f.known_mismatch_only());
    w.Key("problems");
    w.StartArray();
    for (const AuditProblem& p : f.problems) {
      w.StartObject();
      put_json_member(w, "code", p.code);
      put_json_member(w, "message", p.message);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.write(buffer.GetString(), static_cast<std::streamsize>(buffer.GetSize()));
  out << '\n';
}

void write_text(const std::vector<AuditFinding>& findings, const VerifyTotals& totals,
                std::ostream& out) {
  for (const AuditFinding& f : findings) {
    for (const AuditProblem& p : f.problems) {
      out << f.task->batch << '/' << f.task->job_id << ": " << f.task->path << ": " << p.code
          << ": " << p.message << '\n';
    }
  }
  char rate[64];
  std::snprintf(rate, sizeof rate, " in %.2f s (%.0f files/s)", totals.seconds,
                totals.seconds > 0 ? static_cast<double>(totals.checked) / totals.seconds : 0.0);
  out << "checked " << totals.checked << " video(s)" << rate << ": " << totals.checked - totals.off
      << " ok, " << totals.off << " off";
  if (totals.known > 0) {
    out << " (" << totals.known << " already recorded as not matching the request at download; "
        << totals.off - totals.known << " changed since)";
  }
  out << '\n';
}

Result<int> verify_outputs(Ledger& ledger, const VerifyFlags& flags) {
  const auto tasks = VB_TRY(done_jobs(ledger, flags));
  const int threads = flags.threads > 0
                          ? flags.threads
                          : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  const auto start = std::chrono::steady_clock::now();
  const std::vector<AuditFinding> findings = audit_files(tasks, threads);
  VerifyTotals totals;
  totals.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  totals.checked = findings.size();
  for (const AuditFinding& f : findings) {
    totals.off += f.ok() ? 0 : 1;
    totals.known += f.known_mismatch_only() ? 1 : 0;
  }
  if (flags.json) {
    write_json(findings, totals, std::cout);
  } else {
    write_text(findings, totals, std::cout);
  }
  std::cout.flush();
  if (!std::cout) {
    return k_exit_runtime;
  }
  return totals.off > 0 ? k_exit_jobs_failed : k_exit_ok;
}

}  // namespace

void register_verify(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* cmd =
      app.add_subcommand("verify",
                         "check the files of done jobs again: still there, unchanged, as asked");
  cmd->footer(
      "Exit 0 when every file is as recorded and as asked, 1 when any is off.\n"
      "Examples:\n"
      "  vidbatch verify --batch demo\n"
      "  vidbatch verify --json | jq '.jobs[] | select(.known_mismatch | not)'");
  cmd->add_option("--batch", flags->batch, "only this batch");
  cmd->add_flag("--json", flags->json, "print one JSON document instead of lines");
  cmd->add_flag("--no-hash", flags->no_hash,
                "skip the SHA-256 (reads every byte): size and headers only");
  cmd->add_option("--threads", flags->threads, "files hashed and probed at once (default: cores)")
      ->check(CLI::PositiveNumber);
  add_common_flags(*cmd, ctx, false);
  cmd->callback([&ctx, flags] {
    ctx.action = [flags](Ledger& ledger) { return verify_outputs(ledger, *flags); };
  });
}

}  // namespace vb
