// Plan: what a manifest would do, computed without touching a ledger or the
// network: the validated, expanded jobs, the seconds of video they ask for
// and their estimated cost. `vidbatch plan` and `run --dry-run` print it.
// Pure apart from the output stream; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"
#include "manifest/manifest.h"
#include "provider/video_provider.h"
#include "util/error.h"

namespace vb {

struct PlannedJob {
  JobSpec spec;
  std::string size;                // as the provider will be sent it ("1280x720")
  std::optional<double> cost_usd;  // nullopt when the price table has no entry
};

struct Plan {
  std::string batch;
  std::vector<PlannedJob> jobs;      // manifest order
  long long total_seconds = 0;       // of video, over every job
  double priced_cost_usd = 0;        // sum over the jobs that have a price
  int unpriced_jobs = 0;             // jobs left out of priced_cost_usd
  std::optional<double> budget_usd;  // from the config, for the "fits the budget" line
};

// The configured providers by name, each with its effective configuration
// (Config::for_provider) and its dialect, built on first use.
class ProviderCatalog {
 public:
  struct Entry {
    Config config;
    std::unique_ptr<VideoProvider> dialect;
  };
  explicit ProviderCatalog(const Config& config);
  // "" = the default provider; null for a name the config does not define.
  const Entry* find(const std::string& name);
  std::string known_names() const;  // for messages

 private:
  const Config& m_config;
  std::map<std::string, Entry, std::less<>> m_entries;
};

// Checks every job against the provider's dialect rules (all problems in one
// ErrorCode::invalid_input Error, "file:line:col: jobs[i].field: message" per
// line, as `run` reports them), then prices each job with its provider's prices.
Result<Plan> make_plan(const Manifest& manifest, const Config& config);

// For every job of the manifest: its provider exists, a derived job uses its
// parent's provider, and the provider's dialect accepts it. All problems in one
// Error (invalid_input), one "file:line:col: jobs[i].field: ..." line each.
Status check_jobs(const Manifest& manifest, const Config& config);

// People: one line per job then the totals. json: one document
// {"batch", "jobs": [{"id","model","size","seconds","prompt","cost_usd"|null}],
//  "total_jobs", "total_seconds", "estimated_cost_usd", "unpriced_jobs", "budget_usd"|null}.
void write_plan(const Plan& plan, bool json, std::ostream& out);

}  // namespace vb
