#include "job/job_spec.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace vb {

const char* to_string(Orientation o) {
  return o == Orientation::portrait ? "portrait" : "landscape";
}

std::string SourceLocation::describe() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) {
      out += ":" + std::to_string(column);
    }
  }
  return out;
}

std::string JobSpec::canonical_json() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("id");
  w.String(id.c_str(), static_cast<rapidjson::SizeType>(id.size()));
  w.Key("prompt");
  w.String(prompt.c_str(), static_cast<rapidjson::SizeType>(prompt.size()));
  w.Key("model");
  w.String(model.c_str(), static_cast<rapidjson::SizeType>(model.size()));
  w.Key("seconds");
  w.Int(seconds);
  w.Key("orientation");
  w.String(to_string(orientation));
  w.Key("size");
  w.String(size.c_str(), static_cast<rapidjson::SizeType>(size.size()));
  w.Key("images");
  w.StartArray();
  for (const auto& image : images) {
    w.String(image.c_str(), static_cast<rapidjson::SizeType>(image.size()));
  }
  w.EndArray();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

namespace {

std::optional<std::string> string_member(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) {
    return std::nullopt;
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

std::optional<JobSpec> job_spec_from_json(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return std::nullopt;
  }
  JobSpec spec;
  auto id = string_member(doc, "id");
  auto prompt = string_member(doc, "prompt");
  auto model = string_member(doc, "model");
  auto orientation = string_member(doc, "orientation");
  auto size = string_member(doc, "size");
  auto seconds = doc.FindMember("seconds");
  auto images = doc.FindMember("images");
  if (!id || !prompt || !model || !orientation || !size || seconds == doc.MemberEnd() ||
      !seconds->value.IsInt() || images == doc.MemberEnd() || !images->value.IsArray()) {
    return std::nullopt;
  }
  spec.id = *id;
  spec.prompt = *prompt;
  spec.model = *model;
  spec.seconds = seconds->value.GetInt();
  spec.orientation = *orientation == "portrait" ? Orientation::portrait : Orientation::landscape;
  spec.size = *size;
  for (const auto& image : images->value.GetArray()) {
    if (!image.IsString()) {
      return std::nullopt;
    }
    spec.images.emplace_back(image.GetString(), image.GetStringLength());
  }
  return spec;
}

}  // namespace vb
