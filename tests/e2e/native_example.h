// Runs a native dialect's shipped example (jobs/examples/<dialect>.yaml with the provider
// tables of config/<dialect>.toml, their addresses pointed at the simulator) against
// `vidbatch-sim --dialect <dialect>`, directly or through its gateway prefix.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "e2e/e2e_fixture.h"

namespace vb::test {

struct NativeExample {
  std::string dialect;        // wan, vidu, seedance: also the names of the example files
  std::string vendor_origin;  // the vendor's address in config/<dialect>.toml
  std::string key_env;        // the variable of the vendor's key
};

enum class Route { direct, gateway_native, gateway_taskdto };

struct NativeRun {
  CommandResult result;
  rapidjson::Document stats;
  std::vector<JobRecord> jobs;
  int files_as_recorded = 0;  // saved files whose hash is the ledger's (read before clean-up)
};

// `sim_flags` are added to the simulator's; the gateway routes use provider "<dialect>-gw";
// `limits`: more lines of the config's [limits] table.
NativeRun run_native_example(const NativeExample& example, Route route,
                             const std::vector<std::string>& sim_flags = {},
                             const std::string& limits = "");

// Every job (at least the three of every example) done from exactly one create, its file what
// the simulator served; the key stayed at the API's origin.
void check_one_video_per_job(const NativeRun& run);

}  // namespace vb::test
