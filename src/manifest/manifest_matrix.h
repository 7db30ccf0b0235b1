// A job entry's `matrix` (internal to the manifest module): variables, each
// with a list of values; the entry expands into their cartesian product, the
// first variable varying slowest. `{name}` in a prompt, an id or a parent id
// is a placeholder for a variable's value; a variable named like a job field
// (model, seconds, orientation, size, provider) also sets that field.
// Plain data after reading; thread-compatible.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/field_rules.h"
#include "manifest/manifest_fields.h"

namespace vb {

struct MatrixValue {
  std::string text;                     // as written: what a prompt gets
  std::string slug;                     // [A-Za-z0-9._-]+: what an id gets
  std::optional<FieldSetting> setting;  // when the variable is named like a job field
};

struct MatrixVariable {
  std::string name;
  std::vector<MatrixValue> values;
  DiagnosticPlace at;  // the variable's key
};

struct Matrix {
  std::vector<MatrixVariable> variables;  // in file order

  bool empty() const { return variables.empty(); }
  // Number of combinations, saturating at SIZE_MAX; 1 without variables.
  std::size_t combinations() const;
  std::optional<std::size_t> find(std::string_view name) const;
  // The job fields the matrix sets.
  std::vector<JobField> fields() const;
};

// One combination: a value index per variable. next() steps like an odometer,
// the last variable fastest, and returns false after the last combination.
struct Combination {
  std::vector<std::size_t> value_of;
  bool next(const Matrix& matrix);
};

// A text with {name} placeholders, split once so that each combination is a
// concatenation. A placeholder is '{', a letter or '_', letters, digits or
// '_', then '}'; other braces are text.
class TextTemplate {
 public:
  // Placeholder names that are not variables of `matrix` go to `unknown`.
  static TextTemplate compile(std::string_view text, const Matrix& matrix,
                              std::vector<std::string>& unknown);

  bool has_placeholders() const { return m_has_placeholders; }
  // Values in `slugs` form for ids, as written for prompts.
  std::string render(const Matrix& matrix, const Combination& combination, bool slugs) const;

 private:
  struct Piece {
    std::string text;
    std::size_t variable = 0;  // used when text is empty
  };
  std::vector<Piece> m_pieces;
  bool m_has_placeholders = false;
};

// True if `text` has a placeholder, whatever its name.
bool has_placeholder(std::string_view text);

// "film noir" -> "film-noir": characters outside [A-Za-z0-9._] become '-',
// one for a run and none at either end; `fallback` if nothing is left.
std::string slugify(std::string_view value, std::string_view fallback);

// Reads `matrix:`; nullopt if anything is wrong (all reported).
std::optional<Matrix> read_matrix(const YamlTree& tree, const YamlEntry& entry,
                                  DiagnosticSink& sink);

// The message for unknown placeholders: "unknown placeholder {x}; the matrix
// has {style}, {seconds}" (with a suggestion when one is close).
std::string unknown_placeholder_message(const std::vector<std::string>& unknown,
                                        const Matrix& matrix);

}  // namespace vb
