// Config: every setting of a run, resolved once and then treated as const.
//
// Precedence, highest first: command-line flag > environment > config file
// (TOML) > built-in default. config/vidbatch.toml documents every key.
// A bad key or value fails with ErrorCode::invalid_input naming its TOML path
// and line ("vidbatch.toml:12:1: limits.max_in_flight: expected a positive integer").
// Value types; load_config is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"
#include "util/error.h"

namespace vb {

// USD per second of generated video, by model, then by the size the provider is
// sent ("1280x720"). Third-party list prices: a [prices] table in the config
// adds to or overrides these defaults entry by entry (see config/vidbatch.toml).
struct PriceTable {
  std::map<std::string, std::map<std::string, double>, std::less<>> usd_per_second;
};

// Settings that take one of a few words, parsed once (config_rules.cpp names the words).
enum class JobTimeoutAction { fail, poll };           // limits.on_job_timeout
enum class AmbiguousPolicy { hold, resubmit, fail };  // retry.ambiguous_policy
enum class Checksum { sha256, none };                 // output.checksum
enum class VideoVerify { off, warn, fail };           // output.verify
enum class StoreSync { off, normal, full };           // store.sync (SQLite synchronous)

// A provider's wire format: one value per dialect, the same list everywhere. Its words and its
// configuration defaults are dialect_defaults() below; what a provider of it does is in
// provider/registry.h.
enum class Dialect { openai, unified, kling, minimax, wan, vidu, seedance, chat };
inline constexpr std::size_t k_dialect_count = static_cast<std::size_t>(Dialect::chat) + 1;
// How the provider's key is sent: `Authorization: Bearer KEY` (OpenAI, MiniMax, every gateway),
// a Kling JWT signed from an access key and a secret key (as a bearer token), or
// `Authorization: Token KEY`.
enum class AuthScheme { bearer, kling_jwt, token };

// The word each value is written as in the config file.
const char* to_string(Dialect v);
const char* to_string(AuthScheme v);
const char* to_string(JobTimeoutAction v);
const char* to_string(AmbiguousPolicy v);
const char* to_string(Checksum v);
const char* to_string(VideoVerify v);
const char* to_string(StoreSync v);

// What a provider table gets for the keys it leaves out, per dialect.
struct DialectDefaults {
  Dialect dialect;
  std::string_view name;            // the word in the config file
  AuthScheme auth;                  // the vendor's own scheme
  std::string_view base_url;        // the vendor's address; "" = none: a table must name one
  std::string_view api_key_env;     // "" = none: a table using a key must name its variable
  std::string_view access_key_env;  // kling-jwt
  std::string_view secret_key_env;
};
// Every dialect, in enum order: the one list of their names.
std::span<const DialectDefaults> dialect_defaults();
const DialectDefaults& defaults_of(Dialect dialect);

// One provider: the [provider] table (named "default") or a [providers.NAME] table.
struct ProviderConfig {
  std::string name = "default";
  Dialect dialect = Dialect::openai;
  std::string base_url = "https://api.openai.com/v1";
  AuthScheme auth = AuthScheme::bearer;        // unset in the file: the dialect's own
  std::string api_key_env = "OPENAI_API_KEY";  // name of the variable holding the key
  // A file whose first line is the key, used when the variable is unset or empty
  // (config/api_key.h). Relative paths are resolved against the config file's folder.
  std::string api_key_file;
  // kling-jwt: the access key (the token's issuer) and the secret key it is signed with,
  // each from a variable or a file like the API key.
  std::string access_key_env;
  std::string access_key_file;
  std::string secret_key_env;
  std::string secret_key_file;
  // This provider's own rate control; unset: the [limits] value.
  std::optional<int> max_in_flight;
  std::optional<double> submits_per_minute;  // k_rate_auto: "auto"
  std::optional<double> polls_per_second;
  PriceTable prices;  // entries that add to or replace Config::prices for this provider
};

// limits.submits_per_minute = "auto": the create rate is learnt while running (engine/).
inline constexpr double k_rate_auto = 0;

struct LimitsConfig {
  int max_in_flight = 8;  // jobs at the provider (submitting/submitted/running): a cap
                          // on what is learnt from its refusals
  double submits_per_minute = k_rate_auto;  // token bucket on creates; a number pins it
  double polls_per_second = 5;              // global cap on status queries
  Millis poll_interval_ms = 5000;           // first poll this long after submit, then per job
  Millis poll_interval_max_ms = 30000;      // per-job back-off ceiling
  int max_downloads = 4;                    // concurrent downloads
  bool poll_by_listing = true;       // learn "still running" from GET /videos pages where listed
  Millis job_timeout_ms = 10800000;  // a job at the provider longer than this is stuck
  JobTimeoutAction on_job_timeout = JobTimeoutAction::fail;  // fail (reason timeout) or poll (warn)
};

struct RetryConfig {
  int submit_attempts = 5;  // refused create requests (no video started) per job
  int poll_attempts = 10;   // consecutive failed polls before giving up on a job
  int download_attempts = 5;
  Millis base_delay_ms = 500;
  Millis max_delay_ms = 30000;
  // A job gives up a phase only after its attempts AND this long of failing (rate limits and
  // "overloaded" answers never count): a provider's bad quarter of an hour fails no job.
  Millis give_up_after_ms = 900000;
  // Ambiguous creates (answer lost). Where the dialect can list videos they are
  // reconciled; a create younger than this may still be in process at the provider.
  Millis ambiguous_settle_ms = 60000;
  // Where the dialect cannot list: "hold" (wait for `vidbatch resolve`), "resubmit", "fail".
  AmbiguousPolicy ambiguous_policy = AmbiguousPolicy::hold;
};

struct OutputConfig {
  std::string root = "out";
  std::string layout = "{batch}/{id}.mp4";  // placeholders: {batch} {id}
  bool thumbnails = true;  // fetch the dialect's thumbnail next to each video, when it has one
  bool sidecars = true;    // write <name>.json (the job's ledger data) next to each video
  Checksum checksum = Checksum::sha256;  // of every video as written, or none
  // Each video's headers against its request: off, warn (recorded, the job is done) or fail
  // (the job fails with verify_mismatch; never regenerated on its own).
  VideoVerify verify = VideoVerify::warn;
};

struct HttpConfig {
  Millis connect_timeout_ms = 10000;
  Millis request_timeout_ms = 60000;  // create and query
  Millis download_timeout_ms = 600000;
  Millis low_speed_time_ms = 30000;  // abort a download slower than 1 KiB/s for this long
};

// The OpenAI list prices of 2026 (docs/wire-formats.md, "Prices"): sora-2 720p 0.10,
// sora-2-pro 720p 0.30, sora-2-pro 1024x1792 / 1792x1024 0.50.
PriceTable default_prices();

struct Config {
  ProviderConfig provider;                   // [provider]: the provider named "default"
  std::vector<ProviderConfig> providers;     // [providers.NAME] tables, in file order
  std::string default_provider = "default";  // [providers] default = "NAME"
  LimitsConfig limits;
  PriceTable prices = default_prices();
  // Submissions stop before the estimated cost of the jobs submitted by the
  // ledger would pass this many USD ([limits] budget_usd, --budget). None: no limit.
  std::optional<double> budget_usd;
  RetryConfig retry;
  OutputConfig output;
  HttpConfig http;
  std::string db_path = "vidbatch.db";
  StoreSync sync = StoreSync::full;  // SQLite synchronous
  // A worker not heard from for this long is declared dead and its jobs go to the others.
  Millis worker_ttl_ms = 30000;
  std::string config_path;  // the file that was read, empty if none

  // The provider called `name` ("" = the default provider), or null.
  const ProviderConfig* find_provider(std::string_view name) const;
  // This configuration as seen by one provider's run: `provider` is that one,
  // its own limits replace [limits], its prices add to [prices]. The vendor's documented caps
  // are applied on top by provider_config (provider/registry.h).
  Config for_provider(const ProviderConfig& chosen) const;
};

// Values given on the command line; unset ones fall through to the next layer.
struct ConfigOverrides {
  std::optional<std::string> config_path;  // --config; else ./vidbatch.toml if it exists
  std::optional<std::string> db_path;      // --db
  std::optional<std::string> out_dir;      // --out
  std::optional<std::string> base_url;     // --base-url
  std::optional<int> concurrency;          // --concurrency (limits.max_in_flight)
  std::optional<double> budget_usd;        // --budget (limits.budget_usd)
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
EnvLookup process_env();

// Environment variables read: OPENAI_BASE_URL (provider.base_url).
// A --config path that does not exist is an error; a missing ./vidbatch.toml is not.
Result<Config> load_config(const ConfigOverrides& overrides, const EnvLookup& env);

// Parses TOML text as if read from `file_name`, on top of the defaults.
Result<Config> parse_config_text(const std::string& text, const std::string& file_name);

}  // namespace vb
