// Text helpers shared by the manifest and config loaders: "did you mean"
// suggestions, UTF-8 checks, and the compiler-style source line + caret.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vb {

// Levenshtein distance (insert, delete, substitute each cost 1), in bytes.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a likely typo:
// at most two edits (a swap of neighbours counts as one), and fewer edits than
// the shorter word has characters; failing that, the only candidate that
// extends the word ("base_delay" -> "base_delay_ms").
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string_view>& candidates);

// Byte offset of the first invalid UTF-8 sequence, or nullopt if `text` is valid
// (rejects overlong forms, surrogates and code points above U+10FFFF).
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

// Number of code points in valid UTF-8 text.
std::size_t count_code_points(std::string_view text);

// Finds the 1-based line of a text quickly, for diagnostics. Build once per file.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);

  // 1-based line and column of a byte offset.
  std::pair<int, int> position_of(std::size_t offset) const;

  // The text of a 1-based line without its line break, shortened if very long;
  // empty for an unknown line.
  std::string line_text(int line) const;

 private:
  std::string_view m_text;
  std::vector<std::size_t> m_starts;
};

// "file:line:col: field: message", the source line, and a caret under the
// 1-based column. Lines are omitted when unknown (line 0) or empty.
std::string render_diagnostic(const std::string& where, const std::string& field,
                              const std::string& message, const std::string& source_line,
                              int column);

// `text` without its leading and trailing whitespace (std::isspace).
std::string_view trim(std::string_view text);

// `text` with ASCII letters lowered, other bytes as they are (header names, hosts, words).
std::string ascii_lower(std::string_view text);

// A scalar shown inside a message: shortened to ~40 characters, line breaks escaped.
std::string excerpt(std::string_view text);

}  // namespace vb
