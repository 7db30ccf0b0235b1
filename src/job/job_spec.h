// JobSpec: what the user asked for, one video. Plain data, produced by the
// manifest loader, stored by the store, translated by the provider dialects.
// Dialect-neutral: `size` stays "small" | "large" | "WxH" and each dialect maps
// it (OpenAI: small -> 1280x720 / 720x1280 by orientation). Value type.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vb {

enum class Orientation { landscape, portrait };

const char* to_string(Orientation o);

// Where something came from in a manifest, for error messages (1-based; 0 = unknown).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  std::string describe() const;  // "file:line:col"
};

struct JobSpec {
  std::string id;                    // unique in its batch, [A-Za-z0-9._-]+
  std::string prompt;
  std::string model = "sora-2";
  int seconds = 4;
  Orientation orientation = Orientation::landscape;
  std::string size = "small";        // small | large | WxH
  std::vector<std::string> images;   // URLs, or absolute local paths (resolved against the manifest)
  SourceLocation location;           // the job's entry in the manifest; not part of identity

  // Stable JSON of every field that defines the video (not `location`); two specs
  // are the same job iff their canonical JSON is equal.
  std::string canonical_json() const;
};

// Inverse of canonical_json(); used by the store. Fails on malformed text.
std::optional<JobSpec> job_spec_from_json(const std::string& json);

}  // namespace vb
