// The keys a manifest accepts at each level (internal to the manifest module).
// The readers accept exactly these and name them in "unknown key"
// suggestions; tests/manifest/schema_test.cpp holds schema/manifest.schema.json
// to the same lists. Order matters: it is the order the suggestions list them.
#pragma once

#include <string_view>
#include <vector>

namespace vb {

inline const std::vector<std::string_view> k_manifest_top_keys = {"batch", "defaults", "characters",
                                                                  "jobs"};
// `defaults`: the keys shared by all jobs of an entry, plus variants.
inline const std::vector<std::string_view> k_manifest_default_keys = {
    // the video
    "model", "seconds", "orientation", "size", "images", "reference_images",
    // where and how it is made
    "provider", "watermark", "private", "character_url", "character_timestamps", "params",
    // how many takes
    "variants"};
inline const std::vector<std::string_view> k_manifest_job_keys = {
    // the job
    "id", "prompt", "prompts_from",
    // the video
    "model", "seconds", "orientation", "size", "images", "reference_images", "provider",
    // what it starts from
    "remix_of", "edit_of", "extend_of", "characters", "character_url", "character_timestamps",
    // how it is made, how many
    "watermark", "private", "params", "matrix", "variants"};
// Job keys that only make sense on one job: `defaults` refuses them.
inline const std::vector<std::string_view> k_manifest_job_only_keys = {"id",           "prompt",
                                                                       "prompts_from", "remix_of",
                                                                       "edit_of",      "extend_of",
                                                                       "characters",   "matrix"};
// An item of the top-level `characters` list.
inline const std::vector<std::string_view> k_manifest_character_keys = {"name", "video",
                                                                        "provider"};

}  // namespace vb
