// Rules for single job-field values given as text (internal to the manifest
// module). The YAML readers (manifest_fields.h), the matrix and the CSV prompt
// files all check values with these, so a value means the same wherever it is
// written. Each rule returns the value, or the message of the problem without
// its position ("must be between 1 and 60, got 90"). Pure; thread-safe.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "job/job_spec.h"

namespace vb {

constexpr int k_max_seconds = 60;
constexpr std::size_t k_max_prompt_chars = 32000;
constexpr std::size_t k_max_batch_chars = 64;
constexpr std::size_t k_max_id_chars = 128;
constexpr std::size_t k_max_provider_chars = 64;
constexpr std::size_t k_max_character_name_chars = 80;
constexpr int k_max_variants = 100;
// Jobs per manifest after expansion (matrix, variants, prompt files): keeps
// one batch's database work and memory bounded.
constexpr std::size_t k_max_jobs = 200000;
// Prompt text of all expanded jobs together: 200000 jobs of 1300 bytes.
constexpr std::size_t k_max_expanded_prompt_bytes = 256u * 1024 * 1024;

template <typename T>
using Checked = std::expected<T, std::string>;

// Strict decimal integer as YAML 1.2 core schema writes it: no '8.0', no '0x8'.
std::optional<long long> parse_integer(std::string_view text);

bool is_name_char(char c);

// An integer from min to max: "expected an integer, got 'x'", "must be between 1 and 60, got 90".
Checked<int> check_integer_in(std::string_view text, int min, int max);

Checked<int> check_seconds(std::string_view text);
Checked<Orientation> check_orientation(std::string_view text);
Checked<std::string> check_size(std::string_view text);
Checked<std::string> check_model(std::string_view text);
// [A-Za-z0-9_-], 1..64: the manifest cannot know the config, so syntax only.
Checked<std::string> check_provider(std::string_view text);
// batch and id: 1..max_chars of [A-Za-z0-9._-], never "." or "..".
Checked<std::string> check_name(std::string_view text, std::size_t max_chars);
// Not blank, at most k_max_prompt_chars code points.
Checked<std::string> check_prompt(std::string_view text);
// 1..80 code points, no control characters, no blank at either end.
Checked<std::string> check_character_name(std::string_view text);
// http:// or https:// with a host, no blanks.
Checked<std::string> check_character_url(std::string_view text);
// "start,end" in seconds, 0 <= start < end, 1 <= end - start <= 3; returned
// without blanks ("1.5, 3" -> "1.5,3").
Checked<std::string> check_character_timestamps(std::string_view text);
Checked<int> check_variants(std::string_view text);

// The job fields a matrix variable or a CSV column may set, by name.
enum class JobField { model, seconds, orientation, size, provider };

std::optional<JobField> job_field_named(std::string_view name);
const char* to_string(JobField field);

// One checked value of a JobField, ready to apply to any number of jobs.
struct FieldSetting {
  JobField field = JobField::model;
  std::string text;  // model, size, provider
  int seconds = 0;
  Orientation orientation = Orientation::landscape;
};

Checked<FieldSetting> check_field(JobField field, std::string_view text);
void apply_field(const FieldSetting& setting, JobSpec& spec);

}  // namespace vb
