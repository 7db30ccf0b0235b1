// The vendor options a dialect knows (the manifest's `params:`): their keys and types, checked
// before anything is sent, and written into the create body as the manifest gave them. A dialect
// without options (openai, unified) refuses every key. Pure; thread-safe (constant data).
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.h"
#include "job/job_spec.h"

namespace vb {

enum class ParamType { string, number, integer, boolean, word, table };

struct ParamRule {
  std::string_view key;
  ParamType type;
  double min = 0;  // number, integer: the range (min == max: unbounded)
  double max = 0;
  std::string_view words;    // word: the values, '|' between them
  std::string_view section;  // where the body takes it: "" top level, else the object's name
};

std::span<const ParamRule> param_rules(Dialect dialect);

struct ParamProblem {
  SourceLocation location;  // the key in the manifest (the job's entry when unknown)
  std::string message;      // "params.cfg_scal: ..., did you mean cfg_scale?"
};

// The first param of `spec` the dialect does not know, or whose value has the wrong type.
std::optional<ParamProblem> check_params(Dialect dialect, const JobSpec& spec);

// Writes the spec's params that belong in `section` as members of the object `w` is writing.
void write_params(rapidjson::Writer<rapidjson::StringBuffer>& w, Dialect dialect,
                  const JobSpec& spec, std::string_view section = "");

// Whether the manifest set `key` (then a dialect leaves its own value of it out).
bool has_param(const JobSpec& spec, std::string_view key);

}  // namespace vb
