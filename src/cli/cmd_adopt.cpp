// `vidbatch adopt REMOTE_ID... | --all [--batch B]`: saves paid, unclaimed videos (made by the
// provider for a job of the ledger, held by no job) as their jobs' alternative takes, beside
// the job's video as <stem>.take-<remote id>.mp4. Nothing is generated.
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "engine/take_fetch.h"
#include "output/output_layout.h"

namespace vb {

namespace {

struct AdoptFlags {
  std::vector<std::string> remote_ids;
  bool all = false;
  std::string batch;
  bool insecure = false;
};

// The unclaimed videos the flags name; an id the ledger does not hold as unclaimed is an error.
Result<std::vector<UnclaimedVideo>> select_videos(JobStore& store, const AdoptFlags& flags) {
  auto videos =
      store.unclaimed_videos(flags.batch.empty() ? std::nullopt : std::optional(flags.batch));
  if (!videos || flags.all) {
    return videos;
  }
  std::vector<UnclaimedVideo> chosen;
  for (const auto& id : flags.remote_ids) {
    auto it = std::find_if(videos->begin(), videos->end(),
                           [&](const UnclaimedVideo& v) { return v.remote_id == id; });
    if (it == videos->end()) {
      return fail(ErrorCode::not_found,
                  "the ledger holds no paid, unclaimed video with this id; `vidbatch status` "
                  "lists them",
                  "video " + id);
    }
    chosen.push_back(*it);
  }
  return chosen;
}

Status adopt_one(const Config& config, JobStore& store, const UnclaimedVideo& video,
                 bool insecure) {
  ProviderRun run = VB_TRY(make_provider_run(config, video.provider, insecure));
  const OutputPaths paths = VB_TRY(output_paths(run.config.output, video.batch, video.job_id));
  SystemClock clock;
  const FinishedVideo saved =
      VB_TRY(fetch_video(*run.provider, *run.transport, run.config, video.spec, video.remote_id,
                         take_paths(paths, video.remote_id), clock));
  VB_TRY(store.record_take(video.provider, video.remote_id, saved.path));
  std::cout << "saved " << video.remote_id << " as " << saved.path << " (a take of " << video.batch
            << "/" << video.job_id << ")\n";
  return {};
}

Result<int> adopt(Ledger& ledger, const AdoptFlags& flags) {
  const auto videos = VB_TRY(select_videos(*ledger.store, flags));
  if (videos.empty()) {
    std::cout << "no paid, unclaimed videos to adopt\n";
    return k_exit_ok;
  }
  for (const auto& video : videos) {
    VB_TRY(adopt_one(ledger.config, *ledger.store, video, flags.insecure));
  }
  return k_exit_ok;
}

}  // namespace

void register_adopt(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<AdoptFlags>();
  CLI::App* cmd = app.add_subcommand(
      "adopt", "save paid, unclaimed videos as their jobs' alternative takes (generates nothing)");
  cmd->footer(
      "Examples:\n"
      "  vidbatch adopt video_68d7512d07848190b3e45da0ecbebcde\n"
      "  vidbatch adopt --all --batch demo");
  cmd->add_option("remote_ids", flags->remote_ids, "remote ids as `vidbatch status` lists them");
  cmd->add_flag("--all", flags->all, "every paid, unclaimed video (of --batch, if given)");
  cmd->add_option("--batch", flags->batch, "with --all: only this batch's");
  cmd->add_flag("--insecure", flags->insecure, "skip TLS verification (local testing only)");
  add_common_flags(*cmd, ctx, true);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    if (flags->all == !flags->remote_ids.empty()) {
      usage_error("adopt", "name the videos (remote ids) or say --all, not both");
    }
    ctx.action = [flags](Ledger& ledger) { return adopt(ledger, *flags); };
  });
}

}  // namespace vb
