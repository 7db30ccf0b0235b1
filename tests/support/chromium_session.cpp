#include "support/chromium_session.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace vidbatch::test {

namespace {

constexpr int k_answer_timeout_ms = 30000;

std::string find_chromium() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::size_t from = 0;
    while (from <= dirs.size()) {
      const std::size_t end = std::min(dirs.find(':', from), dirs.size());
      const std::string candidate = dirs.substr(from, end - from) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
      from = end + 1;
    }
  }
  throw std::runtime_error(
      "chromium is not installed (tools/bootstrap installs the Debian package)");
}

std::string to_text(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string json_string(const std::string& text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
  return {buffer.GetString(), buffer.GetSize()};
}

std::string base64_decode(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) {
    throw std::runtime_error("screenshot: bad base64");
  }
  std::size_t padding = 0;
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
    ++padding;
  }
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace

ChromiumSession::ChromiumSession(const std::string& url, int width, int height) {
  const std::string browser = find_chromium();
  std::string profile =
      (std::filesystem::temp_directory_path() / "vidbatch-chromium-XXXXXX").string();
  if (::mkdtemp(profile.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  m_profile = profile;
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  SubprocessOptions options;
  options.argv = {browser,
                  "--headless",
                  "--no-sandbox",
                  "--disable-gpu",
                  "--disable-dev-shm-usage",
                  "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update",
                  "--disable-sync",
                  "--disable-quic",
                  "--hide-scrollbars",
                  "--user-data-dir=" + m_profile,
                  "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                  "--remote-debugging-pipe",
                  "about:blank"};
  options.fds = {{to_child[0], 3}, {from_child[1], 4}};
  options.stdout_path = m_profile + "/chromium.out";
  options.stderr_path = m_profile + "/chromium.err";
  m_process = std::make_unique<Subprocess>(options);
  ::close(to_child[0]);
  ::close(from_child[1]);
  m_to_browser = to_child[1];
  m_from_browser = from_child[0];

  const auto target = call("Target.createTarget", "{\"url\":\"about:blank\"}", true);
  const std::string target_id = target["targetId"].GetString();
  const auto attached = call("Target.attachToTarget",
                             "{\"targetId\":" + json_string(target_id) + ",\"flatten\":true}",
                             true);
  m_session = attached["sessionId"].GetString();
  call("Runtime.enable", "{}");
  call("Log.enable", "{}");
  call("Page.enable", "{}");
  navigate(url);
}

ChromiumSession::~ChromiumSession() {
  if (m_to_browser >= 0) {
    const std::string close = "{\"id\":0,\"method\":\"Browser.close\"}";
    (void)!::write(m_to_browser, close.c_str(), close.size() + 1);
    ::close(m_to_browser);
  }
  if (m_process && !m_process->wait_for(std::chrono::seconds(5))) {
    m_process->send_signal(9);
    m_process->wait();
  }
  if (m_from_browser >= 0) {
    ::close(m_from_browser);
  }
  std::error_code ec;
  std::filesystem::remove_all(m_profile, ec);
}

bool ChromiumSession::read_message(rapidjson::Document& message, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const std::size_t end = m_buffer.find('\0');
    if (end != std::string::npos) {
      message.Parse(m_buffer.c_str(), end);
      m_buffer.erase(0, end + 1);
      if (message.HasParseError()) {
        throw std::runtime_error("chromium sent a message that is not JSON");
      }
      return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd ready{m_from_browser, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    char chunk[65536];
    const ssize_t n = ::read(m_from_browser, chunk, sizeof chunk);
    if (n <= 0) {
      throw std::runtime_error("chromium closed its DevTools pipe (see " + m_profile +
                               "/chromium.err)");
    }
    m_buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

void ChromiumSession::note_event(const rapidjson::Document& message) {
  const std::string method = message["method"].GetString();
  const auto& params = message["params"];
  if (method == "Page.loadEventFired") {
    m_loaded = true;
  } else if (method == "Runtime.exceptionThrown") {
    m_errors.push_back("exception: " + to_text(params["exceptionDetails"]));
  } else if (method == "Runtime.consoleAPICalled" &&
             std::string(params["type"].GetString()) == "error") {
    m_errors.push_back("console.error: " + to_text(params["args"]));
  } else if (method == "Log.entryAdded") {
    const auto& entry = params["entry"];
    if (std::string(entry["level"].GetString()) == "error") {
      m_errors.push_back("log: " + std::string(entry["text"].GetString()));
    }
  }
}

rapidjson::Document ChromiumSession::call(const std::string& method, const std::string& params_json,
                                          bool browser) {
  const int id = m_next_id++;
  std::string text = "{\"id\":" + std::to_string(id) + ",\"method\":" + json_string(method) +
                     ",\"params\":" + params_json;
  if (!browser) {
    text += ",\"sessionId\":" + json_string(m_session);
  }
  text += "}";
  text.push_back('\0');
  for (std::size_t sent = 0; sent < text.size();) {
    const ssize_t n = ::write(m_to_browser, text.data() + sent, text.size() - sent);
    if (n <= 0) {
      throw std::runtime_error("cannot write to chromium's DevTools pipe");
    }
    sent += static_cast<std::size_t>(n);
  }
  rapidjson::Document message;
  while (read_message(message, k_answer_timeout_ms)) {
    if (message.HasMember("method")) {
      note_event(message);
      continue;
    }
    if (!message.HasMember("id") || message["id"].GetInt() != id) {
      continue;
    }
    if (message.HasMember("error")) {
      throw std::runtime_error(method + ": " + to_text(message["error"]));
    }
    rapidjson::Document result;
    result.CopyFrom(message["result"], result.GetAllocator());
    return result;
  }
  throw std::runtime_error(method + ": no answer from chromium within 30 s");
}

std::string ChromiumSession::evaluate(const std::string& expression) {
  const auto result =
      call("Runtime.evaluate", "{\"expression\":" + json_string(expression) +
                                   ",\"returnByValue\":true,\"awaitPromise\":true}");
  if (result.HasMember("exceptionDetails")) {
    throw std::runtime_error("evaluate threw: " + to_text(result["exceptionDetails"]));
  }
  const auto& value = result["result"];
  return value.HasMember("value") ? to_text(value["value"]) : "null";
}

void ChromiumSession::navigate(const std::string& url) {
  m_loaded = false;
  call("Page.navigate", "{\"url\":" + json_string(url) + "}");
  rapidjson::Document message;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(k_answer_timeout_ms);
  while (!m_loaded) {
    if (std::chrono::steady_clock::now() >= deadline || !read_message(message, 1000)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        throw std::runtime_error("the page did not load within 30 s: " + url);
      }
      continue;
    }
    if (message.HasMember("method")) {
      note_event(message);
    }
  }
}

std::string ChromiumSession::screenshot_png() {
  const auto result = call("Page.captureScreenshot", "{\"format\":\"png\"}");
  return base64_decode(result["data"].GetString());
}

const std::vector<std::string>& ChromiumSession::console_errors() {
  rapidjson::Document message;
  while (read_message(message, 0)) {  // events that arrived since the last call
    if (message.HasMember("method")) {
      note_event(message);
    }
  }
  return m_errors;
}

}  // namespace vidbatch::test
