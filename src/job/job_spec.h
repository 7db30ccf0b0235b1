// JobSpec: what the user asked for, one video. Plain data, produced by the
// manifest loader, stored by the store, translated by the provider dialects.
// Dialect-neutral: `size` stays "small" | "large" | "WxH" and each dialect maps
// it (OpenAI: small -> 1280x720 / 720x1280 by orientation). Value type.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vb {

enum class Orientation { landscape, portrait };

const char* to_string(Orientation o);

// How a job builds on another job's finished video (manifest remix_of /
// edit_of / extend_of). The parent is a job id of the same batch.
enum class DerivedKind { none, remix, edit, extend };

const char* to_string(DerivedKind k);  // "", "remix_of", "edit_of", "extend_of"

// Where something came from in a manifest, for error messages (1-based; 0 = unknown).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  std::string describe() const;  // "file:line:col"
};

// A vendor option of the manifest's `params:`: its value as JSON text ("0.5", "true", "\"std\"",
// an object), checked against the dialect's known options (provider/vendor_params.h) and written
// into the create body as given.
struct VendorParam {
  std::string key;
  std::string json;
  SourceLocation location;  // the key in the manifest; not part of identity
};

struct JobSpec {
  std::string id;  // unique in its batch, [A-Za-z0-9._-]+
  std::string prompt;
  std::string model = "sora-2";
  int seconds = 4;
  Orientation orientation = Orientation::landscape;
  std::string size = "small";       // small | large | WxH
  std::vector<std::string> images;  // URLs, or absolute local paths (resolved against the manifest)
  // Pictures whose subjects the video shows (not its frames): a dialect with a reference route
  // (Vidu's reference2video) takes them; the others refuse them.
  std::vector<std::string> reference_images;
  std::string provider;  // a [providers.NAME] of the config; empty: the default provider
  DerivedKind derived = DerivedKind::none;
  std::string parent;                   // the parent job's id when derived != none
  std::vector<std::string> characters;  // names from the manifest's `characters` section
  std::string character_url;            // unified dialect: a video with the (non-human) character
  std::string character_timestamps;     // "start,end" seconds within character_url
  std::optional<bool> watermark;        // unified dialect; unset: the provider's default
  std::optional<bool> private_video;    // manifest `private`; unified dialect
  std::vector<VendorParam> params;      // manifest `params`, in the order written
  SourceLocation location;              // the job's entry in the manifest; not part of identity

  // Stable JSON of every field that defines the video (not `location`); two specs
  // are the same job iff their canonical JSON is equal. Fields at their default
  // are left out, so ledgers written before a field existed still match.
  std::string canonical_json() const;
};

// A character (cameo) of the manifest's `characters` section: created once at
// the provider from a local video (OpenAI format POST /videos/characters); its
// id is kept in the ledger and jobs refer to it by name.
struct CharacterSpec {
  std::string name;      // 1..80 characters, unique in the manifest
  std::string video;     // absolute local path (resolved against the manifest)
  std::string provider;  // empty: the default provider
  SourceLocation location;
};

// A job's stable key across runs and retries: what a dialect sends as its client tag (Kling's
// external_task_id) to find a create whose answer was lost. "vb-BATCH-ID".
std::string job_key(std::string_view batch, std::string_view job_id);

// Inverse of canonical_json(); used by the store. Fails on malformed text.
std::optional<JobSpec> job_spec_from_json(const std::string& json);

}  // namespace vb
