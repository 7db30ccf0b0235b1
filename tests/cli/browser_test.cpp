// [e2e][browser] The HTML report in a real browser: tools/render-report loads
// it in headless Chromium, which must log nothing to the console, show one card
// per job, and write a screenshot. Fails (never skips) when Chromium is missing
// and cannot be installed.
#include <catch2/catch.hpp>

#include <filesystem>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;
using vidbatch::test::Subprocess;
using vidbatch::test::SubprocessOptions;

TEST_CASE("the HTML report renders in headless Chromium without console errors", "[e2e][browser]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  const int jobs = 6;
  std::string manifest =
      folder.write_manifest("browser", jobs,
                            {{2, "A <script>alert('x')</script> & \\\"quoted\\\" prompt"},
                             {4, "Please [[fail]] this one"}});
  CommandResult run = folder.run({"run", manifest}, sim.base_url());
  INFO(run.err);
  REQUIRE(run.exit_code == 1);
  CommandResult report = folder.run({"report", "--format", "html", "--output", "report.html"});
  INFO(report.err);
  REQUIRE(report.exit_code == 0);

  SubprocessOptions options;
  options.argv = {std::string(VIDBATCH_SOURCE_DIR) + "/tools/render-report", "report.html",
                  "shot/report.png", "1280x1600"};
  options.cwd = folder.dir();
  options.stdout_path = folder.path("render.out");
  options.stderr_path = folder.path("render.err");
  Subprocess render(options);
  int code = render.wait();
  std::string err = read_file(folder.path("render.err"));
  INFO("render-report stderr:\n" << err);
  REQUIRE(code == 0);
  CHECK_THAT(read_file(folder.path("render.out")), Catch::Contains("6 card(s), no console errors"));
  // The DOM Chromium built: one card per job, the hostile prompt as text, not as a tag.
  std::string dom = read_file(folder.path("shot/report.png.dom.html"));
  std::size_t cards = 0;
  for (auto at = dom.find("<article class=\"card\""); at != std::string::npos;
       at = dom.find("<article class=\"card\"", at + 1)) {
    ++cards;
  }
  CHECK(cards == static_cast<std::size_t>(jobs));
  // Each of the 5 done videos shows its thumbnail (output.thumbnails) as the poster.
  std::size_t posters = 0;
  for (auto at = dom.find(" poster=\"out/browser/"); at != std::string::npos;
       at = dom.find(" poster=\"out/browser/", at + 1)) {
    ++posters;
  }
  CHECK(posters == static_cast<std::size_t>(jobs - 1));
  CHECK(dom.find("<script") == std::string::npos);
  CHECK_THAT(dom, Catch::Contains("&lt;script&gt;alert('x')&lt;/script&gt;"));
  CHECK(std::filesystem::file_size(folder.path("shot/report.png")) > 10000);
}
