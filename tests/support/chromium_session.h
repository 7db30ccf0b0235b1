// ChromiumSession: one headless Chromium tab driven over the DevTools protocol for the e2e
// browser tests, through --remote-debugging-pipe (JSON messages ending in '\0' on the child's
// descriptors 3 and 4: no port, no WebSocket). The page stays loaded between calls, so a test can
// watch it change over time (evaluate), take screenshots, and read the console errors it logged.
// Chromium is found on PATH (chromium, chromium-browser, google-chrome; tools/bootstrap installs
// it); a missing one throws, so the test fails rather than skips. One thread only.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <vector>

#include "support/subprocess.h"

namespace vidbatch::test {

class ChromiumSession {
 public:
  // Starts Chromium (window `width` x `height`) and opens `url` in a new tab.
  // Throws std::runtime_error when Chromium is missing or does not answer.
  ChromiumSession(const std::string& url, int width = 1280, int height = 1600);
  ~ChromiumSession();
  ChromiumSession(const ChromiumSession&) = delete;
  ChromiumSession& operator=(const ChromiumSession&) = delete;

  // Runs `expression` in the page (promises awaited) and returns its value as JSON text
  // ("null" for undefined). Throws when it threw in the page.
  std::string evaluate(const std::string& expression);
  // Navigates the tab to `url` and waits for its load event.
  void navigate(const std::string& url);
  // A PNG of the viewport.
  std::string screenshot_png();
  // Console messages of level error, uncaught exceptions and CSP refusals seen so far.
  const std::vector<std::string>& console_errors();

 private:
  // Sends a command (to the tab's session unless `browser`) and waits for its answer; events
  // read meanwhile are noted. Throws on a protocol error or after 30 s.
  rapidjson::Document call(const std::string& method, const std::string& params_json,
                           bool browser = false);
  bool read_message(rapidjson::Document& message, int timeout_ms);
  void note_event(const rapidjson::Document& message);

  std::string m_profile;
  int m_to_browser = -1;
  int m_from_browser = -1;
  std::unique_ptr<Subprocess> m_process;
  std::string m_buffer;
  std::string m_session;
  int m_next_id = 1;
  bool m_loaded = false;
  std::vector<std::string> m_errors;
};

}  // namespace vidbatch::test
