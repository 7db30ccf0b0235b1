#include "cli/cli_log.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <streambuf>

#include "store/job_json.h"

namespace vb {

namespace {

CliLog* g_active = nullptr;
constexpr std::size_t k_held_bytes = 64 * 1024;

}  // namespace

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

std::string format_json_event(const LogEvent& e, Millis ts) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  put_json_member(w, "ts", format_iso8601(ts));
  put_json_member(w, "level", to_string(e.level));
  put_json_member(w, "event", e.event);
  if (e.batch) {
    put_json_member(w, "batch", *e.batch);
  }
  if (e.job) {
    put_json_member(w, "job", *e.job);
  }
  if (e.from) {
    put_json_member(w, "from", to_string(*e.from));
  }
  if (e.to) {
    put_json_member(w, "to", to_string(*e.to));
  }
  put_json_member(w, "message", e.message);
  if (e.http_status != 0) {
    w.Key("http_status");
    w.Int(e.http_status);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

CliLog::CliLog(LogOptions options, std::FILE* out, bool terminal, const Clock& clock)
    : m_options(options),
      m_out(out),
      m_live(terminal && options.format == LogFormat::text && !options.quiet),
      m_clock(clock) {}

CliLog::~CliLog() {
  flush();
  end_live();
}

void CliLog::write(const LogEvent& event) {
  if (m_options.quiet && event.level != LogLevel::error) {
    return;
  }
  erase_block();  // the next draw() puts it back below this line
  std::string line = m_options.format == LogFormat::json
                         ? format_json_event(event, m_clock.now_ms())
                         : (event.text.empty() ? event.message : event.text);
  line += '\n';
  m_held += line;
  bool routine = event.event == "transition" && event.level == LogLevel::info;
  if (!routine || m_live || m_held.size() >= k_held_bytes) {
    flush();
  }
}

void CliLog::flush() {
  if (!m_held.empty()) {
    std::fwrite(m_held.data(), 1, m_held.size(), m_out);
    m_held.clear();
  }
  std::fflush(m_out);
}

void CliLog::erase_block() {
  if (m_block.empty()) {
    return;
  }
  std::string seq = "\r";
  if (m_block.size() > 1) {
    seq += "\x1b[" + std::to_string(m_block.size() - 1) + "A";
  }
  seq += "\x1b[J";
  std::fwrite(seq.data(), 1, seq.size(), m_out);
  m_block.clear();
}

void CliLog::draw(const std::vector<std::string>& lines) {
  if (!m_live || lines.empty()) {
    return;
  }
  erase_block();
  std::string text;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    text += (i == 0 ? "" : "\n") + lines[i];
  }
  std::fwrite(text.data(), 1, text.size(), m_out);
  std::fflush(m_out);
  m_block = lines;
}

void CliLog::end_live() {
  if (!m_block.empty()) {
    std::fputc('\n', m_out);
    std::fflush(m_out);
    m_block.clear();
  }
}

int CliLog::width() const {
  struct winsize size {};
  if (ioctl(fileno(m_out), TIOCGWINSZ, &size) == 0 && size.ws_col > 1) {
    return size.ws_col - 1;  // never the last column: some terminals wrap there
  }
  return 79;
}

bool on_terminal() {
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) && isatty(STDERR_FILENO) &&
         !(term != nullptr && std::strcmp(term, "dumb") == 0);
}

CliLog& cli_log() {
  static SystemClock clock;
  static CliLog plain(LogOptions{}, stderr, false, clock);
  return g_active != nullptr ? *g_active : plain;
}

// Collects what is written to std::cerr and hands each whole line to the log.
class CliLogScope::LineBuffer final : public std::streambuf {
 public:
  explicit LineBuffer(CliLog& log) : m_log(log) {}
  ~LineBuffer() override {
    if (!m_line.empty()) {
      emit();
    }
  }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) {
      return 0;
    }
    if (c == '\n') {
      emit();
    } else {
      m_line.push_back(static_cast<char>(c));
    }
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) {
      overflow(static_cast<unsigned char>(s[i]));
    }
    return n;
  }

 private:
  void emit() {
    LogEvent event;
    event.level = m_line.find("warning:") != std::string::npos ? LogLevel::warn : LogLevel::info;
    event.text = m_line;
    constexpr std::string_view k_prefix = "vidbatch: ";
    event.message = m_line.starts_with(k_prefix) ? m_line.substr(k_prefix.size()) : m_line;
    if (event.message.starts_with("warning: ")) {
      event.message.erase(0, 9);
    }
    m_line.clear();
    m_log.write(event);
  }

  CliLog& m_log;
  std::string m_line;
};

CliLogScope::CliLogScope(const LogOptions& options)
    : m_log(std::make_unique<CliLog>(options, stderr, on_terminal(), m_clock)),
      m_buffer(std::make_unique<LineBuffer>(*m_log)),
      m_previous(g_active) {
  g_active = m_log.get();
  m_saved = std::cerr.rdbuf(m_buffer.get());
}

CliLogScope::~CliLogScope() {
  std::cerr.rdbuf(m_saved);
  m_buffer.reset();  // emits a last unfinished line
  g_active = m_previous;
}

}  // namespace vb
