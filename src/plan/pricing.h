// Pricing: what one job is estimated to cost, from the configured price table
// (Config::prices, USD per second of video by model and provider size). The
// engine (budget), `vidbatch plan` and the reports all call estimate_cost, so
// every number vidbatch shows comes from one place. Pure; thread-safe.
//
// These are estimates from list prices, not the provider's bill: a failed or
// moderated video may or may not be billed, and prices change.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "job/job_spec.h"

namespace vb {

// The size the provider is sent for this spec ("small" landscape -> "1280x720").
std::string priced_size(const JobSpec& spec);

// USD per second for `model` at `size`. A dated snapshot ("sora-2-2025-10-06")
// falls back to its base model's entry when it has none of its own. nullopt when
// the table has no price for it.
std::optional<double> usd_per_second(const PriceTable& prices, std::string_view model,
                                     std::string_view size);

// seconds * usd_per_second(model, priced_size), or nullopt when unpriced.
std::optional<double> estimate_cost(const JobSpec& spec, const PriceTable& prices);

// "$1.20" (cents, rounded); "unknown" for nullopt.
std::string format_usd(std::optional<double> usd);

}  // namespace vb
