#include "manifest/manifest_fields.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <system_error>

#include "manifest/text_util.h"

namespace vb {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

// Strict decimal integer as YAML 1.2 core schema writes it: no '8.0', no '0x8'.
std::optional<long long> parse_integer(std::string_view text) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

bool is_dimension(std::string_view text) {
  return !text.empty() && text.size() <= 5 && text[0] >= '1' && text[0] <= '9' &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// "1280x720": two positive integers of at most five digits, no leading zeros.
bool is_exact_size(std::string_view text) {
  const auto x = text.find('x');
  return x != std::string_view::npos && is_dimension(text.substr(0, x)) &&
         is_dimension(text.substr(x + 1));
}

std::string with_suggestion(std::string message, std::string_view word,
                            const std::vector<std::string_view>& candidates) {
  if (const auto match = closest_match(word, candidates)) {
    message += " (did you mean '" + *match + "'?)";
  }
  return message;
}

bool is_url(std::string_view text) {
  return text.starts_with("http://") || text.starts_with("https://");
}

std::optional<int> read_seconds(const YamlEntry& entry, DiagnosticSink& sink) {
  const YamlNode& value = entry.value;
  const auto number = value.kind == YamlKind::scalar && !value.quoted
                          ? parse_integer(value.text)
                          : std::nullopt;
  if (!number) {
    sink.add(entry.anchor(), entry.field, "expected an integer, got " + describe_value(value));
    return std::nullopt;
  }
  if (*number < 1 || *number > k_max_seconds) {
    sink.add(value, entry.field,
             "must be between 1 and " + std::to_string(k_max_seconds) + ", got " +
                 std::string(value.text));
    return std::nullopt;
  }
  return static_cast<int>(*number);
}

std::optional<Orientation> read_orientation(const YamlEntry& entry, DiagnosticSink& sink) {
  const auto text = read_text(entry, sink);
  if (!text) {
    return std::nullopt;
  }
  if (*text == "landscape") {
    return Orientation::landscape;
  }
  if (*text == "portrait") {
    return Orientation::portrait;
  }
  sink.add(entry.anchor(), entry.field,
           with_suggestion("expected 'landscape' or 'portrait', got '" + excerpt(*text) + "'",
                           *text, {"landscape", "portrait"}));
  return std::nullopt;
}

std::optional<std::string> read_size(const YamlEntry& entry, DiagnosticSink& sink) {
  auto text = read_text(entry, sink);
  if (!text) {
    return std::nullopt;
  }
  if (*text == "small" || *text == "large" || is_exact_size(*text)) {
    return text;
  }
  sink.add(entry.anchor(), entry.field,
           with_suggestion("expected 'small', 'large' or WIDTHxHEIGHT like '1280x720', got '" +
                               excerpt(*text) + "'",
                           *text, {"small", "large"}));
  return std::nullopt;
}

std::optional<std::string> read_model(const YamlEntry& entry, DiagnosticSink& sink) {
  auto text = read_text(entry, sink);
  if (text && text->empty()) {
    sink.add(entry.anchor(), entry.field, "must not be empty");
    return std::nullopt;
  }
  return text;
}

}  // namespace

void DiagnosticSink::add(int line, int column, std::string field, std::string message) {
  ManifestDiagnostic diagnostic;
  diagnostic.location = {m_file, line, column};
  diagnostic.field = std::move(field);
  diagnostic.message = std::move(message);
  m_items.push_back(std::move(diagnostic));
}

std::vector<ManifestDiagnostic> DiagnosticSink::finish(std::string_view text) {
  std::stable_sort(m_items.begin(), m_items.end(), [](const auto& a, const auto& b) {
    return std::pair(a.location.line, a.location.column) <
           std::pair(b.location.line, b.location.column);
  });
  if (!m_items.empty()) {
    const LineIndex lines(text);
    for (auto& item : m_items) {
      item.source_line = lines.line_text(item.location.line);
    }
  }
  return std::move(m_items);
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
    case YamlKind::null: return "an empty value";
    case YamlKind::sequence: return "a list";
    case YamlKind::map: return "a map";
    case YamlKind::scalar: break;
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
  auto text = read_text(entry, sink);
  if (!text) {
    return std::nullopt;
  }
  const bool valid = !text->empty() && text->size() <= max_chars &&
                     std::all_of(text->begin(), text->end(), is_name_char);
  if (!valid) {
    sink.add(entry.anchor(), entry.field,
             "expected 1 to " + std::to_string(max_chars) +
                 " characters from [A-Za-z0-9._-], got '" + excerpt(*text) + "'");
    return std::nullopt;
  }
  if (*text == "." || *text == "..") {
    sink.add(entry.anchor(), entry.field, "'.' and '..' are not allowed as names");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> read_prompt(const YamlEntry& entry, DiagnosticSink& sink) {
  auto text = read_text(entry, sink);
  if (!text) {
    return std::nullopt;
  }
  const bool blank = std::all_of(text->begin(), text->end(),
                                 [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (blank) {
    sink.add(entry.anchor(), entry.field, "must not be empty");
    return std::nullopt;
  }
  const std::size_t chars = count_code_points(*text);
  if (chars > k_max_prompt_chars) {
    sink.add(entry.anchor(), entry.field,
             "is " + std::to_string(chars) + " characters long; the limit is " +
                 std::to_string(k_max_prompt_chars));
    return std::nullopt;
  }
  return text;
}

const ImageResolver::Resolved& ImageResolver::resolve(const std::string& reference) {
  const auto cached = m_cache.find(reference);
  if (cached != m_cache.end()) {
    return cached->second;
  }
  namespace fs = std::filesystem;
  Resolved result;
  std::error_code ec;
  fs::path path(reference);
  if (path.is_relative()) {
    path = fs::path(m_base_dir) / path;
  }
  path = fs::absolute(path, ec).lexically_normal();
  result.path = path.string();
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    result.error = "image file not found: " + result.path;
  } else if (!fs::is_regular_file(status)) {
    result.error = "image is not a regular file: " + result.path;
  }
  return m_cache.emplace(reference, std::move(result)).first->second;
}

std::optional<std::vector<std::string>> ImageResolver::read_images(const YamlTree& tree,
                                                                   const YamlEntry& entry,
                                                                   DiagnosticSink& sink) {
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
    } else if (is_url(*text)) {
      images.push_back(std::move(*text));
      continue;
    } else if (text->find("://") != std::string::npos) {
      error = "unsupported URL '" + excerpt(*text) + "'; use http://, https:// or a local path";
    } else {
      const Resolved& resolved = resolve(*text);
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

bool apply_job_option(const YamlTree& tree, const YamlEntry& entry, ImageResolver& images,
                      DiagnosticSink& sink, JobSpec& spec) {
  const std::string_view key = entry.key.text;
  if (key == "model") {
    spec.model = read_model(entry, sink).value_or(spec.model);
  } else if (key == "seconds") {
    spec.seconds = read_seconds(entry, sink).value_or(spec.seconds);
  } else if (key == "orientation") {
    spec.orientation = read_orientation(entry, sink).value_or(spec.orientation);
  } else if (key == "size") {
    spec.size = read_size(entry, sink).value_or(spec.size);
  } else if (key == "images") {
    spec.images = images.read_images(tree, entry, sink).value_or(spec.images);
  } else {
    return false;
  }
  return true;
}

}  // namespace vb
