// Manifest: a YAML file of jobs, parsed and validated into plain JobSpecs.
//
// Format (docs/manifest.md): `batch`, optional `defaults`, optional
// `characters` (list of {name, video, provider}), `jobs` (list of maps with
// `id` and `prompt` or `prompts_from`, and optional job fields). An entry may
// expand into several JobSpecs: rows of a prompt file x `matrix` combinations
// x `variants`. Unknown keys are errors. Every problem is reported, not the
// first only, as "file:line:col: field: message" like a compiler; problems
// inside a prompt file carry that file's name and position.
// Local files (images, character videos, prompt files) are resolved against
// the manifest's folder and must exist (images and videos: with the right
// magic bytes). Pure apart from reading those files; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "job/job_spec.h"
#include "util/error.h"

namespace vb {

struct Manifest {
  std::string path;  // as given
  std::string batch;
  std::vector<JobSpec> jobs;              // in file order, expanded, defaults applied
  std::vector<CharacterSpec> characters;  // the `characters` section, in file order
};

struct ManifestDiagnostic {
  SourceLocation location;
  std::string field;  // "jobs[3].seconds", "batch", ...
  std::string message;
  std::string source_line;  // the offending line of the file, for a caret display

  // "file:line:col: field: message" then the source line and a caret.
  std::string render() const;
};

struct ManifestParse {
  std::optional<Manifest> manifest;  // set iff diagnostics is empty
  std::vector<ManifestDiagnostic> diagnostics;
};

// Parses manifest text; `file_name` is used in diagnostics (its folder also
// prefixes prompt file names in them) and `base_dir` resolves relative paths.
ManifestParse parse_manifest(std::string_view text, const std::string& file_name,
                             const std::string& base_dir);

// Reads and parses a file. On failure the Error (ErrorCode::invalid_input, or
// not_found/io for an unreadable file) carries every diagnostic, one per line.
Result<Manifest> load_manifest(const std::string& path);

}  // namespace vb
