// The gateways' extra create fields (character_url, character_timestamps,
// watermark, private), written the same way by both dialects' JSON bodies.
// Internal to the provider module.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "job/job_spec.h"

namespace vb {

inline void write_gateway_fields(rapidjson::Writer<rapidjson::StringBuffer>& w,
                                 const JobSpec& spec) {
  auto str = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  if (!spec.character_url.empty()) {
    str("character_url", spec.character_url);
    str("character_timestamps", spec.character_timestamps);
  }
  if (spec.watermark) {
    w.Key("watermark");
    w.Bool(*spec.watermark);
  }
  if (spec.private_video) {
    w.Key("private");
    w.Bool(*spec.private_video);
  }
}

}  // namespace vb
