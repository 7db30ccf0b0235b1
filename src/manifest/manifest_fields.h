// Validation of single manifest values (internal to the manifest module).
// Each reader checks one YAML value, reports every problem to the
// DiagnosticSink, and returns the value only if it is valid.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "job/job_spec.h"
#include "manifest/manifest.h"
#include "manifest/yaml_tree.h"

namespace vb {

constexpr int k_max_seconds = 60;
constexpr std::size_t k_max_prompt_chars = 32000;
constexpr std::size_t k_max_batch_chars = 64;
constexpr std::size_t k_max_id_chars = 128;

// Collects diagnostics; source lines are attached once, at the end.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : m_file(std::move(file)) {}

  void add(int line, int column, std::string field, std::string message);
  void add(const YamlNode& at, std::string field, std::string message) {
    add(at.line, at.column, std::move(field), std::move(message));
  }
  bool empty() const { return m_items.empty(); }
  const std::string& file() const { return m_file; }

  // Sorted by position, with source lines taken from `text`.
  std::vector<ManifestDiagnostic> finish(std::string_view text);

 private:
  std::string m_file;
  std::vector<ManifestDiagnostic> m_items;
};

// One key: value pair of a YAML map, with the dotted path used in messages.
struct YamlEntry {
  const YamlNode& key;
  const YamlNode& value;
  std::string field;   // "jobs[2].seconds"

  // Where to point for a problem with the value: an empty value has no
  // position of its own (yaml-cpp marks the next token), so use the key.
  const YamlNode& anchor() const { return value.kind == YamlKind::null ? key : value; }
};

// Calls `on_entry` for each pair of a map, after reporting non-string keys,
// repeated keys and YAML merge keys ("<<"), which are skipped. Unknown keys are
// the callee's business (see report_unknown_key).
void for_each_entry(const YamlTree& tree, const YamlNode& map, const std::string& path,
                    DiagnosticSink& sink, const std::function<void(const YamlEntry&)>& on_entry);

void report_unknown_key(const YamlEntry& entry, const std::vector<std::string_view>& allowed,
                        DiagnosticSink& sink);

// "a list", "a map", "an empty value", "'eight'", "the string '8'".
std::string describe_value(const YamlNode& value);

// A scalar used as text (plain scalars such as 42 count as text too).
std::optional<std::string> read_text(const YamlEntry& entry, DiagnosticSink& sink);

// batch and id: 1..max_chars of [A-Za-z0-9._-], never "." or "..".
std::optional<std::string> read_name(const YamlEntry& entry, std::size_t max_chars,
                                     DiagnosticSink& sink);

std::optional<std::string> read_prompt(const YamlEntry& entry, DiagnosticSink& sink);

// Resolves image references and checks that local files exist. Each distinct
// path is checked once, since many jobs often share one reference image.
class ImageResolver {
 public:
  explicit ImageResolver(std::string base_dir) : m_base_dir(std::move(base_dir)) {}

  // Reads an `images` list; nullopt if any item is bad (all are reported).
  std::optional<std::vector<std::string>> read_images(const YamlTree& tree,
                                                      const YamlEntry& entry,
                                                      DiagnosticSink& sink);

 private:
  // The absolute path, or an error message.
  struct Resolved {
    std::string path;
    std::string error;
  };
  const Resolved& resolve(const std::string& reference);

  std::string m_base_dir;
  std::unordered_map<std::string, Resolved> m_cache;
};

// Applies one of the keys shared by `defaults` and jobs (model, seconds,
// orientation, size, images) to `spec`. Returns false if `key` is not one of them.
bool apply_job_option(const YamlTree& tree, const YamlEntry& entry, ImageResolver& images,
                      DiagnosticSink& sink, JobSpec& spec);

}  // namespace vb
