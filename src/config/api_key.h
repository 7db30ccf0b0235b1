// API key resolution: where the bearer token comes from, and the checks that
// keep it a secret. The key is only ever returned, never logged or put into an
// Error message (messages name the variable or the file, not the content).
//
// Precedence: the environment variable provider.api_key_env when it is set and
// non-empty, else the file provider.api_key_file. The file must be a regular
// file that neither group nor others can read ((st_mode & 077) == 0, i.e.
// chmod 600 or 400); its first line, trimmed of whitespace, is the key.
// Thread-safe (reads the environment through EnvLookup and the file system).
#pragma once

#include <string>

#include "config/config.h"
#include "util/error.h"

namespace vb {

// Where one secret comes from: a variable, else a file. Messages name `table`.`env_key` and
// `table`.`file_key` ("providers.kling.access_key_env").
struct SecretSource {
  std::string what;   // "API key", "access key", "secret key"
  std::string table;  // "provider", "providers.kling"
  std::string env_key;
  std::string env;  // the variable's name; "" = none
  std::string file_key;
  std::string file;
};

// The secret, checked as the API key below.
Result<std::string> resolve_secret(const SecretSource& source, const EnvLookup& env);

// "provider" for the default provider, else "providers.NAME": where its keys are in the config.
std::string provider_table(const ProviderConfig& provider);

// The key, or ErrorCode::invalid_input naming the variable/file and the fix
// (no key anywhere, file readable by others, empty, control characters, too big),
// or ErrorCode::not_found / io when the file cannot be opened.
Result<std::string> resolve_api_key(const ProviderConfig& provider, const EnvLookup& env);

// Reads and checks a key file as described above.
Result<std::string> read_api_key_file(const std::string& path);
// The same for any key (`what`: "secret key"; `key_path`: the config key naming the file).
Result<std::string> read_key_file(const std::string& path, const std::string& what,
                                  const std::string& key_path);

}  // namespace vb
