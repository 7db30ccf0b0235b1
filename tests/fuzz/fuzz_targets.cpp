#include "fuzz/fuzz_targets.h"

#include <cmath>
#include <set>

#include "config/config.h"
#include "manifest/manifest.h"
#include "output/output_layout.h"
#include "provider/answer_parser.h"
#include "provider/openai_videos_provider.h"
#include "provider/unified_task_provider.h"

namespace vb::fuzz {

namespace {

// Error messages quote the offending input; they must stay bounded however large it is.
constexpr std::size_t k_message_cap = 8192;

std::string check_message(std::string_view where, const std::string& message) {
  if (message.size() > k_message_cap) {
    return std::string(where) + ": message of " + std::to_string(message.size()) + " bytes";
  }
  return {};
}

// The expanded layout of a job must stay under the output root.
std::string check_under_root(const OutputConfig& output, const std::string& batch,
                             const std::string& id) {
  auto paths = output_paths(output, batch, id);
  if (!paths) {
    return {};  // refusing is fine; escaping is not
  }
  const std::string root = output.root.ends_with('/') ? output.root : output.root + "/";
  for (const std::string* p : {&paths->video, &paths->part, &paths->sidecar}) {
    if (!p->starts_with(root) || p->find("/../") != std::string::npos || p->ends_with("/..") ||
        p->find('\0') != std::string::npos) {
      return "output path escapes the root: " + *p;
    }
  }
  return {};
}

HttpResponse response_from(std::string_view data) {
  static constexpr int k_statuses[] = {200, 201, 202, 204, 301, 302, 400, 401,
                                       403, 404, 408, 409, 429, 500, 502, 503};
  HttpResponse response;
  response.status = data.empty() ? 200 : k_statuses[static_cast<unsigned char>(data[0]) % 16];
  if (!data.empty()) {
    data.remove_prefix(1);
  }
  response.headers.push_back({"content-type", "application/json"});
  response.body = std::string(data);
  response.content_length = static_cast<std::int64_t>(data.size());
  return response;
}

const OpenAiVideosProvider& provider() {
  static const OpenAiVideosProvider p{ProviderConfig{}};
  return p;
}

const UnifiedTaskProvider& unified_provider() {
  static const UnifiedTaskProvider p{ProviderConfig{}};
  return p;
}

std::string check_status(std::string_view where, const RemoteStatus& s) {
  if (s.progress && (!std::isfinite(*s.progress) || *s.progress < 0 || *s.progress > 100)) {
    return std::string(where) + ": progress out of range";
  }
  if (!s.video_url.empty() && !s.video_url.starts_with("http://") &&
      !s.video_url.starts_with("https://")) {
    return std::string(where) + ": non-http video URL " + s.video_url;
  }
  return check_message(where, s.error_message);
}

// A create answer: an error with a bounded message, or a non-empty id and a sane status.
std::string check_create(std::string_view where, const Result<CreateAnswer>& answer) {
  if (!answer) {
    return check_message(std::string(where) + " error", answer.error().message);
  }
  if (answer->remote_id.empty()) {
    return std::string(where) + " accepted an empty id";
  }
  return check_status(where, answer->status);
}

std::string check_query(std::string_view where, const Result<RemoteStatus>& status) {
  if (!status) {
    return check_message(std::string(where) + " error", status.error().message);
  }
  return check_status(where, *status);
}

}  // namespace

std::string manifest(std::string_view data) {
  const ManifestParse parse = parse_manifest(data, "fuzz.yaml", "/nonexistent-vidbatch-fuzz");
  for (const auto& d : parse.diagnostics) {
    const std::string shown = d.render();
    if (shown.size() > 4 * k_message_cap) {
      return "diagnostic of " + std::to_string(shown.size()) + " bytes";
    }
  }
  if (parse.manifest.has_value() != parse.diagnostics.empty()) {
    return "manifest set although there are diagnostics (or neither)";
  }
  if (!parse.manifest) {
    return {};
  }
  std::set<std::string> ids;
  const OutputConfig output;
  for (const auto& job : parse.manifest->jobs) {
    if (job.id.empty() || !ids.insert(job.id).second) {
      return "empty or duplicate job id '" + job.id + "' accepted";
    }
    if (auto problem = check_under_root(output, parse.manifest->batch, job.id); !problem.empty()) {
      return problem;
    }
  }
  return {};
}

std::string config(std::string_view data) {
  auto parsed = parse_config_text(std::string(data), "fuzz.toml");
  if (!parsed) {
    return check_message("config error", parsed.error().message);
  }
  return check_under_root(parsed->output, "batch", "job-1");
}

std::string provider_create(std::string_view data) {
  return check_create("parse_create", provider().parse_create(response_from(data)));
}

std::string provider_query(std::string_view data) {
  return check_query("parse_query", provider().parse_query(response_from(data)));
}

std::string unified_create(std::string_view data) {
  return check_create("unified parse_create", unified_provider().parse_create(response_from(data)));
}

std::string unified_query(std::string_view data) {
  auto status = unified_provider().parse_query(response_from(data));
  if (status && status->phase == RemotePhase::completed && status->video_url.empty()) {
    return "unified parse_query: completed without a video URL";
  }
  return check_query("unified parse_query", status);
}

std::string provider_list(std::string_view data) {
  auto page = provider().parse_list("", response_from(data));
  if (!page) {
    return check_message("parse_list error", page.error().message);
  }
  for (const auto& video : page->videos) {
    if (video.id.empty()) {
      return "parse_list accepted a video without an id";
    }
  }
  return {};
}

std::string provider_content(std::string_view data) {
  auto url = provider().parse_content_redirect(data);
  if (!url) {
    return check_message("parse_content_redirect error", url.error().message);
  }
  if (!url->starts_with("http://") && !url->starts_with("https://")) {
    return "parse_content_redirect accepted a non-http URL: " + *url;
  }
  return {};
}

std::string answer(std::string_view data) {
  if (auto s = parse_status_answer(data)) {
    if (auto problem = check_status("parse_status_answer", *s); !problem.empty()) {
      return problem;
    }
  } else if (auto problem = check_message("parse_status_answer", s.error().message);
             !problem.empty()) {
    return problem;
  }
  if (auto id = parse_answer_id(data); id && id->empty()) {
    return "parse_answer_id accepted an empty id";
  }
  const std::string url = find_video_url(data);
  if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://")) {
    return "find_video_url returned a non-http URL: " + url;
  }
  (void)parse_video_list(data);
  if (auto problem = check_message("error_message_from_body", error_message_from_body(data));
      !problem.empty()) {
    return problem;
  }
  (void)encode_path_segment(data);
  return {};
}

const std::vector<NamedTarget>& all_targets() {
  static const std::vector<NamedTarget> k_targets = {
      {"manifest", &manifest},
      {"config", &config},
      {"provider_create", &provider_create},
      {"provider_query", &provider_query},
      {"provider_list", &provider_list},
      {"provider_content", &provider_content},
      {"unified_create", &unified_create},
      {"unified_query", &unified_query},
      {"answer", &answer},
  };
  return k_targets;
}

}  // namespace vb::fuzz
