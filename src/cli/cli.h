// The command line: parses argv, runs one subcommand, returns the exit code.
// Exit codes (stable, documented in docs/cli.md):
#pragma once

namespace vb {

enum ExitCode : int {
  k_exit_ok = 0,             // every job succeeded
  k_exit_jobs_failed = 1,    // finished, some jobs failed or are held as ambiguous
  k_exit_usage = 2,          // bad usage, manifest or config; nothing written
  k_exit_runtime = 3,        // the run could not go on (database, disk, auth): message says why
  k_exit_interrupted = 130,  // SIGINT/SIGTERM: state saved, resumable
};

int cli_main(int argc, char** argv);

}  // namespace vb
