// `prompts_from`: prompts read from a .txt file (one per line) or a .csv file
// (a header row with a `prompt` column). Problems inside the file are
// reported at its own line and column, under the manifest line naming it.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "manifest/csv.h"
#include "manifest/manifest_entry.h"
#include "util/text_util.h"

namespace vb {

namespace {

enum class PromptFileFormat { txt, csv };

std::optional<PromptFileFormat> format_of(const std::string& reference) {
  std::string extension = std::filesystem::path(reference).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".txt") {
    return PromptFileFormat::txt;
  }
  if (extension == ".csv") {
    return PromptFileFormat::csv;
  }
  return std::nullopt;
}

std::string too_many_prompts() {
  return "has more than " + std::to_string(k_max_jobs) + " prompts; the limit is " +
         std::to_string(k_max_jobs) + " jobs per manifest (split it into several batches)";
}

// Builds the PromptSources of one file; every problem goes to the sink.
class PromptFileReader {
 public:
  PromptFileReader(ManifestContext& context, const ExternalFile& file, const std::string& base_id)
      : m_context(context), m_file(file), m_base_id(base_id) {}

  std::vector<PromptSource> read_txt();
  std::vector<PromptSource> read_csv();

 private:
  struct Columns {
    std::optional<std::size_t> prompt;
    std::optional<std::size_t> id;
    std::vector<std::pair<std::size_t, JobField>> fields;
  };

  DiagnosticPlace place(int line, int column) const { return {line, column, &m_file}; }
  void add(int line, int column, std::string field, std::string message) {
    m_context.sink.add(place(line, column), std::move(field), std::move(message));
  }

  PromptSource source_at(int line, int column) const {
    PromptSource source;
    source.id = m_base_id + "-" + std::to_string(line);
    source.id_at = place(line, column);
    source.prompt_at = source.id_at;
    source.location = {m_file.name, line, column};
    return source;
  }

  std::optional<Columns> read_header(const CsvRecord& header);
  void read_row(const CsvRecord& record, const Columns& columns, std::vector<PromptSource>& out);

  ManifestContext& m_context;
  const ExternalFile& m_file;
  const std::string& m_base_id;
  std::size_t m_header_size = 0;
};

std::vector<PromptSource> PromptFileReader::read_txt() {
  std::vector<PromptSource> out;
  std::string_view rest = m_file.text;
  if (rest.starts_with("\xEF\xBB\xBF")) {
    rest.remove_prefix(3);
  }
  for (int line = 1; !rest.empty(); ++line) {
    const std::size_t end = std::min(rest.find('\n'), rest.size());
    const std::string_view prompt = trim(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (prompt.empty() || prompt.starts_with('#')) {
      continue;
    }
    if (out.size() == k_max_jobs) {
      add(line, 1, "", too_many_prompts());
      break;
    }
    PromptSource source = source_at(line, 1);
    auto checked = check_prompt(prompt);
    if (!checked) {
      add(line, 1, "prompt", std::move(checked.error()));
      continue;
    }
    source.prompt = std::move(*checked);
    out.push_back(std::move(source));
  }
  return out;
}

std::optional<PromptFileReader::Columns> PromptFileReader::read_header(const CsvRecord& header) {
  static const std::vector<std::string_view> k_columns = {"prompt",  "id",          "model",
                                                          "seconds", "orientation", "size",
                                                          "provider"};
  Columns columns;
  bool ok = true;
  for (std::size_t i = 0; i < header.cells.size(); ++i) {
    const CsvCell& cell = header.cells[i];
    const auto earlier = std::find_if(header.cells.begin(), header.cells.begin() + i,
                                      [&](const CsvCell& c) { return c.text == cell.text; });
    std::string problem;
    if (earlier != header.cells.begin() + i) {
      problem = "duplicate column '" + excerpt(cell.text) + "' (first at column " +
                std::to_string(earlier->column) + ")";
    } else if (cell.text == "prompt") {
      columns.prompt = i;
    } else if (cell.text == "id") {
      columns.id = i;
    } else if (const auto field = job_field_named(cell.text)) {
      columns.fields.emplace_back(i, *field);
    } else {
      problem = "unknown column '" + excerpt(cell.text) + "'";
      const auto match = closest_match(cell.text, k_columns);
      problem += match ? " (did you mean '" + *match + "'?)"
                       : "; expected prompt, id, model, seconds, orientation, size or provider";
    }
    if (!problem.empty()) {
      add(cell.line, cell.column, "", std::move(problem));
      ok = false;
    }
  }
  if (!columns.prompt && ok) {
    add(header.line, 1, "", "the header row has no 'prompt' column");
    ok = false;
  }
  return ok ? std::optional(std::move(columns)) : std::nullopt;
}

void PromptFileReader::read_row(const CsvRecord& record, const Columns& columns,
                                std::vector<PromptSource>& out) {
  const auto& cells = record.cells;
  if (cells.size() != m_header_size) {
    add(record.line, 1, "",
        "has " + std::to_string(cells.size()) + " fields; the header has " +
            std::to_string(m_header_size));
    return;
  }
  PromptSource source = source_at(record.line, 1);
  bool ok = true;
  const CsvCell& prompt = cells[*columns.prompt];
  auto checked = check_prompt(prompt.text);
  if (checked) {
    source.prompt = std::move(*checked);
    source.prompt_at = place(prompt.line, prompt.column);
  } else {
    add(prompt.line, prompt.column, "prompt", std::move(checked.error()));
    ok = false;
  }
  // Blanks around a value are a hand-written CSV's ("a, 8"), not part of it.
  if (columns.id && !trim(cells[*columns.id].text).empty()) {
    const CsvCell& id = cells[*columns.id];
    source.id = trim(id.text);
    source.id_at = place(id.line, id.column);
  }
  for (const auto& [index, field] : columns.fields) {
    const CsvCell& cell = cells[index];
    const std::string_view value = trim(cell.text);
    if (value.empty()) {
      continue;  // the entry's value applies
    }
    auto setting = check_field(field, value);
    if (setting) {
      source.settings.push_back(std::move(*setting));
    } else {
      add(cell.line, cell.column, to_string(field), std::move(setting.error()));
      ok = false;
    }
  }
  if (ok) {
    out.push_back(std::move(source));
  }
}

std::vector<PromptSource> PromptFileReader::read_csv() {
  // One more record than prompts allowed: the header.
  const CsvParse parse = parse_csv(m_file.text, k_max_jobs + 2);
  if (parse.error) {
    add(parse.error->line, parse.error->column, "", parse.error->message);
    return {};
  }
  if (parse.records.empty()) {
    add(1, 1, "", "the file is empty; it needs a header row with a 'prompt' column");
    return {};
  }
  const auto columns = read_header(parse.records.front());
  if (!columns) {
    return {};
  }
  m_header_size = parse.records.front().cells.size();
  std::vector<PromptSource> out;
  for (std::size_t i = 1; i < parse.records.size() && i <= k_max_jobs; ++i) {
    read_row(parse.records[i], *columns, out);
  }
  if (parse.truncated || parse.records.size() > k_max_jobs + 1) {
    add(parse.records.back().line, 1, "", too_many_prompts());
  }
  return out;
}

// The name diagnostics show: where the file is as seen from where the user
// named the manifest ("jobs/prompts.csv" for "jobs/m.yaml").
std::string shown_name(const ManifestContext& context, const std::string& reference) {
  const std::filesystem::path path(reference);
  if (path.is_absolute()) {
    return reference;
  }
  return (std::filesystem::path(context.shown_manifest_dir) / path).lexically_normal().string();
}

// The file's text, or nullopt with the problem reported at the manifest's `prompts_from`.
std::optional<std::string> load_prompt_file(ManifestContext& context, const YamlEntry& entry,
                                            const std::string& reference) {
  const auto& resolved = context.files.resolve(reference, LocalFileKind::text);
  if (!resolved.error.empty()) {
    context.sink.add(entry.anchor(), entry.field, resolved.error);
    return std::nullopt;
  }
  auto text = read_text_file(resolved.path, "prompt file");
  if (!text) {
    context.sink.add(entry.anchor(), entry.field, text.error().message + ": " + resolved.path);
    return std::nullopt;
  }
  return std::move(*text);
}

}  // namespace

std::optional<std::vector<PromptSource>> read_prompt_file(ManifestContext& context,
                                                          const YamlEntry& entry,
                                                          const std::string& base_id) {
  const auto reference = read_text(entry, context.sink);
  if (!reference) {
    return std::nullopt;
  }
  const auto format = format_of(*reference);
  if (!format) {
    context.sink.add(entry.anchor(), entry.field,
                     "expected a .txt or .csv file, got '" + excerpt(*reference) + "'");
    return std::nullopt;
  }
  auto text = load_prompt_file(context, entry, *reference);
  if (!text) {
    return std::nullopt;
  }
  const YamlNode& at = entry.anchor();
  const auto& file = *context.external_files.emplace_back(
      std::make_unique<ExternalFile>(shown_name(context, *reference), std::move(*text), at.line,
                                     at.column));
  const std::size_t problems_before = context.sink.size();
  if (const auto problem = find_encoding_problem(file.text)) {
    const auto [line, column] = problem->whole_file ? std::pair(0, 0)
                                                    : file.lines.position_of(problem->offset);
    context.sink.add(DiagnosticPlace{line, column, &file}, "",
                     problem->message + "; save the prompt file as UTF-8");
    return std::nullopt;
  }
  PromptFileReader reader(context, file, base_id);
  auto rows = *format == PromptFileFormat::txt ? reader.read_txt() : reader.read_csv();
  if (rows.empty() && context.sink.size() == problems_before) {
    context.sink.add(at, entry.field, "the prompt file " + file.name + " has no prompts");
  }
  if (context.sink.size() != problems_before) {
    return std::nullopt;
  }
  return rows;
}

}  // namespace vb
