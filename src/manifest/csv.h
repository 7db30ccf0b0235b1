// A CSV reader after RFC 4180, with the position of every cell for
// diagnostics (internal to the manifest module; used for prompt files).
// Fields are separated by ',' and records by CRLF or LF. A field in double
// quotes may contain commas, line breaks and doubled quotes (""). A UTF-8
// byte order mark is skipped. Lenient where spreadsheets are: a quote inside
// an unquoted field is an ordinary character, and a missing final line break
// is fine. Lines that are entirely empty are skipped. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vb {

struct CsvCell {
  std::string text;  // unquoted, doubled quotes undone
  int line = 0;      // 1-based position of the cell's first character (its quote, if quoted)
  int column = 0;    // 1-based, in bytes, not counting a byte order mark
};

struct CsvRecord {
  std::vector<CsvCell> cells;
  int line = 0;  // where the record starts
};

struct CsvError {
  int line = 0;
  int column = 0;
  std::string message;  // "a quoted field is not closed" ...
};

struct CsvParse {
  std::vector<CsvRecord> records;  // the header too, if the file has one
  std::optional<CsvError> error;   // parsing stops at the first error
  bool truncated = false;          // stopped after max_records records
};

// Reads at most `max_records` records, so a hostile file cannot fill memory.
CsvParse parse_csv(std::string_view text, std::size_t max_records);

}  // namespace vb
