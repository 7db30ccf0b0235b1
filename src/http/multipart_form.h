// encode_form: a multipart/form-data body (RFC 7578) of in-memory fields, encoded into one
// buffer. libcurl's mime API builds the same per request from separately allocated parts, a
// boundary drawn from OpenSSL's random generator and a read callback; a create request is a
// few hundred bytes of text fields. Parts that name a file still go through libcurl's mime
// API, which streams the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http/http_transport.h"

namespace vb {

struct EncodedForm {
  std::string content_type;  // multipart/form-data; boundary=...
  std::string body;
};

// True when every part is an in-memory value (no file_path).
bool fields_only(const std::vector<FormPart>& parts);

// `seed` picks the boundary; a boundary that occurs in a value is replaced by another.
EncodedForm encode_form(const std::vector<FormPart>& parts, std::uint64_t seed);

}  // namespace vb
