#include "manifest/field_rules.h"
#include "util/error.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>

#include "util/text_util.h"

namespace vb {

namespace {

bool is_dimension(std::string_view text) {
  return !text.empty() && text.size() <= 5 && text[0] >= '1' && text[0] <= '9' &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// "1280x720": two positive integers of at most five digits, no leading zeros.
bool is_exact_size(std::string_view text) {
  const auto x = text.find('x');
  return x != std::string_view::npos && is_dimension(text.substr(0, x)) &&
         is_dimension(text.substr(x + 1));
}

std::string with_suggestion(std::string message, std::string_view word,
                            const std::vector<std::string_view>& candidates) {
  if (const auto match = closest_match(word, candidates)) {
    message += " (did you mean '" + *match + "'?)";
  }
  return message;
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// A plain decimal number of seconds ("2", "1.5"): no sign, exponent or hex.
std::optional<double> parse_seconds_number(std::string_view text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!plain || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Checked<int> check_integer_in(std::string_view text, int min, int max) {
  const auto number = parse_integer(text);
  if (!number) {
    return std::unexpected("expected an integer, got '" + excerpt(text) + "'");
  }
  if (*number < min || *number > max) {
    return std::unexpected("must be between " + std::to_string(min) + " and " +
                           std::to_string(max) + ", got " + std::string(text));
  }
  return static_cast<int>(*number);
}

std::optional<long long> parse_integer(std::string_view text) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Checked<int> check_seconds(std::string_view text) {
  return check_integer_in(text, 1, k_max_seconds);
}

Checked<Orientation> check_orientation(std::string_view text) {
  if (text == "landscape") {
    return Orientation::landscape;
  }
  if (text == "portrait") {
    return Orientation::portrait;
  }
  return std::unexpected(
      with_suggestion("expected 'landscape' or 'portrait', got '" + excerpt(text) + "'", text,
                      {"landscape", "portrait"}));
}

Checked<std::string> check_size(std::string_view text) {
  if (text == "small" || text == "large" || is_exact_size(text)) {
    return std::string(text);
  }
  return std::unexpected(
      with_suggestion("expected 'small', 'large' or WIDTHxHEIGHT like '1280x720', got '" +
                          excerpt(text) + "'",
                      text, {"small", "large"}));
}

Checked<std::string> check_model(std::string_view text) {
  if (text.empty()) {
    return std::unexpected("must not be empty");
  }
  return std::string(text);
}

Checked<std::string> check_provider(std::string_view text) {
  const bool valid =
      !text.empty() && text.size() <= k_max_provider_chars &&
      std::all_of(text.begin(), text.end(), [](char c) { return c != '.' && is_name_char(c); });
  if (!valid) {
    return std::unexpected("expected 1 to " + std::to_string(k_max_provider_chars) +
                           " characters from [A-Za-z0-9_-], got '" + excerpt(text) + "'");
  }
  return std::string(text);
}

Checked<std::string> check_name(std::string_view text, std::size_t max_chars) {
  const bool valid = !text.empty() && text.size() <= max_chars &&
                     std::all_of(text.begin(), text.end(), is_name_char);
  if (!valid) {
    return std::unexpected("expected 1 to " + std::to_string(max_chars) +
                           " characters from [A-Za-z0-9._-], got '" + excerpt(text) + "'");
  }
  if (text == "." || text == "..") {
    return std::unexpected("'.' and '..' are not allowed as names");
  }
  return std::string(text);
}

Checked<std::string> check_prompt(std::string_view text) {
  if (is_blank(text)) {
    return std::unexpected("must not be empty");
  }
  const std::size_t chars = count_code_points(text);
  if (chars > k_max_prompt_chars) {
    return std::unexpected("is " + std::to_string(chars) + " characters long; the limit is " +
                           std::to_string(k_max_prompt_chars));
  }
  return std::string(text);
}

Checked<std::string> check_character_name(std::string_view text) {
  const std::size_t chars = count_code_points(text);
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  });
  if (chars == 0 || chars > k_max_character_name_chars || control || trim(text) != text) {
    return std::unexpected("expected 1 to " + std::to_string(k_max_character_name_chars) +
                           " characters without control characters or blanks at either end, got '" +
                           excerpt(text) + "'");
  }
  return std::string(text);
}

Checked<std::string> check_character_url(std::string_view text) {
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return std::unexpected("expected an http:// or https:// URL, got '" + excerpt(text) + "'");
  }
  const bool has_blank = std::any_of(text.begin(), text.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  });
  if (rest.empty() || rest.front() == '/' || has_blank) {
    return std::unexpected("expected a URL with a host and no blanks, got '" + excerpt(text) + "'");
  }
  return std::string(text);
}

Checked<std::string> check_character_timestamps(std::string_view text) {
  const auto comma = text.find(',');
  const std::string_view start_text = trim(text.substr(0, comma));
  const std::string_view end_text = comma == std::string_view::npos ? std::string_view()
                                                                    : trim(text.substr(comma + 1));
  const auto start = parse_seconds_number(start_text);
  const auto end = parse_seconds_number(end_text);
  if (comma == std::string_view::npos || !start || !end) {
    return std::unexpected("expected \"START,END\" in seconds like \"1,3\", got '" + excerpt(text) +
                           "'");
  }
  if (*start >= *end) {
    return std::unexpected("the start must come before the end, got '" + excerpt(text) + "'");
  }
  if (*end - *start < 1 || *end - *start > 3) {
    return std::unexpected("must span 1 to 3 seconds, got '" + excerpt(text) + "'");
  }
  return std::string(start_text) + "," + std::string(end_text);
}

Checked<int> check_variants(std::string_view text) {
  return check_integer_in(text, 1, k_max_variants);
}

std::optional<JobField> job_field_named(std::string_view name) {
  for (const auto field : {JobField::model, JobField::seconds, JobField::orientation,
                           JobField::size, JobField::provider}) {
    if (name == to_string(field)) {
      return field;
    }
  }
  return std::nullopt;
}

const char* to_string(JobField field) {
  switch (field) {
    case JobField::model:
      return "model";
    case JobField::seconds:
      return "seconds";
    case JobField::orientation:
      return "orientation";
    case JobField::size:
      return "size";
    case JobField::provider:
      return "provider";
  }
  return "";
}

Checked<FieldSetting> check_field(JobField field, std::string_view text) {
  FieldSetting setting;
  setting.field = field;
  if (field == JobField::seconds) {
    setting.seconds = VB_TRY(check_seconds(text));
  } else if (field == JobField::orientation) {
    setting.orientation = VB_TRY(check_orientation(text));
  } else {
    setting.text = VB_TRY(field == JobField::model  ? check_model(text)
                          : field == JobField::size ? check_size(text)
                                                    : check_provider(text));
  }
  return setting;
}

void apply_field(const FieldSetting& setting, JobSpec& spec) {
  switch (setting.field) {
    case JobField::model:
      spec.model = setting.text;
      break;
    case JobField::seconds:
      spec.seconds = setting.seconds;
      break;
    case JobField::orientation:
      spec.orientation = setting.orientation;
      break;
    case JobField::size:
      spec.size = setting.text;
      break;
    case JobField::provider:
      spec.provider = setting.text;
      break;
  }
}

}  // namespace vb
