#include "http/multipart_form.h"

#include <algorithm>
#include <cstdio>

namespace vb {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string boundary_for(std::uint64_t seed) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(splitmix64(seed)));
  return std::string("------------------------vidbatch") + hex;
}

// As libcurl escapes a part name inside its quotes.
void append_name(std::string& out, const std::string& name) {
  for (char c : name) {
    switch (c) {
      case '"':
        out += "%22";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

bool fields_only(const std::vector<FormPart>& parts) {
  return std::all_of(parts.begin(), parts.end(),
                     [](const FormPart& part) { return part.file_path.empty(); });
}

EncodedForm encode_form(const std::vector<FormPart>& parts, std::uint64_t seed) {
  std::string boundary = boundary_for(seed);
  while (std::any_of(parts.begin(), parts.end(), [&](const FormPart& part) {
    return part.value.find(boundary) != std::string::npos;
  })) {
    boundary = boundary_for(++seed);
  }
  EncodedForm form;
  form.content_type = "multipart/form-data; boundary=" + boundary;
  for (const auto& part : parts) {
    form.body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"";
    append_name(form.body, part.name);
    form.body += "\"\r\n";
    if (!part.content_type.empty()) {
      form.body += "Content-Type: " + part.content_type + "\r\n";
    }
    form.body += "\r\n";
    form.body += part.value;
    form.body += "\r\n";
  }
  form.body += "--" + boundary + "--\r\n";
  return form;
}

}  // namespace vb
