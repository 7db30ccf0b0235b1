// [http] encode_form: multipart/form-data bodies of in-memory fields.
#include <catch2/catch.hpp>

#include "http/multipart_form.h"

using namespace vb;

namespace {

std::string boundary_of(const EncodedForm& form) {
  const std::string key = "boundary=";
  return form.content_type.substr(form.content_type.find(key) + key.size());
}

}  // namespace

TEST_CASE("multipart form: fields in order, typed parts, closing boundary", "[http]") {
  std::vector<FormPart> parts{{"prompt", "a paper boat\r\non a stream", "", ""},
                              {"seconds", "4", "", "text/plain"},
                              {"we\"ird\nname", "", "", ""}};
  EncodedForm form = encode_form(parts, 7);
  REQUIRE(form.content_type.rfind("multipart/form-data; boundary=", 0) == 0);
  const std::string b = boundary_of(form);
  CHECK(b.size() >= 27);
  CHECK(form.body == "--" + b +
                         "\r\n"
                         "Content-Disposition: form-data; name=\"prompt\"\r\n\r\n"
                         "a paper boat\r\non a stream\r\n"
                         "--" +
                         b +
                         "\r\n"
                         "Content-Disposition: form-data; name=\"seconds\"\r\n"
                         "Content-Type: text/plain\r\n\r\n"
                         "4\r\n"
                         "--" +
                         b +
                         "\r\n"
                         "Content-Disposition: form-data; name=\"we%22ird%0Aname\"\r\n\r\n"
                         "\r\n"
                         "--" +
                         b + "--\r\n");
}

TEST_CASE("multipart form: the seed varies the boundary, and no value contains it", "[http]") {
  std::vector<FormPart> parts{{"prompt", "x", "", ""}};
  const std::string first = boundary_of(encode_form(parts, 1));
  CHECK(boundary_of(encode_form(parts, 2)) != first);
  parts[0].value = "text that quotes " + first + " inside";
  const std::string other = boundary_of(encode_form(parts, 1));
  CHECK(other != first);
  CHECK(parts[0].value.find(other) == std::string::npos);
}

TEST_CASE("multipart form: parts naming files are not fields only", "[http]") {
  CHECK(fields_only({{"prompt", "x", "", ""}}));
  CHECK_FALSE(
      fields_only({{"prompt", "x", "", ""}, {"input_reference", "", "/tmp/a.png", "image/png"}}));
}
