#include "provider/registry.h"

#include <algorithm>
#include <iterator>

#include "config/api_key.h"
#include "provider/chat_provider.h"
#include "provider/kling_jwt.h"
#include "provider/kling_provider.h"
#include "provider/minimax_provider.h"
#include "provider/openai_videos_provider.h"
#include "provider/seedance_provider.h"
#include "provider/unified_task_provider.h"
#include "provider/vidu_provider.h"
#include "provider/wan_provider.h"

namespace vb {

namespace {

template <typename Provider>
std::unique_ptr<VideoProvider> make(const ProviderConfig& config) {
  return std::make_unique<Provider>(config);
}

constexpr DialectEntry k_entries[] = {
    {Dialect::openai,
     "OpenAI video format: POST /videos, GET /videos/{id}, /content; listed",
     {{}, {}, "per account tier; 429 with Retry-After"},
     &make<OpenAiVideosProvider>},
    {Dialect::unified,
     "gateways' unified task format: POST /video/create, GET /video/query",
     {{}, {}, "the gateway's; 429"},
     &make<UnifiedTaskProvider>},
    {Dialect::kling,
     "Kling: POST /v1/videos/{text2video|image2video}, queried on the same path",
     {{}, {}, "per resource pack; 429 with code 1302 (rate) or 1303 (concurrency)"},
     &make<KlingProvider>},
    {Dialect::minimax,
     "MiniMax v1: POST /v1/video_generation, query, files/retrieve; errors in 200 bodies",
     {20.0, {}, "video RPM 5 (free) or 20 (paid); base_resp 1002"},
     &make<MiniMaxProvider>},
    {Dialect::wan,
     "Wan (DashScope): asynchronous video-synthesis, GET /api/v1/tasks/{id}; listed",
     {{}, {}, "per account and model, numbers unpublished; 429 Throttling.*"},
     &make<WanProvider>},
    {Dialect::vidu,
     "Vidu: POST /ent/v2/{text2video|img2video|start-end2video|reference2video}, Token; listed",
     {{}, 5, "5 tasks at once per organisation, the rest queue; 429 QuotaExceeded", true},
     &make<ViduProvider>},
    {Dialect::seedance,
     "Seedance (Ark): POST /contents/generations/tasks, content[]; listed",
     {600.0, 10, "RPM 600, 10 at once (pro; lite 300 / 5), the rest queue; 429 RateLimitExceeded",
      true},
     &make<SeedanceProvider>},
    {Dialect::chat,
     "gateways' chat completions for video: one open stream per video, no id, no listing",
     {{}, {}, "the gateway's; 429; an open stream holds a slot of its in-flight limit"},
     &make<ChatProvider>},
};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < std::size(k_entries); ++i) {
    if (static_cast<std::size_t>(k_entries[i].dialect) != i) {
      return false;
    }
  }
  return std::size(k_entries) == k_dialect_count;
}

static_assert(in_enum_order(), "k_entries: every Dialect once, in enum order");

}  // namespace

const DialectEntry& dialect_entry(Dialect dialect) {
  return k_entries[static_cast<std::size_t>(dialect)];
}

std::unique_ptr<VideoProvider> make_provider(const ProviderConfig& config) {
  return dialect_entry(config.dialect).make(config);
}

Config provider_config(const Config& config, const ProviderConfig& chosen) {
  Config out = config.for_provider(chosen);
  const DocumentedLimits& documented = dialect_entry(chosen.dialect).limits;
  if (!documented.binding) {
    return out;
  }
  if (!chosen.max_in_flight && documented.max_in_flight) {
    out.limits.max_in_flight = std::min(out.limits.max_in_flight, *documented.max_in_flight);
  }
  if (!chosen.submits_per_minute && documented.submits_per_minute) {
    out.limits.submits_per_minute =
        std::min(out.limits.submits_per_minute, *documented.submits_per_minute);
  }
  return out;
}

Result<std::unique_ptr<Credentials>> make_credentials(const ProviderConfig& config,
                                                      const EnvLookup& env) {
  if (config.auth != AuthScheme::kling_jwt) {
    auto key = VB_TRY(resolve_api_key(config, env));
    return static_credentials(config.auth == AuthScheme::token ? "Token" : "Bearer", key);
  }
  const std::string table = provider_table(config);
  auto access = VB_TRY(resolve_secret({"access key", table, "access_key_env", config.access_key_env,
                                       "access_key_file", config.access_key_file},
                                      env));
  auto secret = VB_TRY(resolve_secret({"secret key", table, "secret_key_env", config.secret_key_env,
                                       "secret_key_file", config.secret_key_file},
                                      env));
  return std::unique_ptr<Credentials>(std::make_unique<KlingJwt>(access, secret));
}

}  // namespace vb
