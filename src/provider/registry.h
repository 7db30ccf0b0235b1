// The dialects vidbatch speaks: for each Dialect (config/config.h, which also holds its
// configuration defaults), the class that translates it, a line for the docs and `--help`,
// and its vendor's documented limits. Adding a dialect is a Dialect value with its defaults,
// one row here, and its class. Thread-safe (constant data).
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "config/config.h"
#include "provider/video_provider.h"

namespace vb {

// What the vendor documents about its limits; unset: nothing documented.
struct DocumentedLimits {
  std::optional<double> submits_per_minute;
  std::optional<int> max_in_flight;
  std::string_view source;  // where the number comes from, or how the limit shows instead
  // Whether the numbers bound a provider table that sets none of its own (provider_config);
  // false where they depend on the account's tier and only guide what a run learns.
  bool binding = false;
};

struct DialectEntry {
  Dialect dialect;
  std::string_view doc;  // one line: what it speaks
  DocumentedLimits limits;
  std::unique_ptr<VideoProvider> (*make)(const ProviderConfig& config);
};

const DialectEntry& dialect_entry(Dialect dialect);

// The provider class of config.dialect.
std::unique_ptr<VideoProvider> make_provider(const ProviderConfig& config);

// `config` as the run of `chosen` sees it (Config::for_provider), its limits bounded by the
// vendor's binding documented ones where the provider's table sets none of its own.
Config provider_config(const Config& config, const ProviderConfig& chosen);

// The provider's credentials per its auth scheme, its keys read from their variables or files
// (config/api_key.h). Fails naming the variable or file to set, never with a key's content.
Result<std::unique_ptr<Credentials>> make_credentials(const ProviderConfig& config,
                                                      const EnvLookup& env);

}  // namespace vb
