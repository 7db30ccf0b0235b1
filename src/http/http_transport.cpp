// The transport-neutral parts of http_transport.h.
#include "http/http_transport.h"

#include "util/text_util.h"

namespace vb {

const char* to_string(TransportFailure f) {
  switch (f) {
    case TransportFailure::none:
      return "none";
    case TransportFailure::not_sent:
      return "not_sent";
    case TransportFailure::timeout:
      return "timeout";
    case TransportFailure::connection_lost:
      return "connection_lost";
    case TransportFailure::sink_failed:
      return "sink_failed";
    case TransportFailure::too_large:
      return "too_large";
    case TransportFailure::other:
      return "other";
  }
  return "other";
}

std::optional<std::string> HttpResponse::header(std::string_view lower_name) const {
  for (const auto& h : headers) {
    if (h.name == lower_name) {
      return h.value;
    }
  }
  return std::nullopt;
}

std::string url_origin(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return {};
  }
  auto host_end = url.find_first_of("/?#", scheme_end + 3);
  std::string origin = ascii_lower(url.substr(0, host_end));
  // Make the default port explicit so "https://h" and "https://h:443" compare equal.
  auto authority = origin.substr(scheme_end + 3);
  auto at = authority.rfind('@');
  if (at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  bool has_port =
      authority.find(':', authority.rfind(']') == std::string::npos ? 0 : authority.rfind(']')) !=
      std::string::npos;
  std::string scheme = origin.substr(0, scheme_end);
  if (!has_port) {
    authority += scheme == "https" ? ":443" : ":80";
  }
  return scheme + "://" + authority;
}

}  // namespace vb
