// `vidbatch resolve --resubmit|--fail JOB...`: the user's decision on ambiguous
// jobs (a create whose answer was lost, where no listing could settle it).
// `vidbatch resolve --character NAME --id ID|--recreate`: the same for a
// character whose create lost its answer (ambiguous, or creating after a crash).
#include <algorithm>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"

namespace vb {

namespace {

struct ResolveFlags {
  bool resubmit = false;
  bool fail = false;
  std::string batch;
  std::vector<std::string> jobs;
  std::string character;  // --character NAME: resolve a character instead of jobs
  std::string id;         // --id ID: the user found it at the provider
  bool recreate = false;  // --recreate: the next run creates it again
  std::string provider;   // --provider P: default, the config's default provider
};

// The jobs named by `ids`, each of which must be ambiguous; an error names what is wrong.
Result<std::vector<JobRecord>> find_ambiguous(JobStore& store, const std::string& batch,
                                              const std::vector<std::string>& ids) {
  auto jobs = find_jobs_by_id(store, batch, ids);
  if (!jobs) {
    return jobs;
  }
  for (const JobRecord& job : *jobs) {
    if (job.state != JobState::ambiguous) {
      return fail(ErrorCode::invalid_input,
                  std::string("the job is ") + to_string(job.state) +
                      ", not ambiguous; only ambiguous jobs need resolving",
                  "job " + job.batch + "/" + job.spec.id);
    }
  }
  return jobs;
}

Result<int> resolve(Ledger& ledger, const ResolveFlags& flags) {
  const Millis now = SystemClock().now_ms();
  const auto jobs = VB_TRY(find_ambiguous(*ledger.store, flags.batch, flags.jobs));
  std::vector<Transition> moves;
  for (const JobRecord& job : jobs) {
    Transition t{job.row_id, JobState::ambiguous, JobState::queued, now, 0, "", {}};
    if (flags.resubmit) {
      t.message = "resolved by the user: submit again (the lost create may also be billed)";
      t.update.error_code = "";
      t.update.error_message = "";
    } else {
      t.to = JobState::failed;
      t.message = "resolved by the user: failed, not resubmitted";
    }
    moves.push_back(std::move(t));
  }
  VB_TRY(ledger.store->apply(moves));
  std::cout << moves.size() << (flags.resubmit ? " job(s) queued again" : " job(s) marked failed")
            << (flags.resubmit ? "; `vidbatch resume` submits them\n" : "\n");
  return k_exit_ok;
}

// A remote id as a user would paste it: printable, no blanks, not absurdly long.
bool plausible_remote_id(const std::string& id) {
  return !id.empty() && id.size() <= 256 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c != '\x7f'; });
}

bool has_provider(const Config& config, const std::string& name) {
  return config.provider.name == name ||
         std::any_of(config.providers.begin(), config.providers.end(),
                     [&](const ProviderConfig& p) { return p.name == name; });
}

// Whether `character` (in state `state`) may take the decision; nullopt when it may,
// else why not.
std::optional<std::string> refuse_character(const CharacterRecord& character, bool recreate) {
  switch (character.state) {
    case CharacterState::ambiguous:
    case CharacterState::creating:
      return std::nullopt;
    case CharacterState::pending:
      if (!recreate) {
        return std::nullopt;  // made by hand at the provider: the run need not create it
      }
      return std::string(
          "the character is pending: it was never sent, and the next run "
          "creates it; nothing to resolve");
    case CharacterState::created:
      break;
  }
  return "the character is already created as " + character.remote_id +
         "; jobs use that id, so it is not changed";
}

Result<int> resolve_character(Ledger& ledger, const ResolveFlags& flags) {
  const Millis now = SystemClock().now_ms();
  const std::string provider = flags.provider.empty() ? ledger.config.default_provider
                                                      : flags.provider;
  const std::string where = "character " + flags.character + " (provider " + provider + ")";
  if (!has_provider(ledger.config, provider)) {
    return fail(ErrorCode::invalid_input,
                "the configuration has no provider named '" + provider + "'", where);
  }
  const auto found = VB_TRY(ledger.store->find_character(provider, flags.character));
  if (!found) {
    return fail(ErrorCode::not_found,
                "no such character in the ledger (characters are added by importing a manifest "
                "that defines them)",
                where);
  }
  const CharacterRecord& character = *found;
  if (auto why = refuse_character(character, flags.recreate)) {
    return fail(ErrorCode::invalid_input, *why, where);
  }
  const CharacterState to = flags.recreate ? CharacterState::pending : CharacterState::created;
  VB_TRY(ledger.store->set_character_state(provider, flags.character, character.state, to,
                                           flags.recreate ? "" : flags.id, now));
  if (flags.recreate) {
    std::cout << "character " << flags.character << " (provider " << provider
              << ") will be created again by the next run (the lost create may also exist at "
                 "the provider); `vidbatch resume` goes on\n";
  } else {
    std::cout << "character " << flags.character << " (provider " << provider << ") set to "
              << flags.id << "; `vidbatch resume` sends the jobs that use it\n";
  }
  return k_exit_ok;
}

// What is wrong with the flags' combination, if anything.
std::optional<std::string> resolve_flags_problem(const ResolveFlags& flags) {
  const char* problem = nullptr;
  if (!flags.character.empty()) {
    if (flags.resubmit || flags.fail || !flags.jobs.empty() || !flags.batch.empty()) {
      problem = "--character takes --id ID or --recreate, not jobs, --batch, --resubmit or --fail";
    } else if (flags.id.empty() == !flags.recreate) {
      problem = "choose --id ID or --recreate for the character";
    } else if (!flags.recreate && !plausible_remote_id(flags.id)) {
      problem =
          "--id: expected the character's id at the provider (no blanks, at most 256 "
          "characters)";
    }
  } else if (!flags.id.empty() || flags.recreate || !flags.provider.empty()) {
    problem = "--id, --recreate and --provider go with --character NAME";
  } else if (!flags.resubmit && !flags.fail) {
    problem = "choose --resubmit or --fail";
  } else if (flags.jobs.empty()) {
    problem = "name the ambiguous jobs to resolve (or --character NAME)";
  }
  return problem == nullptr ? std::nullopt : std::optional<std::string>(problem);
}

}  // namespace

void register_resolve(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<ResolveFlags>();
  CLI::App* cmd =
      app.add_subcommand("resolve", "decide what to do with ambiguous jobs or characters");
  cmd->footer(
      "Examples: vidbatch resolve --resubmit --batch demo cat-surfing\n"
      "          vidbatch resolve --character Otto --id char_123");
  auto* resubmit = cmd->add_flag("--resubmit", flags->resubmit,
                                 "queue them again (risks paying twice if the lost create ran)");
  auto* failed = cmd->add_flag("--fail", flags->fail, "mark them failed");
  resubmit->excludes(failed);
  cmd->add_option("--batch", flags->batch, "the batch of the jobs");
  cmd->add_option("jobs", flags->jobs, "job ids");
  cmd->add_option("--character", flags->character,
                  "resolve this character instead (its create lost its answer)");
  auto* id = cmd->add_option("--id", flags->id, "with --character: its id, found at the provider");
  auto* recreate = cmd->add_flag("--recreate", flags->recreate,
                                 "with --character: create it again on the next run");
  id->excludes(recreate);
  cmd->add_option("--provider", flags->provider,
                  "with --character: the provider it belongs to (default: the config's default)");
  add_common_flags(*cmd, ctx, false);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    if (auto problem = resolve_flags_problem(*flags)) {
      usage_error("resolve", *problem);
    }
    ctx.action = [flags](Ledger& ledger) {
      return flags->character.empty() ? resolve(ledger, *flags) : resolve_character(ledger, *flags);
    };
  });
}

}  // namespace vb
