#include "config/api_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vb {

namespace {

// A key is a line of a few hundred bytes at most; anything bigger is not a key file.
constexpr off_t k_max_key_file_bytes = 64 * 1024;

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

}  // namespace

Result<std::string> read_api_key_file(const std::string& path) {
  return read_key_file(path, "API key", "provider.api_key_file");
}

Result<std::string> read_key_file(const std::string& path, const std::string& what,
                                  const std::string& key_path) {
  const std::string where = key_path + " " + path;
  const std::string the_file = "the " + what + " file";
  // Open first, then check what was opened (fstat): no window between check and read.
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
  if (file.fd < 0) {
    const int err = errno;
    return fail(err == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                "cannot open " + the_file + ": " + std::string(std::strerror(err)), where);
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) {
    return fail(ErrorCode::io, "cannot stat " + the_file + ": " + std::string(std::strerror(errno)),
                where);
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorCode::invalid_input, the_file + " is not a regular file", where);
  }
  if ((st.st_mode & 077) != 0) {
    return fail(ErrorCode::invalid_input,
                the_file + " " + path + " is readable by group or others (mode " +
                    octal_mode(st.st_mode) + "); refusing to use it. Run: chmod 600 " + path,
                where);
  }
  if (st.st_size > k_max_key_file_bytes) {
    return fail(ErrorCode::invalid_input,
                the_file + " is " + std::to_string(st.st_size) +
                    " bytes; a key file holds one line",
                where);
  }
  std::string content(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < content.size()) {
    const ssize_t n = ::read(file.fd, content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(ErrorCode::io,
                  "cannot read " + the_file + ": " + std::string(std::strerror(errno)), where);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  content.resize(got);
  std::string_view key(content);
  key = key.substr(0, key.find('\n'));
  while (!key.empty() && is_space(key.front())) {
    key.remove_prefix(1);
  }
  while (!key.empty() && is_space(key.back())) {
    key.remove_suffix(1);
  }
  if (key.empty()) {
    return fail(ErrorCode::invalid_input, the_file + " is empty; put the key on its first line",
                where);
  }
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      // Never echo the content: it is (almost) a key.
      return fail(ErrorCode::invalid_input,
                  "the first line of " + the_file + " contains control characters", where);
    }
  }
  return std::string(key);
}

Result<std::string> resolve_secret(const SecretSource& source, const EnvLookup& env) {
  if (auto key = source.env.empty() ? std::nullopt : env(source.env); key && !key->empty()) {
    for (const char c : *key) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        return fail(ErrorCode::invalid_input,
                    "the environment variable " + source.env + " contains control characters");
      }
    }
    return *key;
  }
  if (!source.file.empty()) {
    return read_key_file(source.file, source.what, source.table + "." + source.file_key);
  }
  return fail(ErrorCode::invalid_input,
              "no " + source.what + ": set the environment variable " + source.env + " (or name " +
                  "another one with " + source.table + "." + source.env_key + ", or a key file " +
                  "with " + source.table + "." + source.file_key + ", in the config)");
}

Result<std::string> resolve_api_key(const ProviderConfig& provider, const EnvLookup& env) {
  return resolve_secret({"API key", provider_table(provider), "api_key_env", provider.api_key_env,
                         "api_key_file", provider.api_key_file},
                        env);
}

std::string provider_table(const ProviderConfig& provider) {
  return provider.name == "default" ? "provider" : "providers." + provider.name;
}

}  // namespace vb
