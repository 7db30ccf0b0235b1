// Manifest: a YAML file of jobs, parsed and validated into plain JobSpecs.
//
// Format (README "Manifest"): `batch`, optional `defaults`, `jobs` (list of
// maps with `id`, `prompt`, and optional `model`, `seconds`, `orientation`,
// `size`, `images`). Unknown keys are errors. Every problem is reported, not
// the first only, as "file:line:col: field: message" like a compiler.
// Local image paths are resolved against the manifest's folder and must exist.
// Pure apart from reading the manifest (and checking that images exist); thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "job/job_spec.h"
#include "util/error.h"

namespace vb {

struct Manifest {
  std::string path;              // as given
  std::string batch;
  std::vector<JobSpec> jobs;     // in file order, defaults applied
  std::vector<CharacterSpec> characters;  // the `characters` section, in file order
};

struct ManifestDiagnostic {
  SourceLocation location;
  std::string field;             // "jobs[3].seconds", "batch", ...
  std::string message;
  std::string source_line;       // the offending line of the file, for a caret display

  // "file:line:col: field: message" then the source line and a caret.
  std::string render() const;
};

struct ManifestParse {
  std::optional<Manifest> manifest;              // set iff diagnostics is empty
  std::vector<ManifestDiagnostic> diagnostics;
};

// Parses manifest text; `file_name` is used in diagnostics and `base_dir`
// resolves relative image paths.
ManifestParse parse_manifest(std::string_view text, const std::string& file_name,
                             const std::string& base_dir);

// Reads and parses a file. On failure the Error (ErrorCode::invalid_input, or
// not_found/io for an unreadable file) carries every diagnostic, one per line.
Result<Manifest> load_manifest(const std::string& path);

}  // namespace vb
