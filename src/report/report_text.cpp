// Text helpers shared by the md and html writers.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "report/report_writers.h"

namespace vb::report_detail {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";  // U+FFFD: NUL is not allowed in HTML text
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string md_cell(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
      case '|':
        out += "\\|";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') {
          break;  // CRLF: the LF makes the break
        }
        [[fallthrough]];
      case '\n':
        out += "<br>";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string relative_url(const std::string& file, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target = fs::absolute(file, ec).lexically_normal();
  fs::path base = fs::absolute(dir.empty() ? "." : dir, ec).lexically_normal();
  fs::path rel = target.lexically_relative(base);
  if (rel.empty()) {
    rel = target;
  }
  std::string text = rel.generic_string();
  std::string out;
  for (unsigned char c : text) {
    bool keep = std::isalnum(c) != 0 || c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

std::string format_duration(std::optional<double> seconds) {
  if (!seconds) {
    return "\xE2\x80\x93";  // en dash
  }
  char text[48];
  double s = *seconds;
  if (s < 60) {
    std::snprintf(text, sizeof text, s < 10 ? "%.1f s" : "%.0f s", s);
  } else if (s < 3600) {
    auto whole = static_cast<long long>(std::llround(s));
    std::snprintf(text, sizeof text, "%lld min %02lld s", whole / 60, whole % 60);
  } else {
    auto minutes = static_cast<long long>(std::llround(s / 60));
    std::snprintf(text, sizeof text, "%lld h %02lld min", minutes / 60, minutes % 60);
  }
  return text;
}

std::string format_bytes(std::int64_t bytes) {
  char text[32];
  if (bytes < 1024) {
    std::snprintf(text, sizeof text, "%lld B", static_cast<long long>(bytes));
  } else if (bytes < 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else if (bytes < 1024LL * 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024 * 1024));
  } else {
    std::snprintf(text, sizeof text, "%.2f GiB",
                  static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  }
  return text;
}

}  // namespace vb::report_detail
