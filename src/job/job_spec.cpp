#include "job/job_spec.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace vb {

std::string job_key(std::string_view batch, std::string_view job_id) {
  return "vb-" + std::string(batch) + "-" + std::string(job_id);
}

const char* to_string(Orientation o) {
  return o == Orientation::portrait ? "portrait" : "landscape";
}

const char* to_string(DerivedKind k) {
  switch (k) {
    case DerivedKind::remix:
      return "remix_of";
    case DerivedKind::edit:
      return "edit_of";
    case DerivedKind::extend:
      return "extend_of";
    case DerivedKind::none:
      break;
  }
  return "";
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
  const auto put = [&w](const char* key, const std::string& value) {
    if (!value.empty()) {
      w.Key(key);
      w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    }
  };
  put("provider", provider);
  if (derived != DerivedKind::none) {
    put(to_string(derived), parent);
  }
  const auto put_list = [&w](const char* key, const std::vector<std::string>& list) {
    if (!list.empty()) {
      w.Key(key);
      w.StartArray();
      for (const auto& item : list) {
        w.String(item.c_str(), static_cast<rapidjson::SizeType>(item.size()));
      }
      w.EndArray();
    }
  };
  put_list("reference_images", reference_images);
  put_list("characters", characters);
  put("character_url", character_url);
  put("character_timestamps", character_timestamps);
  if (watermark) {
    w.Key("watermark");
    w.Bool(*watermark);
  }
  if (private_video) {
    w.Key("private");
    w.Bool(*private_video);
  }
  if (!params.empty()) {
    w.Key("params");
    w.StartObject();
    for (const auto& param : params) {
      w.Key(param.key.c_str(), static_cast<rapidjson::SizeType>(param.key.size()));
      w.RawValue(param.json.c_str(), param.json.size(), rapidjson::kObjectType);
    }
    w.EndObject();
  }
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

std::optional<bool> bool_member(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsBool()) {
    return std::nullopt;
  }
  return it->value.GetBool();
}

// An optional list of strings into `out`; false when it is not one.
bool string_list_member(const rapidjson::Value& obj, const char* key,
                        std::vector<std::string>& out) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) {
    return true;
  }
  if (!it->value.IsArray()) {
    return false;
  }
  for (const auto& item : it->value.GetArray()) {
    if (!item.IsString()) {
      return false;
    }
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return true;
}

// The fields canonical_json() writes only when set; false on a wrong type.
bool read_optional_fields(const rapidjson::Value& doc, JobSpec& spec) {
  spec.provider = string_member(doc, "provider").value_or("");
  for (auto kind : {DerivedKind::remix, DerivedKind::edit, DerivedKind::extend}) {
    if (auto parent = string_member(doc, to_string(kind))) {
      spec.derived = kind;
      spec.parent = *parent;
    }
  }
  if (!string_list_member(doc, "reference_images", spec.reference_images) ||
      !string_list_member(doc, "characters", spec.characters)) {
    return false;
  }
  spec.character_url = string_member(doc, "character_url").value_or("");
  spec.character_timestamps = string_member(doc, "character_timestamps").value_or("");
  spec.watermark = bool_member(doc, "watermark");
  spec.private_video = bool_member(doc, "private");
  if (auto it = doc.FindMember("params"); it != doc.MemberEnd()) {
    if (!it->value.IsObject()) {
      return false;
    }
    for (const auto& member : it->value.GetObject()) {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      member.value.Accept(w);
      spec.params.push_back({std::string(member.name.GetString(), member.name.GetStringLength()),
                             std::string(buf.GetString(), buf.GetSize()),
                             {}});
    }
  }
  return true;
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
  return read_optional_fields(doc, spec) ? std::optional<JobSpec>(std::move(spec)) : std::nullopt;
}

}  // namespace vb
