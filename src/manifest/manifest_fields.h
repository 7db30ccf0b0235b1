// Validation of single manifest values (internal to the manifest module).
// Each reader checks one YAML value, reports every problem to the
// DiagnosticSink, and returns the value only if it is valid. The rules
// themselves live in field_rules.h, shared with matrices and prompt files.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "job/job_spec.h"
#include "manifest/field_rules.h"
#include "manifest/local_files.h"
#include "manifest/manifest.h"
#include "manifest/yaml_tree.h"
#include "util/text_util.h"

namespace vb {

// A file the manifest refers to whose own lines are reported (a prompt file).
// Its diagnostics sort under the manifest position that names it.
struct ExternalFile {
  std::string name;  // as shown in diagnostics: the manifest's folder + the reference
  std::string text;
  LineIndex lines{""};
  int anchor_line = 0;  // the `prompts_from` value in the manifest
  int anchor_column = 0;

  ExternalFile(std::string shown_name, std::string content, int line, int column)
      : name(std::move(shown_name)),
        text(std::move(content)),
        lines(text),
        anchor_line(line),
        anchor_column(column) {}
  ExternalFile(const ExternalFile&) = delete;
  ExternalFile& operator=(const ExternalFile&) = delete;
};

// Where a diagnostic points: the manifest (file == nullptr) or an external file.
struct DiagnosticPlace {
  int line = 0;
  int column = 0;
  const ExternalFile* file = nullptr;

  static DiagnosticPlace at(const YamlNode& node) { return {node.line, node.column, nullptr}; }
};

// Collects diagnostics; source lines of the manifest are attached once, at the end.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : m_file(std::move(file)) {}

  void add(int line, int column, std::string field, std::string message);
  void add(const YamlNode& at, std::string field, std::string message) {
    add(at.line, at.column, std::move(field), std::move(message));
  }
  void add(const DiagnosticPlace& at, std::string field, std::string message);
  bool empty() const { return m_items.empty(); }
  std::size_t size() const { return m_items.size(); }
  const std::string& file() const { return m_file; }

  // In manifest order (an external file's problems under the line that names
  // it), with the manifest's source lines taken from `text`.
  std::vector<ManifestDiagnostic> finish(std::string_view text);

 private:
  struct SortKey {
    int line;
    int column;
    int inner_line;  // position inside an external file; 0 in the manifest
    int inner_column;
    bool external;
  };
  std::string m_file;
  std::vector<ManifestDiagnostic> m_items;
  std::vector<SortKey> m_keys;  // parallel to m_items
};

// One key: value pair of a YAML map, with the dotted path used in messages.
struct YamlEntry {
  const YamlNode& key;
  const YamlNode& value;
  std::string field;  // "jobs[2].seconds"

  // Where to point for a problem with the value: an empty value has no
  // position of its own (the tree marks the next token), so use the key.
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

// read_text, then `rule`; the rule's message is reported at the value.
template <typename T>
std::optional<T> read_checked(const YamlEntry& entry, DiagnosticSink& sink,
                              const std::function<Checked<T>(std::string_view)>& rule) {
  const auto text = read_text(entry, sink);
  if (!text) {
    return std::nullopt;
  }
  auto value = rule(*text);
  if (!value) {
    sink.add(entry.anchor(), entry.field, std::move(value.error()));
    return std::nullopt;
  }
  return std::move(*value);
}

// batch and id: 1..max_chars of [A-Za-z0-9._-], never "." or "..".
std::optional<std::string> read_name(const YamlEntry& entry, std::size_t max_chars,
                                     DiagnosticSink& sink);

std::optional<std::string> read_prompt(const YamlEntry& entry, DiagnosticSink& sink);

// An unquoted integer (quoted "8" is refused, as for seconds), then `rule`.
std::optional<int> read_integer(const YamlEntry& entry, DiagnosticSink& sink,
                                const std::function<Checked<int>(std::string_view)>& rule);

// A value for one of the JobFields a matrix or a CSV column can set,
// validated as the field itself is.
std::optional<FieldSetting> read_field(JobField field, const YamlEntry& entry,
                                       DiagnosticSink& sink);

// Reads an `images` list; nullopt if any item is bad (all are reported).
std::optional<std::vector<std::string>> read_images(const YamlTree& tree, const YamlEntry& entry,
                                                    LocalFiles& files, DiagnosticSink& sink);

// Applies one of the keys shared by `defaults` and jobs (model, seconds,
// orientation, size, images, provider, watermark, private, character_url,
// character_timestamps) to `spec`. Returns false if `key` is not one of them.
bool apply_job_option(const YamlTree& tree, const YamlEntry& entry, LocalFiles& files,
                      DiagnosticSink& sink, JobSpec& spec);

}  // namespace vb
