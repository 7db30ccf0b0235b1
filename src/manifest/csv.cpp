#include "manifest/csv.h"

#include "util/text_util.h"

namespace vb {

namespace {

// Walks the text once, keeping the line and column of the current byte.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : m_text(text) {
    if (text.starts_with(k_utf8_bom)) {
      m_offset = k_utf8_bom.size();
      m_line_start = k_utf8_bom.size();
    }
  }

  CsvParse read(std::size_t max_records) {
    CsvParse out;
    while (!at_end() && !out.error) {
      if (out.records.size() == max_records) {
        out.truncated = true;
        break;
      }
      CsvRecord record = read_record(out.error);
      const bool blank_line = record.cells.size() == 1 && record.cells[0].text.empty() &&
                              !m_last_cell_quoted;
      if (!out.error && !blank_line) {
        out.records.push_back(std::move(record));
      }
    }
    return out;
  }

 private:
  bool at_end() const { return m_offset >= m_text.size(); }
  char peek() const { return m_text[m_offset]; }
  int column() const { return static_cast<int>(m_offset - m_line_start) + 1; }

  void advance() {
    if (m_text[m_offset] == '\n') {
      ++m_line;
      m_line_start = m_offset + 1;
    }
    ++m_offset;
  }

  // LF or CRLF; a lone CR is text.
  bool at_line_break() const {
    return peek() == '\n' ||
           (peek() == '\r' && m_offset + 1 < m_text.size() && m_text[m_offset + 1] == '\n');
  }

  // True, having consumed it, if a record ends here.
  bool take_line_break() {
    if (!at_line_break()) {
      return false;
    }
    if (peek() == '\r') {
      advance();
    }
    advance();
    return true;
  }

  CsvRecord read_record(std::optional<CsvError>& error) {
    CsvRecord record;
    record.line = m_line;
    for (;;) {
      record.cells.push_back(read_cell(error));
      if (error || at_end() || take_line_break()) {
        return record;
      }
      advance();  // the ',' that read_cell stopped at
    }
  }

  CsvCell read_cell(std::optional<CsvError>& error) {
    CsvCell cell{{}, m_line, column()};
    m_last_cell_quoted = !at_end() && peek() == '"';
    if (m_last_cell_quoted) {
      read_quoted(cell, error);
      return cell;
    }
    while (!at_end() && peek() != ',' && !at_line_break()) {
      cell.text += peek();
      advance();
    }
    return cell;
  }

  void read_quoted(CsvCell& cell, std::optional<CsvError>& error) {
    advance();  // opening quote
    for (;;) {
      if (at_end()) {
        error = CsvError{cell.line, cell.column, "the quoted field that starts here is not closed"};
        return;
      }
      if (peek() == '"') {
        advance();
        if (!at_end() && peek() == '"') {
          cell.text += '"';
          advance();
          continue;
        }
        break;
      }
      cell.text += peek();
      advance();
    }
    if (!at_end() && peek() != ',' && !at_line_break()) {
      error = CsvError{m_line, column(),
                       "expected ',' or the end of the line after a closing quote (write a "
                       "quote inside a quoted field as \"\")"};
    }
  }

  std::string_view m_text;
  std::size_t m_offset = 0;
  std::size_t m_line_start = 0;
  int m_line = 1;
  bool m_last_cell_quoted = false;
};

}  // namespace

CsvParse parse_csv(std::string_view text, std::size_t max_records) {
  return CsvReader(text).read(max_records);
}

}  // namespace vb
