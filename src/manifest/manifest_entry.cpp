#include "manifest/manifest_entry.h"

#include <algorithm>

#include "manifest/manifest_keys.h"

namespace vb {

namespace {

std::optional<DerivedKind> derived_kind_named(std::string_view key) {
  for (const auto kind : {DerivedKind::remix, DerivedKind::edit, DerivedKind::extend}) {
    if (key == to_string(kind)) {
      return kind;
    }
  }
  return std::nullopt;
}

bool contains(const std::vector<std::string_view>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// Reads one job entry. Keys are first collected, then read in an order that
// lets each use the others (a matrix decides whether an id is a template).
class EntryReader {
 public:
  EntryReader(ManifestContext& context, const YamlNode& item, std::size_t index)
      : m_context(context), m_item(item) {
    m_entry.index = index;
    m_entry.path = "jobs[" + std::to_string(index) + "]";
    m_entry.spec = context.defaults;
    m_entry.spec.location = {context.sink.file(), item.line, item.column};
    m_entry.variants = context.default_variants;
    m_entry.at = DiagnosticPlace::at(item);
  }

  std::optional<JobEntry> read() {
    const std::size_t problems_before = m_context.sink.size();
    for_each_entry(m_context.tree, m_item, m_entry.path, m_context.sink,
                   [&](const YamlEntry& entry) { collect(entry); });
    read_matrix_entry();
    read_parent();
    const auto id = read_id();
    read_prompts(id.value_or(""));
    check_placeholders();
    check_images();
    m_entry.ok = m_context.sink.size() == problems_before && id.has_value();
    return std::move(m_entry);
  }

 private:
  void collect(const YamlEntry& entry) {
    const std::string_view key = entry.key.text;
    if (key == "id") {
      m_id.emplace(entry);
    } else if (key == "prompt") {
      m_prompt.emplace(entry);
    } else if (key == "prompts_from") {
      m_prompts_from.emplace(entry);
    } else if (key == "matrix") {
      m_matrix.emplace(entry);
    } else if (const auto kind = derived_kind_named(key)) {
      collect_parent(entry, *kind);
    } else if (key == "characters") {
      read_character_refs(entry);
    } else if (key == "variants") {
      m_entry.variants =
          read_integer(entry, m_context.sink, check_variants).value_or(m_entry.variants);
    } else if (apply_job_option(m_context.tree, entry, m_context.files, m_context.sink,
                                m_entry.spec)) {
      m_explicit.push_back(&entry.key);
    } else {
      report_unknown_key(entry, k_manifest_job_keys, m_context.sink);
    }
  }

  void collect_parent(const YamlEntry& entry, DerivedKind kind) {
    if (m_parent) {
      m_context.sink.add(entry.key, entry.field,
                         "a job has at most one of remix_of, edit_of and extend_of ('" +
                             std::string(m_parent->key.text) + "' is at line " +
                             std::to_string(m_parent->key.line) + ")");
      return;
    }
    m_parent.emplace(entry);
    m_entry.spec.derived = kind;
  }

  void read_character_refs(const YamlEntry& entry) {
    m_entry.characters_at = DiagnosticPlace::at(entry.anchor());
    m_entry.characters_field = entry.field;
    if (entry.value.kind != YamlKind::sequence) {
      m_context.sink.add(entry.anchor(), entry.field,
                         "expected a list of character names, got " + describe_value(entry.value));
      return;
    }
    std::vector<std::string_view> defined;
    for (const auto& character : m_context.characters) {
      defined.push_back(character.name);
    }
    const auto items = m_context.tree.children(entry.value);
    for (std::size_t i = 0; i < items.size(); ++i) {
      const YamlEntry item{entry.key, m_context.tree.at(items[i]),
                           entry.field + "[" + std::to_string(i) + "]"};
      auto name = read_text(item, m_context.sink);
      if (!name) {
        continue;
      }
      std::string problem;
      if (!m_context.character_index.contains(*name)) {
        problem = "no character '" + excerpt(*name) + "' in the 'characters' section";
        if (const auto match = closest_match(*name, defined)) {
          problem += " (did you mean '" + *match + "'?)";
        }
      } else if (std::find(m_entry.spec.characters.begin(), m_entry.spec.characters.end(), *name) !=
                 m_entry.spec.characters.end()) {
        problem = "character '" + excerpt(*name) + "' is listed twice";
      }
      if (!problem.empty()) {
        m_context.sink.add(item.anchor(), item.field, std::move(problem));
      } else {
        m_entry.spec.characters.push_back(std::move(*name));
      }
    }
  }

  void read_matrix_entry() {
    if (!m_matrix) {
      return;
    }
    check_matrix_conflicts();
    auto matrix = vb::read_matrix(m_context.tree, *m_matrix, m_context.sink);
    m_matrix_failed = !matrix.has_value();
    m_entry.matrix = std::move(matrix).value_or(Matrix{});
  }

  // A field set both by the entry and by a matrix variable has no single value.
  void check_matrix_conflicts() {
    if (m_matrix->value.kind != YamlKind::map) {
      return;
    }
    const auto children = m_context.tree.children(m_matrix->value);
    for (std::size_t i = 0; i < children.size(); i += 2) {
      const YamlNode& variable = m_context.tree.at(children[i]);
      for (const YamlNode* key : m_explicit) {
        if (job_field_named(variable.text) && key->text == variable.text) {
          m_context.sink.add(*key, m_entry.path + "." + std::string(key->text),
                             "is also a variable of this job's matrix; set it in one place");
        }
      }
    }
  }

  // A text that may be a template: placeholders are only checked when the
  // matrix is known, and the rule applies to each generated value instead.
  bool is_template(const YamlEntry& entry) const {
    return (!m_entry.matrix.empty() || m_matrix_failed) && entry.value.kind == YamlKind::scalar &&
           has_placeholder(entry.value.text);
  }

  std::optional<std::string> read_id_like(const YamlEntry& entry) {
    return is_template(entry) ? read_text(entry, m_context.sink)
                              : read_name(entry, k_max_id_chars, m_context.sink);
  }

  std::optional<std::string> read_id() {
    if (!m_id) {
      m_context.sink.add(m_item, m_entry.path + ".id", "required key 'id' is missing");
      return std::nullopt;
    }
    return read_id_like(*m_id);
  }

  void read_parent() {
    if (!m_parent) {
      return;
    }
    m_entry.parent = read_id_like(*m_parent).value_or("");
    m_entry.parent_at = DiagnosticPlace::at(m_parent->anchor());
    m_entry.parent_field = m_parent->field;
  }

  void read_prompts(const std::string& id) {
    if (m_prompt && m_prompts_from) {
      m_context.sink.add(m_prompts_from->key, m_prompts_from->field,
                         "a job has either 'prompt' or 'prompts_from', not both");
    } else if (m_prompts_from) {
      auto rows = read_prompt_file(m_context, *m_prompts_from, id);
      m_entry.prompts = std::move(rows).value_or(std::vector<PromptSource>{});
      return;
    } else if (!m_prompt) {
      m_context.sink.add(m_item, m_entry.path + ".prompt", "required key 'prompt' is missing");
    }
    // Even without a usable prompt the id takes part in the duplicate check.
    PromptSource source;
    source.id = id;
    source.id_at = DiagnosticPlace::at(m_id ? m_id->anchor() : m_item);
    source.location = m_entry.spec.location;
    if (m_prompt) {
      source.prompt = read_prompt(*m_prompt, m_context.sink).value_or("");
      source.prompt_at = DiagnosticPlace::at(m_prompt->anchor());
    }
    m_entry.prompts.push_back(std::move(source));
  }

  // Unknown placeholders are errors once the matrix is known; without a
  // matrix, braces are ordinary text.
  void check_placeholders() {
    if (m_entry.matrix.empty()) {
      return;
    }
    const auto check = [&](const std::string& text, const DiagnosticPlace& at,
                           const std::string& field) {
      std::vector<std::string> unknown;
      TextTemplate::compile(text, m_entry.matrix, unknown);
      if (!unknown.empty()) {
        m_context.sink.add(at, field, unknown_placeholder_message(unknown, m_entry.matrix));
      }
    };
    for (const auto& source : m_entry.prompts) {
      check(source.prompt, source.prompt_at, field_of(m_entry, source, "prompt"));
      check(source.id, source.id_at, field_of(m_entry, source, "id"));
      check_setting_conflicts(source);
    }
    if (m_parent) {
      check(m_entry.parent, m_entry.parent_at, m_entry.parent_field);
    }
  }

  void check_setting_conflicts(const PromptSource& source) {
    for (const auto& setting : source.settings) {
      const auto variable = m_entry.matrix.find(to_string(setting.field));
      if (variable && !m_reported_column_conflict) {
        m_reported_column_conflict = true;
        m_context.sink.add(m_entry.matrix.variables[*variable].at,
                           m_matrix->field + "." + to_string(setting.field),
                           "is also a column of the prompt file; set it in one place");
      }
    }
  }

  // A remix or edit takes its picture from the parent video.
  void check_images() {
    const DerivedKind kind = m_entry.spec.derived;
    if (kind != DerivedKind::remix && kind != DerivedKind::edit) {
      return;
    }
    for (const YamlNode* key : m_explicit) {
      if (key->text == "images") {
        m_context.sink.add(*key, m_entry.path + ".images",
                           std::string("a job with ") + to_string(kind) +
                               " takes its picture from the parent video; remove 'images'");
      }
    }
    m_entry.spec.images.clear();  // a default list does not apply either
  }

  ManifestContext& m_context;
  const YamlNode& m_item;
  JobEntry m_entry;
  std::optional<YamlEntry> m_id;
  std::optional<YamlEntry> m_prompt;
  std::optional<YamlEntry> m_prompts_from;
  std::optional<YamlEntry> m_matrix;
  std::optional<YamlEntry> m_parent;
  std::vector<const YamlNode*> m_explicit;  // keys of the shared options set by this entry
  bool m_matrix_failed = false;
  bool m_reported_column_conflict = false;
};

// A character is made from an upload: a local MP4 file, resolved like images.
std::string read_character_video(ManifestContext& context, const YamlEntry& entry) {
  const auto video = read_text(entry, context.sink);
  if (!video) {
    return "";
  }
  if (video->find("://") != std::string::npos) {
    context.sink.add(entry.anchor(), entry.field,
                     "expected a local video file; a character is made from an upload");
    return "";
  }
  const auto& resolved = context.files.resolve(*video, LocalFileKind::video);
  if (!resolved.error.empty()) {
    context.sink.add(entry.anchor(), entry.field, resolved.error);
  }
  return resolved.path;
}

void read_character(ManifestContext& context, const YamlNode& item, const std::string& path) {
  if (item.kind != YamlKind::map) {
    context.sink.add(item, path,
                     "expected a map with 'name' and 'video', got " + describe_value(item));
    return;
  }
  CharacterSpec character;
  character.location = {context.sink.file(), item.line, item.column};
  const std::size_t problems_before = context.sink.size();
  bool has_name = false;
  bool has_video = false;
  for_each_entry(context.tree, item, path, context.sink, [&](const YamlEntry& entry) {
    const std::string_view key = entry.key.text;
    if (key == "name") {
      has_name = true;
      character.name =
          read_checked<std::string>(entry, context.sink, check_character_name).value_or("");
    } else if (key == "video") {
      has_video = true;
      character.video = read_character_video(context, entry);
    } else if (key == "provider") {
      character.provider =
          read_checked<std::string>(entry, context.sink, check_provider).value_or("");
    } else {
      report_unknown_key(entry, k_manifest_character_keys, context.sink);
    }
  });
  if (!has_name) {
    context.sink.add(item, path + ".name", "required key 'name' is missing");
  }
  if (!has_video) {
    context.sink.add(item, path + ".video", "required key 'video' is missing");
  }
  if (context.sink.size() != problems_before) {
    return;
  }
  const auto [earlier, inserted] =
      context.character_index.try_emplace(character.name, context.characters.size());
  if (!inserted) {
    context.sink.add(item, path + ".name",
                     "duplicate character '" + excerpt(character.name) + "' (first at line " +
                         std::to_string(context.characters[earlier->second].location.line) + ")");
    return;
  }
  context.characters.push_back(std::move(character));
}

}  // namespace

void read_defaults(ManifestContext& context, const YamlEntry& entry) {
  if (entry.value.kind != YamlKind::map) {
    context.sink.add(entry.anchor(), entry.field,
                     "expected a map of job settings, got " + describe_value(entry.value));
    return;
  }
  for_each_entry(
      context.tree, entry.value, entry.field, context.sink, [&](const YamlEntry& option) {
        const std::string_view key = option.key.text;
        if (contains(k_manifest_job_only_keys, key)) {
          context.sink.add(option.key, option.field,
                           "'" + std::string(key) + "' cannot have a default; set it on each job");
        } else if (key == "variants") {
          context.default_variants =
              read_integer(option, context.sink, check_variants).value_or(context.default_variants);
        } else if (!apply_job_option(context.tree, option, context.files, context.sink,
                                     context.defaults)) {
          report_unknown_key(option, k_manifest_default_keys, context.sink);
        }
      });
}

void read_characters(ManifestContext& context, const YamlEntry& entry) {
  if (entry.value.kind != YamlKind::sequence) {
    context.sink.add(entry.anchor(), entry.field,
                     "expected a list of characters ({name, video}), got " +
                         describe_value(entry.value));
    return;
  }
  const auto items = context.tree.children(entry.value);
  for (std::size_t i = 0; i < items.size(); ++i) {
    read_character(context, context.tree.at(items[i]), entry.field + "[" + std::to_string(i) + "]");
  }
}

std::optional<JobEntry> read_job_entry(ManifestContext& context, const YamlNode& item,
                                       std::size_t index) {
  if (item.kind != YamlKind::map) {
    context.sink.add(item, "jobs[" + std::to_string(index) + "]",
                     "expected a map with 'id' and 'prompt', got " + describe_value(item));
    return std::nullopt;
  }
  return EntryReader(context, item, index).read();
}

}  // namespace vb
