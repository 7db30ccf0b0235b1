// Reading the parts of a manifest that describe jobs (internal to the
// manifest module): a job entry of `jobs` with everything it expands by
// (prompt file rows, matrix, variants), and the `characters` section. The
// entry is expanded into JobSpecs by manifest_expand.h. Not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "job/job_spec.h"
#include "manifest/manifest_fields.h"
#include "manifest/manifest_matrix.h"

namespace vb {

// One prompt of an entry: its own `prompt`, or a row of its prompt file.
struct PromptSource {
  std::string id;  // may hold placeholders when the entry has a matrix
  std::string prompt;
  std::vector<FieldSetting> settings;  // a CSV row's field columns, applied over the entry's
  DiagnosticPlace id_at;
  DiagnosticPlace prompt_at;
  SourceLocation location;  // JobSpec::location of the jobs it makes
};

struct JobEntry {
  bool ok = true;         // false: it has problems (reported); only its id counts
  std::size_t index = 0;  // jobs[index]
  std::string path;       // "jobs[3]"
  JobSpec spec;           // defaults and the entry's fields; no id, prompt, parent
  std::vector<PromptSource> prompts;
  Matrix matrix;
  int variants = 1;
  std::string parent;  // when spec.derived != none; may hold placeholders
  DiagnosticPlace parent_at;
  std::string parent_field;  // "jobs[3].remix_of"
  DiagnosticPlace characters_at;
  std::string characters_field;
  DiagnosticPlace at;  // the entry itself
};

// The field a problem with a source's `key` ("id", "prompt") is reported
// under: "jobs[2].id" in the manifest, plain "id" in a prompt file.
inline std::string field_of(const JobEntry& entry, const PromptSource& source,
                            std::string_view key) {
  return source.id_at.file != nullptr ? std::string(key) : entry.path + "." + std::string(key);
}

// What reading the job entries shares: settings from the top-level sections,
// and the prompt files read so far (their text backs diagnostics).
struct ManifestContext {
  ManifestContext(const YamlTree& yaml, DiagnosticSink& diagnostics, std::string base_dir,
                  std::string shown_dir)
      : tree(yaml),
        sink(diagnostics),
        files(std::move(base_dir)),
        shown_manifest_dir(std::move(shown_dir)) {}

  const YamlTree& tree;
  DiagnosticSink& sink;
  LocalFiles files;
  std::string shown_manifest_dir;  // the manifest name's folder, for prompt file names
  JobSpec defaults;
  int default_variants = 1;
  std::vector<CharacterSpec> characters;
  std::unordered_map<std::string, std::size_t> character_index;  // name -> characters[i]
  std::vector<std::unique_ptr<ExternalFile>> external_files;
};

// Reads `defaults` into context.defaults / default_variants.
void read_defaults(ManifestContext& context, const YamlEntry& entry);

// Reads the `characters` section into context.characters.
void read_characters(ManifestContext& context, const YamlEntry& entry);

// Reads one job entry, reporting every problem; nullopt if it is not a map.
// An entry with problems comes back with ok == false, so that its id still
// takes part in the duplicate check.
std::optional<JobEntry> read_job_entry(ManifestContext& context, const YamlNode& item,
                                       std::size_t index);

// Reads the rows of `prompts_from` into PromptSources with ids
// "<base_id>-<line>" unless a CSV row has its own id. Nullopt on problems.
std::optional<std::vector<PromptSource>> read_prompt_file(ManifestContext& context,
                                                          const YamlEntry& entry,
                                                          const std::string& base_id);

}  // namespace vb
