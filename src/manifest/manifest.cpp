#include "manifest/manifest.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "manifest/manifest_fields.h"
#include "manifest/text_util.h"
#include "manifest/yaml_tree.h"

namespace vb {

namespace {

// Guards against feeding the YAML parser something absurd; documented in the README.
constexpr std::size_t k_max_manifest_bytes = 16u * 1024 * 1024;
constexpr std::size_t k_max_jobs = 200000;
// load_manifest's error text stops here; parse_manifest still returns them all.
constexpr std::size_t k_max_rendered = 1000;

const std::vector<std::string_view> k_top_keys = {"batch", "defaults", "jobs"};
const std::vector<std::string_view> k_default_keys = {"model", "seconds", "orientation", "size",
                                                      "images"};
const std::vector<std::string_view> k_job_keys = {"id",          "prompt", "model", "seconds",
                                                  "orientation", "size",   "images"};

struct FirstUse {
  std::size_t index;
  int line;
};

// Everything one parse needs; lives for one call of parse_manifest.
class ManifestParser {
 public:
  ManifestParser(const YamlTree& tree, DiagnosticSink& sink, const std::string& base_dir)
      : m_tree(tree), m_sink(sink), m_images(base_dir) {}

  std::optional<Manifest> parse(const YamlNode& root);

 private:
  void read_defaults(const YamlEntry& entry);
  void read_jobs(const YamlEntry& entry, std::vector<JobSpec>& jobs);
  std::optional<JobSpec> read_job(const YamlNode& item, std::size_t index);
  void check_unique(const JobSpec& job, const YamlEntry& id_entry, std::size_t index);

  const YamlTree& m_tree;
  DiagnosticSink& m_sink;
  ImageResolver m_images;
  JobSpec m_defaults;
  std::unordered_map<std::string, FirstUse> m_ids;
};

std::optional<Manifest> ManifestParser::parse(const YamlNode& root) {
  if (root.kind != YamlKind::map) {
    m_sink.add(root, "", "expected a map with 'batch' and 'jobs', got " + describe_value(root));
    return std::nullopt;
  }
  std::optional<std::string> batch;
  const YamlEntry* jobs_entry = nullptr;
  std::vector<YamlEntry> entries;  // defaults must be read before jobs, wherever they are
  for_each_entry(m_tree, root, "", m_sink, [&](const YamlEntry& e) { entries.push_back(e); });
  for (const YamlEntry& entry : entries) {
    const std::string_view key = entry.key.text;
    if (key == "batch") {
      batch = read_name(entry, k_max_batch_chars, m_sink);
    } else if (key == "defaults") {
      read_defaults(entry);
    } else if (key == "jobs") {
      jobs_entry = &entry;
    } else {
      report_unknown_key(entry, k_top_keys, m_sink);
    }
  }
  const bool has_batch = std::any_of(entries.begin(), entries.end(),
                                     [](const YamlEntry& e) { return e.key.text == "batch"; });
  if (!has_batch) {
    m_sink.add(root, "batch", "required key 'batch' is missing");
  }
  Manifest manifest;
  if (jobs_entry == nullptr) {
    m_sink.add(root, "jobs", "required key 'jobs' is missing");
  } else {
    read_jobs(*jobs_entry, manifest.jobs);
  }
  if (!m_sink.empty() || !batch) {
    return std::nullopt;
  }
  manifest.batch = std::move(*batch);
  return manifest;
}

void ManifestParser::read_defaults(const YamlEntry& entry) {
  if (entry.value.kind != YamlKind::map) {
    m_sink.add(entry.anchor(), entry.field,
               "expected a map of job settings, got " + describe_value(entry.value));
    return;
  }
  for_each_entry(m_tree, entry.value, entry.field, m_sink, [&](const YamlEntry& option) {
    if (option.key.text == "id" || option.key.text == "prompt") {
      m_sink.add(option.key, option.field,
                 std::string("'").append(option.key.text).append(
                     "' cannot have a default; set it on each job"));
    } else if (!apply_job_option(m_tree, option, m_images, m_sink, m_defaults)) {
      report_unknown_key(option, k_default_keys, m_sink);
    }
  });
}

void ManifestParser::read_jobs(const YamlEntry& entry, std::vector<JobSpec>& jobs) {
  const YamlNode& list = entry.value;
  if (list.kind != YamlKind::sequence) {
    m_sink.add(entry.anchor(), entry.field, "expected a list of jobs, got " + describe_value(list));
    return;
  }
  const auto items = m_tree.children(list);
  if (items.empty()) {
    m_sink.add(entry.anchor(), entry.field, "must contain at least one job");
    return;
  }
  if (items.size() > k_max_jobs) {
    m_sink.add(entry.anchor(), entry.field,
               "has " + std::to_string(items.size()) + " jobs; the limit is " +
                   std::to_string(k_max_jobs) + " per manifest (split it into several batches)");
    return;
  }
  jobs.reserve(items.size());
  m_ids.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto job = read_job(m_tree.at(items[i]), i);
    if (job && m_sink.empty()) {
      jobs.push_back(std::move(*job));
    }
  }
}

std::optional<JobSpec> ManifestParser::read_job(const YamlNode& item, std::size_t index) {
  const std::string path = "jobs[" + std::to_string(index) + "]";
  if (item.kind != YamlKind::map) {
    m_sink.add(item, path, "expected a map with 'id' and 'prompt', got " + describe_value(item));
    return std::nullopt;
  }
  JobSpec job = m_defaults;
  job.location = {m_sink.file(), item.line, item.column};
  bool has_id = false;
  bool has_prompt = false;
  bool ok = true;
  for_each_entry(m_tree, item, path, m_sink, [&](const YamlEntry& entry) {
    const std::string_view key = entry.key.text;
    if (key == "id") {
      has_id = true;
      const auto id = read_name(entry, k_max_id_chars, m_sink);
      ok = ok && id.has_value();
      job.id = id.value_or("");
      if (id) {
        check_unique(job, entry, index);
      }
    } else if (key == "prompt") {
      has_prompt = true;
      const auto prompt = read_prompt(entry, m_sink);
      ok = ok && prompt.has_value();
      job.prompt = prompt.value_or("");
    } else if (!apply_job_option(m_tree, entry, m_images, m_sink, job)) {
      report_unknown_key(entry, k_job_keys, m_sink);
    }
  });
  if (!has_id) {
    m_sink.add(item, path + ".id", "required key 'id' is missing");
  }
  if (!has_prompt) {
    m_sink.add(item, path + ".prompt", "required key 'prompt' is missing");
  }
  if (!ok || !has_id || !has_prompt) {
    return std::nullopt;
  }
  return job;
}

void ManifestParser::check_unique(const JobSpec& job, const YamlEntry& id_entry,
                                  std::size_t index) {
  const auto [it, inserted] = m_ids.try_emplace(job.id, FirstUse{index, id_entry.value.line});
  if (!inserted) {
    m_sink.add(id_entry.value, id_entry.field,
               "duplicate id '" + job.id + "' (first used by jobs[" +
                   std::to_string(it->second.index) + "] at line " +
                   std::to_string(it->second.line) + ")");
  }
}

// Problems found before YAML parsing: size and encoding. True if parsing may go on.
bool check_text(std::string_view text, DiagnosticSink& sink) {
  if (text.size() > k_max_manifest_bytes) {
    sink.add(0, 0, "",
             "the manifest is " + std::to_string(text.size()) +
                 " bytes; the limit is 16 MiB (split it into several batches)");
    return false;
  }
  if (const auto bad = find_invalid_utf8(text)) {
    const auto [line, column] = LineIndex(text).position_of(*bad);
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[*bad]));
    sink.add(line, column, "",
             std::string("invalid UTF-8 (byte ") + byte + "); save the manifest as UTF-8");
    return false;
  }
  return true;
}

std::optional<Manifest> parse_tree(const YamlTree& tree, DiagnosticSink& sink,
                                   const std::string& base_dir) {
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
  ManifestParser parser(tree, sink, base_dir);
  return parser.parse(tree.at(tree.root));
}

Result<std::string> read_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    return fail(ErrorCode::not_found, "manifest file not found", path);
  }
  if (fs::is_directory(status)) {
    return fail(ErrorCode::io, "is a directory, not a manifest file", path);
  }
  const auto size = fs::file_size(path, ec);
  if (!ec && size > k_max_manifest_bytes) {
    return fail(ErrorCode::invalid_input,
                "the manifest is " + std::to_string(size) +
                    " bytes; the limit is 16 MiB (split it into several batches)",
                path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(ErrorCode::io, "cannot read the manifest file", path);
  }
  // One read into a string of the file's size: a stringstream copied a large
  // manifest several times while it grew. Anything past that size (a file
  // still being written, or one without a size) is appended.
  std::string text;
  if (!ec) {
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
  }
  if (in) {
    std::ostringstream rest;
    rest << in.rdbuf();
    text += std::move(rest).str();
  }
  return text;
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
    manifest = parse_tree(parse_yaml_tree(text), sink, base_dir);
  }
  result.diagnostics = sink.finish(text);
  if (result.diagnostics.empty() && manifest) {
    manifest->path = file_name;
    result.manifest = std::move(manifest);
  }
  return result;
}

Result<Manifest> load_manifest(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    return std::unexpected(text.error());
  }
  const auto base_dir = std::filesystem::absolute(path).parent_path().string();
  ManifestParse parse = parse_manifest(*text, path, base_dir);
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
