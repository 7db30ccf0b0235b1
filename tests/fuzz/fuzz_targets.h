// Fuzz targets: one function per parser that reads hostile text (manifests by
// people, config files, answers from third-party gateways). Each takes any
// bytes, must not crash, hang or trip a sanitizer, and returns the broken
// invariant as a message (empty when all is well).
//
// Shared by the libFuzzer entry points (fuzz_main.cpp, built by tools/fuzz with
// clang) and by the Catch2 regression test (tests/security/fuzz_regression_test.cpp),
// which replays every file in tests/fuzz/regressions/<target>/ and the seed corpus.
// Pure apart from the manifest's image existence checks; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vb::fuzz {

using Target = std::string (*)(std::string_view data);

struct NamedTarget {
  const char* name;  // also the folder name under corpus/ and regressions/
  Target run;
};

// manifest: parse_manifest + render every diagnostic; a valid manifest's jobs have
//   unique ids and output paths under the output root.
std::string manifest(std::string_view data);
// config: parse_config_text; a valid config's layout keeps files under the root.
std::string config(std::string_view data);
// provider_create / provider_query / provider_list / provider_content: the
//   OpenAiVideosProvider parsers on an HttpResponse (first byte picks the HTTP status).
std::string provider_create(std::string_view data);
std::string provider_query(std::string_view data);
std::string provider_list(std::string_view data);
std::string provider_content(std::string_view data);
// unified_create / unified_query: the UnifiedTaskProvider parsers (the gateways'
//   /video/create and /video/query answers), same byte convention and invariants as
//   provider_create / provider_query; a completed query always names a video URL.
std::string unified_create(std::string_view data);
std::string unified_query(std::string_view data);
// answer: parse_status_answer, parse_answer_id, find_video_url, parse_video_list,
//   error_message_from_body on the same body; progress in 0..100, URLs http(s), messages bounded.
std::string answer(std::string_view data);

const std::vector<NamedTarget>& all_targets();

}  // namespace vb::fuzz
