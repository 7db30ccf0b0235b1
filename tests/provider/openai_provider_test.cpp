// [provider] OpenAiVideosProvider: requests it builds and the rules it checks.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <string>

#include "provider/openai_videos_provider.h"
#include "provider/registry.h"

using namespace vb;

namespace {

ProviderConfig test_config() {
  ProviderConfig c;
  c.base_url = "https://api.test/v1";
  return c;
}

JobSpec spec(std::string model = "sora-2", int seconds = 8, std::string size = "small",
             Orientation o = Orientation::landscape) {
  JobSpec s;
  s.id = "cat";
  s.prompt = "A calico cat surfing";
  s.model = std::move(model);
  s.seconds = seconds;
  s.size = std::move(size);
  s.orientation = o;
  return s;
}

const FormPart* part(const HttpRequest& req, const std::string& name) {
  const FormPart* found = nullptr;
  for (const auto& p : req.form) {
    if (p.name == name) {
      REQUIRE(found == nullptr);  // each field once
      found = &p;
    }
  }
  return found;
}

std::optional<std::string> header(const HttpRequest& req, const std::string& name) {
  for (const auto& h : req.headers) {
    std::string lower = h.name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == name) return h.value;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("openai provider: create is multipart with seconds as a string", "[provider]") {
  OpenAiVideosProvider p(test_config());
  auto req = p.create_request(spec("sora-2", 8), {});
  REQUIRE(req.has_value());
  CHECK(req->method == "POST");
  CHECK(req->url == "https://api.test/v1/videos");
  CHECK(req->with_auth);
  CHECK(req->sink == nullptr);
  CHECK(req->body.empty());
  REQUIRE(req->form.size() == 4);
  const char* order[] = {"model", "prompt", "seconds", "size"};
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(req->form[i].name == order[i]);
    CHECK(req->form[i].file_path.empty());
  }
  CHECK(part(*req, "model")->value == "sora-2");
  CHECK(part(*req, "prompt")->value == "A calico cat surfing");
  CHECK(part(*req, "seconds")->value == "8");
  CHECK(part(*req, "size")->value == "1280x720");
  CHECK(part(*req, "input_reference") == nullptr);
}

TEST_CASE("openai provider: sizes by orientation, WxH passes through", "[provider]") {
  struct Case {
    const char* size;
    Orientation o;
    const char* wire;
  };
  const Case cases[] = {
      {"small", Orientation::landscape, "1280x720"},
      {"small", Orientation::portrait, "720x1280"},
      {"large", Orientation::landscape, "1792x1024"},
      {"large", Orientation::portrait, "1024x1792"},
      {"1024x1792", Orientation::landscape, "1024x1792"},
      {"640x480", Orientation::portrait, "640x480"},
  };
  OpenAiVideosProvider p(test_config());
  for (const Case& c : cases) {
    INFO(c.size << " " << to_string(c.o));
    JobSpec s = spec("sora-2-pro", 4, c.size, c.o);
    CHECK(OpenAiVideosProvider::wire_size(s) == c.wire);
    auto req = p.create_request(s, {});
    REQUIRE(req.has_value());
    REQUIRE(part(*req, "size") != nullptr);
    CHECK(part(*req, "size")->value == c.wire);
  }
}

TEST_CASE("openai provider: a local image is the input_reference file part", "[provider]") {
  OpenAiVideosProvider p(test_config());
  struct Case {
    const char* path;
    const char* type;
  };
  const Case cases[] = {{"/data/ref.png", "image/png"},
                        {"/data/REF.PNG", "image/png"},
                        {"/data/ref.webp", "image/webp"},
                        {"/data/ref.jpg", "image/jpeg"},
                        {"/data/ref.jpeg", "image/jpeg"}};
  for (const Case& c : cases) {
    INFO(c.path);
    JobSpec s = spec();
    s.images = {c.path};
    auto req = p.create_request(s, {});
    REQUIRE(req.has_value());
    CHECK(req->form.size() == 5);
    const FormPart* ref = part(*req, "input_reference");
    REQUIRE(ref != nullptr);
    CHECK(ref->file_path == c.path);
    CHECK(ref->value.empty());
    CHECK(ref->content_type == c.type);
    CHECK(req->with_auth);
  }
}

TEST_CASE("openai provider: an image URL goes as JSON input_reference.image_url", "[provider]") {
  OpenAiVideosProvider p(test_config());
  JobSpec s = spec("sora-2", 12, "small", Orientation::portrait);
  s.prompt = "quote \" and \\ backslash";
  s.images = {"https://cdn.example.com/ref.png?sig=a&b=c"};
  auto req = p.create_request(s, {});
  REQUIRE(req.has_value());
  CHECK(req->method == "POST");
  CHECK(req->url == "https://api.test/v1/videos");
  CHECK(req->with_auth);
  CHECK(req->form.empty());
  CHECK(header(*req, "content-type") == std::optional<std::string>("application/json"));
  rapidjson::Document doc;
  doc.Parse(req->body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["model"].GetString()) == "sora-2");
  CHECK(std::string(doc["prompt"].GetString()) == s.prompt);
  REQUIRE(doc["seconds"].IsString());
  CHECK(std::string(doc["seconds"].GetString()) == "12");
  CHECK(std::string(doc["size"].GetString()) == "720x1280");
  REQUIRE(doc["input_reference"].IsObject());
  CHECK(std::string(doc["input_reference"]["image_url"].GetString()) ==
        "https://cdn.example.com/ref.png?sig=a&b=c");
}

TEST_CASE("openai provider: query_request keeps ':' and escapes the rest", "[provider]") {
  OpenAiVideosProvider p(test_config());
  struct Case {
    const char* id;
    const char* url;
  };
  const Case cases[] = {
      {"video_696f83186d8081918eaaa290e816e1f6",
       "https://api.test/v1/videos/video_696f83186d8081918eaaa290e816e1f6"},
      {"sora-2:task_01k6x15vhrff09dkkqjrzwhm60",
       "https://api.test/v1/videos/sora-2:task_01k6x15vhrff09dkkqjrzwhm60"},
      {"a/b", "https://api.test/v1/videos/a%2Fb"},
      {"a b?c#d", "https://api.test/v1/videos/a%20b%3Fc%23d"},
      {"100%", "https://api.test/v1/videos/100%25"},
      {"../x", "https://api.test/v1/videos/..%2Fx"},
      {"id~v1.2@x", "https://api.test/v1/videos/id~v1.2@x"},
      {"\xC3\xA9", "https://api.test/v1/videos/%C3%A9"},
  };
  for (const Case& c : cases) {
    INFO(c.id);
    HttpRequest req = p.query_request({}, c.id);
    CHECK(req.method == "GET");
    CHECK(req.url == c.url);
    CHECK(req.with_auth);
    CHECK(req.form.empty());
  }
}

TEST_CASE("openai provider: download from the named URL, else the content route", "[provider]") {
  OpenAiVideosProvider p(test_config());
  RemoteStatus with_url;
  with_url.video_url = "https://cdn.example.com/v.mp4?sig=1";
  HttpRequest a = p.download_request("sora-2:task_1", with_url);
  CHECK(a.method == "GET");
  CHECK(a.url == "https://cdn.example.com/v.mp4?sig=1");

  HttpRequest b = p.download_request("sora-2:task_1", RemoteStatus{});
  CHECK(b.method == "GET");
  CHECK(b.url == "https://api.test/v1/videos/sora-2:task_1/content");
  CHECK(b.with_auth);
  CHECK(header(b, "accept") == std::optional<std::string>("application/binary"));
}

TEST_CASE("openai provider: check() rules", "[provider]") {
  OpenAiVideosProvider p(test_config());
  struct Case {
    JobSpec spec;
    const char* error;  // nullptr: accepted
  };
  JobSpec two_images = spec("sora-2", 8);
  two_images.images = {"/a.png", "/b.png"};
  JobSpec one_image = spec("sora-2", 8);
  one_image.images = {"https://x.test/a.png"};
  const Case cases[] = {
      {spec("sora-2", 4), nullptr},
      {spec("sora-2", 8), nullptr},
      {spec("sora-2", 12), nullptr},
      {spec("sora-2", 10), nullptr},
      {spec("sora-2", 15), nullptr},
      {spec("sora-2", 25), nullptr},
      {spec("sora-2", 5),
       "seconds: 5 is not offered for sora-2 (use 4, 8 or 12; 10, 15 or 25 on gateway routes)"},
      {spec("sora-2-pro", 7),
       "seconds: 7 is not offered for sora-2-pro (use 4, 8 or 12; 10, 15 or 25 on gateway routes)"},
      {spec("sora-2", 8, "large"),
       "size: 1792x1024 (large) needs sora-2-pro; use size: small with sora-2"},
      {spec("sora-2", 8, "large", Orientation::portrait),
       "size: 1024x1792 (large) needs sora-2-pro; use size: small with sora-2"},
      {spec("sora-2", 8, "1792x1024"),
       "size: 1792x1024 (large) needs sora-2-pro; use size: small with sora-2"},
      {spec("sora-2-pro", 8, "large"), nullptr},
      {spec("sora-2-pro", 8, "large", Orientation::portrait), nullptr},
      {two_images, "images: the OpenAI video format takes one reference image, got 2"},
      {one_image, nullptr},
      {spec("veo_3_1", 8), nullptr},
      {spec("veo_3_1", 5, "large"), nullptr},
  };
  for (const Case& c : cases) {
    INFO(c.spec.canonical_json());
    Status st = p.check(c.spec);
    if (c.error == nullptr) {
      CHECK(st.has_value());
    } else {
      REQUIRE_FALSE(st.has_value());
      CHECK(st.error().code == ErrorCode::invalid_input);
      CHECK(st.error().message == c.error);
    }
  }
}

TEST_CASE("openai provider: parse_create needs an id", "[provider]") {
  OpenAiVideosProvider p(test_config());
  HttpResponse r;
  r.status = 200;
  r.body =
      R"({"id":"video_123","object":"video","model":"sora-2","status":"queued","progress":0,"created_at":1712697600,"completed_at":null,"expires_at":null,"prompt":"A calico cat","size":"720x1280","seconds":"8","remixed_from_video_id":null,"error":null,"quality":"standard"})";
  auto a = p.parse_create(r);
  REQUIRE(a.has_value());
  CHECK(a->remote_id == "video_123");
  CHECK(a->status.phase == RemotePhase::queued);
  CHECK(a->status.raw_status == "queued");

  r.body = R"({"id":"sora-2:task_01k6x15vhrff09dkkqjrzwhm60"})";  // an id alone: accepted
  a = p.parse_create(r);
  REQUIRE(a.has_value());
  CHECK(a->remote_id == "sora-2:task_01k6x15vhrff09dkkqjrzwhm60");
  CHECK(a->status.phase == RemotePhase::queued);

  for (const char* body :
       {R"({"status":"queued"})", R"({"id":""})", R"({"id":42})", "[]", "<html>ok</html>", ""}) {
    INFO(body);
    r.body = body;
    auto bad = p.parse_create(r);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == ErrorCode::protocol);
  }
  r.body = R"({"id":")" + std::string(600, 'x') + R"("})";
  CHECK_FALSE(p.parse_create(r).has_value());
}

TEST_CASE("openai provider: parse_content_redirect", "[provider]") {
  OpenAiVideosProvider p(test_config());
  auto url = p.parse_content_redirect(R"({"url":"https://cdn.test/v.mp4"})");
  REQUIRE(url.has_value());
  CHECK(*url == "https://cdn.test/v.mp4");
  url = p.parse_content_redirect(
      R"({"video_url":"https://a.test/1.mp4","url":"https://b.test/2.mp4"})");
  REQUIRE(url.has_value());
  CHECK(*url == "https://a.test/1.mp4");
  url = p.parse_content_redirect(R"({"metadata":{"url":"http://c.test/3.mp4"}})");
  REQUIRE(url.has_value());
  CHECK(*url == "http://c.test/3.mp4");

  auto bad = p.parse_content_redirect(R"({"url":"file:///etc/passwd"})");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::protocol);
  CHECK(bad.error().message ==
        R"(the content answer is JSON without a video URL: {"url":"file:///etc/passwd"})");
  bad = p.parse_content_redirect(
      R"({"error":{"message":"Task is not completed yet, current status: processing","type":"invalid_request_error"}})");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message ==
        "the content answer is JSON without a video URL: Task is not completed yet, current "
        "status: processing");
  CHECK_FALSE(p.parse_content_redirect("not json").has_value());
}

TEST_CASE("openai provider: make_provider gives the openai dialect", "[provider]") {
  auto p = make_provider(test_config());
  REQUIRE(p != nullptr);
  CHECK(p->dialect() == Dialect::openai);
  CHECK(p->query_request({}, "v1").url == "https://api.test/v1/videos/v1");
}

TEST_CASE("openai provider: remix, edit and extend go to their routes with the parent's id",
          "[provider]") {
  OpenAiVideosProvider p(test_config());
  JobSpec s = spec("sora-2", 8);
  s.parent = "base";
  CreateContext context{"video_parent 1", {}, ""};

  s.derived = DerivedKind::remix;
  auto remix = p.create_request(s, context);
  REQUIRE(remix.has_value());
  CHECK(remix->url == "https://api.test/v1/videos/video_parent%201/remix");
  CHECK(remix->body == R"({"prompt":"A calico cat surfing"})");
  CHECK(header(*remix, "content-type") == "application/json");

  s.derived = DerivedKind::edit;
  auto edit = p.create_request(s, context);
  REQUIRE(edit.has_value());
  CHECK(edit->url == "https://api.test/v1/videos/edits");
  CHECK(edit->body == R"({"prompt":"A calico cat surfing","video":{"id":"video_parent 1"}})");

  s.derived = DerivedKind::extend;
  auto extend = p.create_request(s, context);
  REQUIRE(extend.has_value());
  CHECK(extend->url == "https://api.test/v1/videos/extensions");
  CHECK(extend->body ==
        R"({"prompt":"A calico cat surfing","video":{"id":"video_parent 1"},"seconds":"8"})");

  // Without the parent's video there is nothing to remix: an error, never a plain create.
  CHECK_FALSE(p.create_request(s, CreateContext{}).has_value());
  s.seconds = 10;
  CHECK_FALSE(p.check(s).has_value());  // extensions add 4, 8 or 12 seconds
}

TEST_CASE("openai provider: gateway fields and character ids travel with a create", "[provider]") {
  OpenAiVideosProvider p(test_config());
  JobSpec s = spec();
  s.character_url = "https://cdn.test/mascot.mp4";
  s.character_timestamps = "1,3";
  s.watermark = false;
  s.private_video = true;
  auto req = p.create_request(s, CreateContext{"", {"char_123", "char_456"}, ""});
  REQUIRE(req.has_value());
  REQUIRE(part(*req, "character_url") != nullptr);
  CHECK(part(*req, "character_url")->value == "https://cdn.test/mascot.mp4");
  CHECK(part(*req, "character_timestamps")->value == "1,3");
  CHECK(part(*req, "watermark")->value == "false");
  CHECK(part(*req, "private")->value == "true");
  int characters = 0;
  for (const auto& f : req->form) {
    if (f.name == "characters[][id]") {
      CHECK(f.value == (characters == 0 ? "char_123" : "char_456"));
      ++characters;
    }
  }
  CHECK(characters == 2);
}
