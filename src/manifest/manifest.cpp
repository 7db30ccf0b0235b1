#include "manifest/manifest.h"

#include <algorithm>
#include <filesystem>

#include "manifest/local_files.h"
#include "manifest/manifest_entry.h"
#include "manifest/manifest_expand.h"
#include "manifest/manifest_fields.h"
#include "manifest/manifest_keys.h"
#include "manifest/yaml_tree.h"
#include "util/text_util.h"

namespace vb {

namespace {

// load_manifest's error text stops here; parse_manifest still returns them all.
constexpr std::size_t k_max_rendered = 1000;

// Everything one parse needs; lives for one call of parse_manifest.
class ManifestParser {
 public:
  ManifestParser(const YamlTree& tree, DiagnosticSink& sink, const std::string& base_dir,
                 const std::string& file_name)
      : m_context(tree, sink, base_dir, std::filesystem::path(file_name).parent_path().string()) {}

  std::optional<Manifest> parse(const YamlNode& root);

 private:
  void read_jobs(const YamlEntry& entry, std::vector<JobSpec>& jobs);

  ManifestContext m_context;
};

std::optional<Manifest> ManifestParser::parse(const YamlNode& root) {
  DiagnosticSink& sink = m_context.sink;
  if (root.kind != YamlKind::map) {
    sink.add(root, "", "expected a map with 'batch' and 'jobs', got " + describe_value(root));
    return std::nullopt;
  }
  std::optional<std::string> batch;
  bool has_batch = false;
  std::vector<YamlEntry> entries;
  for_each_entry(m_context.tree, root, "", sink, [&](const YamlEntry& e) { entries.push_back(e); });
  // Sections are read in this order wherever they are in the file: jobs use
  // the defaults and the characters.
  for (const YamlEntry& entry : entries) {
    const std::string_view key = entry.key.text;
    if (key == "batch") {
      has_batch = true;
      batch = read_name(entry, k_max_batch_chars, sink);
    } else if (key == "defaults") {
      read_defaults(m_context, entry);
    } else if (key == "characters") {
      read_characters(m_context, entry);
    } else if (key != "jobs") {
      report_unknown_key(entry, k_manifest_top_keys, sink);
    }
  }
  if (!has_batch) {
    sink.add(root, "batch", "required key 'batch' is missing");
  }
  Manifest manifest;
  const auto jobs_entry = std::find_if(entries.begin(), entries.end(),
                                       [](const YamlEntry& e) { return e.key.text == "jobs"; });
  if (jobs_entry == entries.end()) {
    sink.add(root, "jobs", "required key 'jobs' is missing");
  } else {
    read_jobs(*jobs_entry, manifest.jobs);
  }
  if (!sink.empty() || !batch) {
    return std::nullopt;
  }
  manifest.batch = std::move(*batch);
  manifest.characters = std::move(m_context.characters);
  return manifest;
}

void ManifestParser::read_jobs(const YamlEntry& entry, std::vector<JobSpec>& jobs) {
  DiagnosticSink& sink = m_context.sink;
  const YamlNode& list = entry.value;
  if (list.kind != YamlKind::sequence) {
    sink.add(entry.anchor(), entry.field, "expected a list of jobs, got " + describe_value(list));
    return;
  }
  const auto items = m_context.tree.children(list);
  if (items.empty()) {
    sink.add(entry.anchor(), entry.field, "must contain at least one job");
    return;
  }
  if (items.size() > k_max_jobs) {
    sink.add(entry.anchor(), entry.field,
             "has " + std::to_string(items.size()) + " jobs; the limit is " +
                 std::to_string(k_max_jobs) + " per manifest (split it into several batches)");
    return;
  }
  jobs.reserve(items.size());
  JobExpander expander(sink, m_context, jobs);
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto job_entry = read_job_entry(m_context, m_context.tree.at(items[i]), i);
    if (job_entry && job_entry->ok) {
      expander.expand(*job_entry);
    } else if (job_entry) {
      expander.register_failed(*job_entry);
    }
  }
  expander.check_links();
}

// Problems found before YAML parsing: size and encoding. True if parsing may go on.
bool check_text(std::string_view text, DiagnosticSink& sink) {
  if (text.size() > k_max_text_file_bytes) {
    sink.add(0, 0, "",
             "the manifest is " + std::to_string(text.size()) +
                 " bytes; the limit is 16 MiB (split it into several batches)");
    return false;
  }
  if (const auto problem = find_encoding_problem(text)) {
    const auto [line, column] = problem->whole_file ? std::pair(0, 0)
                                                    : LineIndex(text).position_of(problem->offset);
    sink.add(line, column, "", problem->message + "; save the manifest as UTF-8");
    return false;
  }
  return true;
}

std::optional<Manifest> parse_tree(const YamlTree& tree, DiagnosticSink& sink,
                                   const std::string& base_dir, const std::string& file_name) {
  for (const auto& error : tree.errors) {
    sink.add(error.line, error.column, "", "YAML syntax error: " + error.message);
  }
  if (!tree.errors.empty()) {
    return std::nullopt;
  }
  if (tree.document_count == 0 || tree.at(tree.root).kind == YamlKind::null) {
    sink.add(0, 0, "", "the manifest is empty; it needs 'batch' and 'jobs'");
    return std::nullopt;
  }
  if (tree.document_count > 1) {
    sink.add(tree.second_document_line, 1, "",
             "expected one YAML document, found " + std::to_string(tree.document_count) +
                 " (remove the '---' separators)");
  }
  ManifestParser parser(tree, sink, base_dir, file_name);
  return parser.parse(tree.at(tree.root));
}

}  // namespace

std::string ManifestDiagnostic::render() const {
  return render_diagnostic(location.describe(), field, message, source_line, location.column);
}

ManifestParse parse_manifest(std::string_view text, const std::string& file_name,
                             const std::string& base_dir) {
  ManifestParse result;
  DiagnosticSink sink(file_name);
  std::optional<Manifest> manifest;
  if (check_text(text, sink)) {
    manifest = parse_tree(parse_yaml_tree(text), sink, base_dir, file_name);
  }
  result.diagnostics = sink.finish(text);
  if (result.diagnostics.empty() && manifest) {
    manifest->path = file_name;
    result.manifest = std::move(manifest);
  }
  return result;
}

Result<Manifest> load_manifest(const std::string& path) {
  const std::string text = VB_TRY(read_text_file(path, "manifest"));
  const auto base_dir = std::filesystem::absolute(path).parent_path().string();
  ManifestParse parse = parse_manifest(text, path, base_dir);
  if (parse.manifest) {
    return std::move(*parse.manifest);
  }
  std::string message;
  const std::size_t shown = std::min(parse.diagnostics.size(), k_max_rendered);
  for (std::size_t i = 0; i < shown; ++i) {
    message.append(i == 0 ? "" : "\n");
    message += parse.diagnostics[i].render();
  }
  if (parse.diagnostics.size() > shown) {
    message += "\n... and " + std::to_string(parse.diagnostics.size() - shown) + " more problems";
  }
  return fail(ErrorCode::invalid_input, std::move(message), path);
}

}  // namespace vb
