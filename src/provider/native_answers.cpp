#include "provider/native_answers.h"

#include <charconv>
#include <ctime>

#include "provider/answer_parser.h"

namespace vb {

bool is_task_record(const rapidjson::Value& data, const char* vendor_status_key) {
  const rapidjson::Value* status = json_member(data, "status");
  return status != nullptr && status->IsString() &&
         json_member(data, vendor_status_key) == nullptr &&
         (json_member(data, "progress") != nullptr || json_member(data, "fail_reason") != nullptr ||
          json_member(data, "result_url") != nullptr);
}

RemoteStatus task_record_status(const rapidjson::Value& record, const std::string& failed_code) {
  RemoteStatus s;
  s.raw_status = json_string(record, "status");
  s.phase = map_status(s.raw_status);
  s.video_url = json_string(record, "result_url");
  const std::string progress = json_string(record, "progress");
  double percent = 0;
  auto [end, ec] = std::from_chars(progress.data(), progress.data() + progress.size(), percent);
  if (ec == std::errc{} && percent >= 0 && percent <= 100 && end != progress.data()) {
    s.progress = percent;
  }
  if (s.phase == RemotePhase::failed) {
    s.error_code = failed_code;
    s.error_message = json_string(record, "fail_reason");
  }
  if (s.phase == RemotePhase::completed) {
    s.progress = 100.0;
  }
  s.expires_at = url_expiry(s.video_url);
  return s;
}

std::optional<Millis> url_expiry(const std::string& url) {
  const auto at = url.find("Expires=");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  long long seconds = 0;
  const char* begin = url.data() + at + 8;
  auto [end, ec] = std::from_chars(begin, url.data() + url.size(), seconds);
  if (ec != std::errc{} || end == begin || seconds <= 0 || seconds > 1'000'000'000'000LL) {
    return std::nullopt;
  }
  return static_cast<Millis>(seconds) * 1000;
}

std::optional<Millis> utc_text_millis(std::string_view text) {
  // YYYY-MM-DD?HH:MM:SS, then an optional fraction: 19 characters at least.
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != ' ' && text[10] != 'T') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const auto number = [text](std::size_t at, std::size_t length) -> std::optional<int> {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + length, value);
    return ec == std::errc{} && end == text.data() + at + length ? std::optional(value)
                                                                 : std::nullopt;
  };
  const auto year = number(0, 4);
  const auto month = number(5, 2);
  const auto day = number(8, 2);
  const auto hour = number(11, 2);
  const auto minute = number(14, 2);
  const auto second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60 || *year < 1970) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  Millis ms = static_cast<Millis>(timegm(&tm)) * 1000;
  if (text.size() >= 23 && text[19] == '.') {
    if (const auto fraction = number(20, 3)) {
      ms += *fraction;
    }
  }
  return ms;
}

HttpRequest url_get(const std::string& url) {
  HttpRequest req;
  req.url = url;
  req.with_auth = true;
  return req;
}

std::optional<HttpRequest> thumbnail_get(const RemoteStatus& status) {
  if (status.thumbnail_url.empty()) {
    return std::nullopt;
  }
  HttpRequest req;
  req.url = status.thumbnail_url;
  return req;
}

Result<const rapidjson::Value*> listing_items(const rapidjson::Value& doc, const char* key,
                                              std::string_view body) {
  const rapidjson::Value* items = json_member(doc, key);
  if (items == nullptr || !items->IsArray()) {
    return fail(ErrorCode::protocol, "the task listing has no " + std::string(key) +
                                         " array: " + error_message_from_body(body));
  }
  return items;
}

int page_of(const std::string& cursor) {
  int page = 1;
  std::from_chars(cursor.data(), cursor.data() + cursor.size(), page);
  return page;
}

AnswerClass answer_of(AnswerKind kind, std::string code, std::string detail) {
  return {kind, std::nullopt, std::move(code), std::move(detail)};
}

}  // namespace vb
