#include "manifest/manifest_matrix.h"

#include <algorithm>
#include <limits>

namespace vb {

namespace {

bool is_placeholder_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_placeholder_char(char c) {
  return is_placeholder_start(c) || (c >= '0' && c <= '9');
}

// Length of the placeholder name at text[i] (just after a '{') if a '}'
// closes it, else 0.
std::size_t placeholder_length(std::string_view text, std::size_t i) {
  if (i >= text.size() || !is_placeholder_start(text[i])) {
    return 0;
  }
  std::size_t end = i;
  while (end < text.size() && is_placeholder_char(text[end])) {
    ++end;
  }
  return end < text.size() && text[end] == '}' ? end - i : 0;
}

bool is_variable_name(std::string_view name) {
  return !name.empty() && is_placeholder_start(name[0]) &&
         std::all_of(name.begin(), name.end(), is_placeholder_char);
}

std::optional<MatrixValue> read_value(const YamlEntry& entry, std::optional<JobField> field,
                                      std::size_t index, DiagnosticSink& sink) {
  MatrixValue value;
  if (field) {
    value.setting = read_field(*field, entry, sink);
    if (!value.setting) {
      return std::nullopt;
    }
  }
  const auto text = read_text(entry, sink);
  if (!text) {
    return std::nullopt;
  }
  value.text = *text;
  value.slug = slugify(*text, std::to_string(index + 1));
  return value;
}

std::optional<MatrixVariable> read_variable(const YamlTree& tree, const YamlEntry& entry,
                                            DiagnosticSink& sink) {
  if (!is_variable_name(entry.key.text)) {
    sink.add(entry.key, entry.field,
             "a matrix variable is a letter or '_' followed by letters, digits or '_', got '" +
                 excerpt(entry.key.text) + "'");
    return std::nullopt;
  }
  if (entry.value.kind != YamlKind::sequence) {
    sink.add(entry.anchor(), entry.field,
             "expected a list of values, got " + describe_value(entry.value));
    return std::nullopt;
  }
  const auto items = tree.children(entry.value);
  if (items.empty()) {
    sink.add(entry.anchor(), entry.field, "must list at least one value");
    return std::nullopt;
  }
  MatrixVariable variable{std::string(entry.key.text), {}, DiagnosticPlace::at(entry.key)};
  const auto field = job_field_named(entry.key.text);
  bool ok = true;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const YamlEntry item{entry.key, tree.at(items[i]), entry.field + "[" + std::to_string(i) + "]"};
    auto value = read_value(item, field, i, sink);
    ok = ok && value.has_value();
    if (value) {
      variable.values.push_back(std::move(*value));
    }
  }
  return ok ? std::optional(std::move(variable)) : std::nullopt;
}

}  // namespace

std::size_t Matrix::combinations() const {
  std::size_t count = 1;
  for (const auto& variable : variables) {
    const std::size_t n = variable.values.size();
    if (n != 0 && count > std::numeric_limits<std::size_t>::max() / n) {
      return std::numeric_limits<std::size_t>::max();
    }
    count *= n;
  }
  return count;
}

std::optional<std::size_t> Matrix::find(std::string_view name) const {
  for (std::size_t i = 0; i < variables.size(); ++i) {
    if (variables[i].name == name) {
      return i;
    }
  }
  return std::nullopt;
}

std::vector<JobField> Matrix::fields() const {
  std::vector<JobField> out;
  for (const auto& variable : variables) {
    if (const auto field = job_field_named(variable.name)) {
      out.push_back(*field);
    }
  }
  return out;
}

bool Combination::next(const Matrix& matrix) {
  value_of.resize(matrix.variables.size(), 0);
  for (std::size_t i = matrix.variables.size(); i-- > 0;) {
    if (++value_of[i] < matrix.variables[i].values.size()) {
      return true;
    }
    value_of[i] = 0;
  }
  return false;
}

TextTemplate TextTemplate::compile(std::string_view text, const Matrix& matrix,
                                   std::vector<std::string>& unknown) {
  TextTemplate out;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::size_t length = text[i] == '{' ? placeholder_length(text, i + 1) : 0;
    if (length == 0) {
      literal += text[i];
      continue;
    }
    const std::string_view name = text.substr(i + 1, length);
    i += length + 1;
    const auto variable = matrix.find(name);
    if (!variable) {
      unknown.emplace_back(name);
      continue;
    }
    if (!literal.empty()) {
      out.m_pieces.push_back({std::move(literal), 0});
      literal.clear();
    }
    out.m_pieces.push_back({"", *variable});
    out.m_has_placeholders = true;
  }
  if (!literal.empty()) {
    out.m_pieces.push_back({std::move(literal), 0});
  }
  return out;
}

std::string TextTemplate::render(const Matrix& matrix, const Combination& combination,
                                 bool slugs) const {
  std::string out;
  for (const auto& piece : m_pieces) {
    if (!piece.text.empty()) {
      out += piece.text;
      continue;
    }
    const MatrixValue& value =
        matrix.variables[piece.variable].values[combination.value_of[piece.variable]];
    out += slugs ? value.slug : value.text;
  }
  return out;
}

bool has_placeholder(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{' && placeholder_length(text, i + 1) > 0) {
      return true;
    }
  }
  return false;
}

std::string slugify(std::string_view value, std::string_view fallback) {
  std::string out;
  for (const char c : value) {
    const bool dash = c == '-' || !is_name_char(c);
    if (!dash) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  if (!out.empty() && out.back() == '-') {
    out.pop_back();
  }
  return out.empty() || out == "." || out == ".." ? std::string(fallback) : out;
}

std::optional<Matrix> read_matrix(const YamlTree& tree, const YamlEntry& entry,
                                  DiagnosticSink& sink) {
  if (entry.value.kind != YamlKind::map || entry.value.child_count == 0) {
    sink.add(entry.anchor(), entry.field,
             "expected a map of variables to lists of values, got " + describe_value(entry.value));
    return std::nullopt;
  }
  Matrix matrix;
  bool ok = true;
  for_each_entry(tree, entry.value, entry.field, sink, [&](const YamlEntry& variable_entry) {
    auto variable = read_variable(tree, variable_entry, sink);
    ok = ok && variable.has_value();
    if (variable) {
      matrix.variables.push_back(std::move(*variable));
    }
  });
  return ok ? std::optional(std::move(matrix)) : std::nullopt;
}

std::string unknown_placeholder_message(const std::vector<std::string>& unknown,
                                        const Matrix& matrix) {
  std::vector<std::string_view> names;
  for (const auto& variable : matrix.variables) {
    names.push_back(variable.name);
  }
  std::string message = "unknown placeholder {" + excerpt(unknown.front()) + "}";
  if (const auto match = closest_match(unknown.front(), names)) {
    return message + " (did you mean {" + *match + "}?)";
  }
  constexpr std::size_t k_listed = 10;  // a long list would bury the message
  message += "; the matrix has";
  for (std::size_t i = 0; i < names.size() && i < k_listed; ++i) {
    message += (i == 0 ? " {" : ", {") + excerpt(names[i]) + "}";
  }
  if (names.size() > k_listed) {
    message += ", ...";
  }
  return message;
}

}  // namespace vb
