// [e2e][probe] The simulator's videos, downloaded over HTTP and probed from disk: honest ones
// match their request on both API shapes, each dishonesty marker produces its mismatch, and
// Range slices still splice back into the same file.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "manifest/manifest_test_util.h"
#include "probe/verify_rules.h"
#include "probe/video_probe.h"
#include "support/sim_process.h"
#include "support/test_http.h"

using namespace vb;
using vb::manifest_test::TempDir;
using vidbatch::test::http_get;
using vidbatch::test::http_send;
using vidbatch::test::HttpRequest;
using vidbatch::test::SimProcess;

namespace {

const std::string k_auth = "Authorization: Bearer sk-test";

std::string field(const std::string& json, const char* name) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE((doc.IsObject() && doc.HasMember(name) && doc[name].IsString()));
  return doc[name].GetString();
}

// POST /v1/videos (OpenAI format); returns the id.
std::string create_openai(const SimProcess& sim, const std::string& prompt,
                          const std::string& seconds, const std::string& size) {
  HttpRequest request;
  request.method = "POST";
  request.url = sim.base_url() + "/videos";
  request.headers = {k_auth};
  request.form = {{"model", "sora-2-pro"},
                  {"prompt", prompt},
                  {"seconds", seconds},
                  {"size", size}};
  const auto answer = http_send(request);
  REQUIRE(answer.status == 200);
  return field(answer.body, "id");
}

// POST /v1/video/create (the gateways' unified format); returns the id.
std::string create_unified(const SimProcess& sim, const std::string& prompt, int duration,
                           const std::string& orientation, const std::string& size) {
  HttpRequest request;
  request.method = "POST";
  request.url = sim.base_url() + "/video/create";
  request.headers = {k_auth, "Content-Type: application/json"};
  request.body = R"({"model":"sora-2-pro","prompt":")" + prompt +
                 R"(","images":[],"orientation":")" + orientation + R"(","size":")" + size +
                 R"(","duration":)" + std::to_string(duration) + "}";
  const auto answer = http_send(request);
  REQUIRE(answer.status == 200);
  return field(answer.body, "id");
}

// Waits for completion, downloads /videos/{id}/content into `dir`, returns the file's path.
std::string download(const SimProcess& sim, const std::string& id, const TempDir& dir) {
  const std::string url = sim.base_url() + "/videos/" + id + "/content";
  for (int i = 0; i < 200; ++i) {
    const auto answer = http_get(url, {k_auth});
    if (answer.status == 200) {
      return dir.write(id + ".mp4", answer.body).string();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  FAIL("video " << id << " never completed");
  return {};
}

}  // namespace

TEST_CASE("sim videos: honest ones match, each marker makes its mismatch", "[e2e][probe]") {
  SimProcess sim({"--gen-ms", "50", "--video-bytes", "65536"});
  TempDir dir;
  struct Case {
    const char* prompt;
    const char* seconds;
    const char* size;
    const char* codes;
  };
  const std::vector<Case> cases = {
      {"a fox", "8", "1280x720", ""},
      {"a fox", "4", "720x1280", ""},
      {"a fox", "12", "1792x1024", ""},
      {"a fox [[short]]", "8", "1280x720", "duration_short"},
      {"a fox [[small]]", "8", "1024x1792", "resolution_mismatch"},
      {"a fox [[silent]]", "4", "720x1280", "no_audio"},
      {"a fox [[short]] [[small]] [[silent]]", "12", "1280x720",
       "duration_short,resolution_mismatch,no_audio"},
      {"a fox [[garbage]]", "8", "1280x720", "not_a_video"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.prompt, c.seconds, c.size);
    const std::string path = download(sim, create_openai(sim, c.prompt, c.seconds, c.size), dir);
    const auto probe = probe_video(path);
    Expectation expected = expectation_for(std::stoi(c.seconds), Orientation::landscape, c.size);
    expected.audio = true;  // Sora 2 videos have sound
    CHECK(verify(expected, probe).codes() == c.codes);
    if (probe) {
      CHECK(probe->file_bytes == 65536);
      CHECK(probe->video_codec == "h264");
    }
  }
}

TEST_CASE("sim videos: the unified format's sizes and a short one", "[e2e][probe]") {
  SimProcess sim({"--gen-ms", "50", "--video-bytes", "300000"});
  TempDir dir;
  struct Case {
    const char* prompt;
    int duration;
    Orientation orientation;
    const char* size;
    const char* codes;
  };
  const std::vector<Case> cases = {
      {"an owl", 10, Orientation::portrait, "small", ""},
      {"an owl", 15, Orientation::landscape, "large", ""},
      {"an owl", 25, Orientation::portrait, "large", ""},
      {"an owl [[short]]", 15, Orientation::portrait, "small", "duration_short"},
      {"an owl [[small]]", 10, Orientation::portrait, "small", "resolution_mismatch"},
      {"an owl [[small]]", 15, Orientation::landscape, "large", "resolution_mismatch"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.prompt, c.duration, c.size);
    const std::string id =
        create_unified(sim, c.prompt, c.duration, to_string(c.orientation), c.size);
    const auto probe = probe_video(download(sim, id, dir));
    REQUIRE(probe);
    CHECK(probe->duration_ms > 0);
    CHECK(compare(expectation_for(c.duration, c.orientation, c.size), *probe).codes() == c.codes);
  }
}

TEST_CASE("sim videos: a Range resume splices into the same playable file", "[e2e][probe]") {
  SimProcess sim({"--gen-ms", "50", "--video-bytes", "100000"});
  TempDir dir;
  const std::string id = create_openai(sim, "a heron", "4", "1280x720");
  const std::string whole = download(sim, id, dir);
  const std::string url = sim.base_url() + "/videos/" + id + "/content";
  const auto head = http_get(url, {k_auth, "Range: bytes=0-4999"});
  const auto tail = http_get(url, {k_auth, "Range: bytes=5000-"});
  REQUIRE(head.status == 206);
  REQUIRE(tail.status == 206);
  const std::string spliced = dir.write("spliced.mp4", head.body + tail.body).string();
  const auto probe = probe_video(spliced);
  REQUIRE(probe);
  CHECK_FALSE(probe->truncated());
  CHECK(probe->width == 1280);
  CHECK(probe->duration_ms == 4000);
  // The first half alone, saved as if the download ended there: it reads, and shows the cut.
  const auto cut = probe_video(dir.write("cut.mp4", head.body).string());
  REQUIRE(cut);
  CHECK(cut->truncated());
  CHECK(probe_video(whole)->declared_bytes == 100000);
}
