#include "util/text_util.h"

#include <algorithm>

namespace vb {

namespace {

// Longer lines are cut in the caret display so a 32000-character prompt does
// not flood the terminal.
constexpr std::size_t k_max_shown_line = 200;

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) {
    return 1;
  }
  std::size_t len = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    min_second = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    max_second = c == 0xED ? 0x9F : 0xBF;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    min_second = c == 0xF0 ? 0x90 : 0x80;
    max_second = c == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > text.size() || at(i + 1) < min_second || at(i + 1) > max_second) {
    return 0;
  }
  for (std::size_t k = 2; k < len; ++k) {
    if (!is_continuation(at(i + k))) {
      return 0;
    }
  }
  return len;
}

// A forgotten suffix ("base_delay" for "base_delay_ms") is too many edits for
// the distance rule, but still an obvious intent when only one key fits.
std::optional<std::string> only_extension_of(std::string_view word,
                                             const std::vector<std::string_view>& candidates) {
  constexpr std::size_t k_min_prefix = 4;
  std::optional<std::string> found;
  for (const auto candidate : candidates) {
    if (word.size() >= k_min_prefix && candidate.starts_with(word)) {
      if (found) {
        return std::nullopt;
      }
      found = std::string(candidate);
    }
  }
  return found;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions, so
  // "jbos" is one edit from "jobs". Three rows of the usual table suffice.
  std::vector<std::size_t> before(b.size() + 1);
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    previous[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string_view>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 3;  // more than two edits is a different word
  for (const auto candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance && distance < std::min(word.size(), candidate.size())) {
      best = std::string(candidate);
      best_distance = distance;
    }
  }
  return best ? best : only_extension_of(word, candidates);
}

std::optional<std::size_t> find_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      return i;
    }
    i += len;
  }
  return std::nullopt;
}

std::size_t count_code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return !is_continuation(static_cast<unsigned char>(c));
  }));
}

LineIndex::LineIndex(std::string_view text) : m_text(text) {
  m_starts.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      m_starts.push_back(i + 1);
    }
  }
}

std::pair<int, int> LineIndex::position_of(std::size_t offset) const {
  const auto it = std::upper_bound(m_starts.begin(), m_starts.end(), offset);
  const auto line = static_cast<std::size_t>(it - m_starts.begin());
  return {static_cast<int>(line), static_cast<int>(offset - m_starts[line - 1] + 1)};
}

std::string LineIndex::line_text(int line) const {
  if (line < 1 || static_cast<std::size_t>(line) > m_starts.size()) {
    return {};
  }
  const std::size_t begin = m_starts[static_cast<std::size_t>(line) - 1];
  std::size_t end = m_text.find('\n', begin);
  if (end == std::string_view::npos) {
    end = m_text.size();
  }
  if (end > begin && m_text[end - 1] == '\r') {
    --end;
  }
  std::string_view shown = m_text.substr(begin, end - begin);
  if (shown.size() <= k_max_shown_line) {
    return std::string(shown);
  }
  std::size_t cut = k_max_shown_line;
  while (cut > 0 && is_continuation(static_cast<unsigned char>(shown[cut]))) {
    --cut;  // never split a UTF-8 sequence
  }
  return std::string(shown.substr(0, cut)) + " ...";
}

std::string render_diagnostic(const std::string& where, const std::string& field,
                              const std::string& message, const std::string& source_line,
                              int column) {
  std::string out = where + ": ";
  if (!field.empty()) {
    out += field + ": ";
  }
  out += message;
  if (source_line.empty() || column < 1) {
    return out;
  }
  out += "\n" + source_line + "\n";
  // Keep tabs so the caret lines up; skip continuation bytes so a multi-byte
  // character takes one cell.
  const auto prefix = std::min(static_cast<std::size_t>(column - 1), source_line.size());
  for (std::size_t i = 0; i < prefix; ++i) {
    const char c = source_line[i];
    if (c == '\t') {
      out += '\t';
    } else if (!is_continuation(static_cast<unsigned char>(c))) {
      out += ' ';
    }
  }
  out.append(static_cast<std::size_t>(column - 1) - prefix, ' ');
  out += '^';
  return out;
}

std::string excerpt(std::string_view text) {
  constexpr std::size_t k_max = 40;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= k_max && !is_continuation(static_cast<unsigned char>(text[i]))) {
      out += "...";
      break;
    }
    if (text[i] == '\n') {
      out += "\\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string_view trim(std::string_view text) {
  const auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace vb
