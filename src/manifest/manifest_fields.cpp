#include "manifest/manifest_fields.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <numeric>
#include <tuple>

#include "util/text_util.h"

namespace vb {

namespace {

// true / false, as YAML 1.2 writes booleans; YAML 1.1's yes/no/on/off are
// refused because they surprise ("no" as a country code).
std::optional<bool> read_bool(const YamlEntry& entry, DiagnosticSink& sink) {
  const YamlNode& value = entry.value;
  if (value.kind == YamlKind::scalar && !value.quoted) {
    if (value.text == "true" || value.text == "True" || value.text == "TRUE") {
      return true;
    }
    if (value.text == "false" || value.text == "False" || value.text == "FALSE") {
      return false;
    }
  }
  sink.add(entry.anchor(), entry.field, "expected true or false, got " + describe_value(value));
  return std::nullopt;
}

}  // namespace

void DiagnosticSink::add(int line, int column, std::string field, std::string message) {
  ManifestDiagnostic diagnostic;
  diagnostic.location = {m_file, line, column};
  diagnostic.field = std::move(field);
  diagnostic.message = std::move(message);
  m_items.push_back(std::move(diagnostic));
  m_keys.push_back({line, column, 0, 0, false});
}

void DiagnosticSink::add(const DiagnosticPlace& at, std::string field, std::string message) {
  if (at.file == nullptr) {
    add(at.line, at.column, std::move(field), std::move(message));
    return;
  }
  ManifestDiagnostic diagnostic;
  diagnostic.location = {at.file->name, at.line, at.column};
  diagnostic.field = std::move(field);
  diagnostic.message = std::move(message);
  diagnostic.source_line = at.file->lines.line_text(at.line);
  m_items.push_back(std::move(diagnostic));
  m_keys.push_back({at.file->anchor_line, at.file->anchor_column, at.line, at.column, true});
}

std::vector<ManifestDiagnostic> DiagnosticSink::finish(std::string_view text) {
  std::vector<std::size_t> order(m_items.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const SortKey& x = m_keys[a];
    const SortKey& y = m_keys[b];
    return std::tie(x.line, x.column, x.inner_line, x.inner_column) <
           std::tie(y.line, y.column, y.inner_line, y.inner_column);
  });
  std::vector<ManifestDiagnostic> sorted;
  sorted.reserve(m_items.size());
  const LineIndex lines(m_items.empty() ? std::string_view() : text);
  for (const std::size_t i : order) {
    if (!m_keys[i].external) {
      m_items[i].source_line = lines.line_text(m_items[i].location.line);
    }
    sorted.push_back(std::move(m_items[i]));
  }
  m_items.clear();
  m_keys.clear();
  return sorted;
}

void for_each_entry(const YamlTree& tree, const YamlNode& map, const std::string& path,
                    DiagnosticSink& sink, const std::function<void(const YamlEntry&)>& on_entry) {
  std::vector<const YamlNode*> seen;  // maps here have a handful of keys: linear is fastest
  const auto children = tree.children(map);
  for (std::size_t i = 0; i + 1 < children.size(); i += 2) {
    const YamlNode& key = tree.at(children[i]);
    const YamlNode& value = tree.at(children[i + 1]);
    const std::string prefix = path.empty() ? "" : path + ".";
    if (key.kind != YamlKind::scalar) {
      sink.add(key, path, "keys must be plain words, got " + describe_value(key));
      continue;
    }
    if (key.text == "<<" && !key.quoted) {
      sink.add(key, prefix + std::string(key.text),
               "YAML merge keys are not supported; put shared values in 'defaults'");
      continue;
    }
    const auto earlier = std::find_if(seen.begin(), seen.end(),
                                      [&](const YamlNode* k) { return k->text == key.text; });
    if (earlier != seen.end()) {
      sink.add(key, prefix + std::string(key.text),
               "duplicate key '" + excerpt(key.text) + "' (first at line " +
                   std::to_string((*earlier)->line) + ")");
      continue;
    }
    seen.push_back(&key);
    on_entry(YamlEntry{key, value, prefix + std::string(key.text)});
  }
}

void report_unknown_key(const YamlEntry& entry, const std::vector<std::string_view>& allowed,
                        DiagnosticSink& sink) {
  std::string message = "unknown key '" + excerpt(entry.key.text) + "'";
  if (const auto match = closest_match(entry.key.text, allowed)) {
    message += " (did you mean '" + *match + "'?)";
  } else {
    message += "; expected one of:";
    for (const auto name : allowed) {
      message += (message.ends_with(":") ? " " : ", ") + std::string(name);
    }
  }
  sink.add(entry.key, entry.field, std::move(message));
}

std::string describe_value(const YamlNode& value) {
  switch (value.kind) {
    case YamlKind::null:
      return "an empty value";
    case YamlKind::sequence:
      return "a list";
    case YamlKind::map:
      return "a map";
    case YamlKind::scalar:
      break;
  }
  const std::string shown = "'" + excerpt(value.text) + "'";
  return value.quoted ? "the string " + shown : shown;
}

std::optional<std::string> read_text(const YamlEntry& entry, DiagnosticSink& sink) {
  if (entry.value.kind != YamlKind::scalar) {
    sink.add(entry.anchor(), entry.field, "expected a string, got " + describe_value(entry.value));
    return std::nullopt;
  }
  return std::string(entry.value.text);
}

std::optional<std::string> read_name(const YamlEntry& entry, std::size_t max_chars,
                                     DiagnosticSink& sink) {
  return read_checked<std::string>(entry, sink, [max_chars](std::string_view text) {
    return check_name(text, max_chars);
  });
}

std::optional<std::string> read_prompt(const YamlEntry& entry, DiagnosticSink& sink) {
  return read_checked<std::string>(entry, sink, check_prompt);
}

std::optional<int> read_integer(const YamlEntry& entry, DiagnosticSink& sink,
                                const std::function<Checked<int>(std::string_view)>& rule) {
  const YamlNode& value = entry.value;
  if (value.kind != YamlKind::scalar || value.quoted || !parse_integer(value.text)) {
    sink.add(entry.anchor(), entry.field, "expected an integer, got " + describe_value(value));
    return std::nullopt;
  }
  auto number = rule(value.text);
  if (!number) {
    sink.add(value, entry.field, std::move(number.error()));
    return std::nullopt;
  }
  return *number;
}

std::optional<FieldSetting> read_field(JobField field, const YamlEntry& entry,
                                       DiagnosticSink& sink) {
  if (field == JobField::seconds) {
    const auto seconds = read_integer(entry, sink, check_seconds);
    if (!seconds) {
      return std::nullopt;
    }
    return FieldSetting{JobField::seconds, {}, *seconds, Orientation::landscape};
  }
  return read_checked<FieldSetting>(entry, sink, [field](std::string_view text) {
    return check_field(field, text);
  });
}

std::optional<std::vector<std::string>> read_images(const YamlTree& tree, const YamlEntry& entry,
                                                    LocalFiles& files, DiagnosticSink& sink) {
  if (entry.value.kind != YamlKind::sequence) {
    sink.add(entry.anchor(), entry.field,
             "expected a list of image paths or URLs, got " + describe_value(entry.value));
    return std::nullopt;
  }
  std::vector<std::string> images;
  bool ok = true;
  const auto items = tree.children(entry.value);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const YamlNode& item = tree.at(items[i]);
    const YamlEntry item_entry{entry.key, item, entry.field + "[" + std::to_string(i) + "]"};
    auto text = read_text(item_entry, sink);
    std::string error;
    if (!text) {
      ok = false;
      continue;
    }
    if (text->empty()) {
      error = "must not be empty";
    } else if (text->starts_with("http://") || text->starts_with("https://")) {
      images.push_back(std::move(*text));
      continue;
    } else if (text->find("://") != std::string::npos) {
      error = "unsupported URL '" + excerpt(*text) + "'; use http://, https:// or a local path";
    } else {
      const auto& resolved = files.resolve(*text, LocalFileKind::image);
      error = resolved.error;
      images.push_back(resolved.path);
    }
    if (!error.empty()) {
      sink.add(item_entry.anchor(), item_entry.field, error);
      ok = false;
    }
  }
  return ok ? std::optional(std::move(images)) : std::nullopt;
}

namespace {

bool is_json_number(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  char* end = nullptr;
  const std::string copy(text);
  std::strtod(copy.c_str(), &end);
  // JSON's grammar: no leading '+', '.', hex, inf or nan.
  const char first = text.front() == '-' && text.size() > 1 ? text[1] : text.front();
  return end == copy.c_str() + copy.size() && std::isdigit(static_cast<unsigned char>(first)) &&
         copy.find_first_of("xXnN") == std::string::npos;
}

// A YAML value as JSON: maps and lists as objects and arrays, an unquoted true/false/number as
// itself, every other scalar as a string; null as null.
void write_json(const YamlTree& tree, const YamlNode& node,
                rapidjson::Writer<rapidjson::StringBuffer>& w) {
  switch (node.kind) {
    case YamlKind::null:
      w.Null();
      return;
    case YamlKind::scalar:
      if (!node.quoted && (node.text == "true" || node.text == "false")) {
        w.Bool(node.text == "true");
      } else if (!node.quoted && is_json_number(node.text)) {
        // RawValue, not RawNumber: rapidjson's Writer writes a RawNumber as a string.
        w.RawValue(node.text.data(), node.text.size(), rapidjson::kNumberType);
      } else {
        w.String(node.text.data(), static_cast<rapidjson::SizeType>(node.text.size()));
      }
      return;
    case YamlKind::sequence:
      w.StartArray();
      for (YamlIndex item : tree.children(node)) {
        write_json(tree, tree.at(item), w);
      }
      w.EndArray();
      return;
    case YamlKind::map: {
      w.StartObject();
      const auto pairs = tree.children(node);
      for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
        const YamlNode& key = tree.at(pairs[i]);
        w.Key(key.text.data(), static_cast<rapidjson::SizeType>(key.text.size()));
        write_json(tree, tree.at(pairs[i + 1]), w);
      }
      w.EndObject();
      return;
    }
  }
}

// `params:` adds to (or replaces keys of) what defaults gave; the dialect checks them later.
void read_params(const YamlTree& tree, const YamlEntry& entry, DiagnosticSink& sink,
                 JobSpec& spec) {
  if (entry.value.kind != YamlKind::map) {
    sink.add(entry.anchor(), entry.field,
             "expected a map of the provider's options, such as {negative_prompt: blur}, got " +
                 describe_value(entry.value));
    return;
  }
  for_each_entry(tree, entry.value, entry.field, sink, [&](const YamlEntry& option) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    write_json(tree, option.value, w);
    VendorParam param{std::string(option.key.text),
                      std::string(buf.GetString(), buf.GetSize()),
                      {sink.file(), option.key.line, option.key.column}};
    auto same = std::find_if(spec.params.begin(), spec.params.end(),
                             [&](const VendorParam& p) { return p.key == param.key; });
    if (same != spec.params.end()) {
      *same = std::move(param);
    } else {
      spec.params.push_back(std::move(param));
    }
  });
}

}  // namespace

bool apply_job_option(const YamlTree& tree, const YamlEntry& entry, LocalFiles& files,
                      DiagnosticSink& sink, JobSpec& spec) {
  const std::string_view key = entry.key.text;
  if (const auto field = job_field_named(key)) {
    if (const auto setting = read_field(*field, entry, sink)) {
      apply_field(*setting, spec);
    }
  } else if (key == "images") {
    spec.images = read_images(tree, entry, files, sink).value_or(spec.images);
  } else if (key == "reference_images") {
    spec.reference_images = read_images(tree, entry, files, sink).value_or(spec.reference_images);
  } else if (key == "watermark") {
    if (const auto watermark = read_bool(entry, sink)) {
      spec.watermark = *watermark;
    }
  } else if (key == "private") {
    if (const auto private_video = read_bool(entry, sink)) {
      spec.private_video = *private_video;
    }
  } else if (key == "params") {
    read_params(tree, entry, sink, spec);
  } else if (key == "character_url") {
    spec.character_url =
        read_checked<std::string>(entry, sink, check_character_url).value_or(spec.character_url);
  } else if (key == "character_timestamps") {
    spec.character_timestamps = read_checked<std::string>(entry, sink, check_character_timestamps)
                                    .value_or(spec.character_timestamps);
  } else {
    return false;
  }
  return true;
}

}  // namespace vb
