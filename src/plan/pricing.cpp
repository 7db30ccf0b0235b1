#include "plan/pricing.h"

#include <cctype>
#include <cmath>
#include <cstdio>

#include "provider/openai_videos_provider.h"

namespace vb {

namespace {

// "sora-2-pro-2025-10-06" -> "sora-2-pro"; nullopt when there is no "-YYYY-MM-DD" suffix.
std::optional<std::string_view> strip_date_suffix(std::string_view model) {
  constexpr std::string_view k_shape = "-dddd-dd-dd";
  if (model.size() <= k_shape.size()) {
    return std::nullopt;
  }
  std::string_view tail = model.substr(model.size() - k_shape.size());
  for (std::size_t i = 0; i < k_shape.size(); ++i) {
    bool digit = std::isdigit(static_cast<unsigned char>(tail[i])) != 0;
    if (k_shape[i] == 'd' ? !digit : tail[i] != '-') {
      return std::nullopt;
    }
  }
  return model.substr(0, model.size() - k_shape.size());
}

std::optional<double> lookup(const PriceTable& prices, std::string_view model,
                             std::string_view size) {
  auto m = prices.usd_per_second.find(model);
  if (m == prices.usd_per_second.end()) {
    return std::nullopt;
  }
  auto s = m->second.find(std::string(size));
  if (s == m->second.end()) {
    return std::nullopt;
  }
  return s->second;
}

}  // namespace

std::string priced_size(const JobSpec& spec) {
  // Prices are keyed by the OpenAI size for every dialect: a unified job's small/large
  // maps to the same WxH by orientation.
  return OpenAiVideosProvider::wire_size(spec);
}

std::optional<double> usd_per_second(const PriceTable& prices, std::string_view model,
                                     std::string_view size) {
  if (auto price = lookup(prices, model, size)) {
    return price;
  }
  if (auto base = strip_date_suffix(model)) {
    return lookup(prices, *base, size);
  }
  return std::nullopt;
}

std::optional<double> estimate_cost(const JobSpec& spec, const PriceTable& prices) {
  auto rate = usd_per_second(prices, spec.model, priced_size(spec));
  if (!rate) {
    return std::nullopt;
  }
  return *rate * spec.seconds;
}

std::string format_usd(std::optional<double> usd) {
  if (!usd) {
    return "unknown";
  }
  char text[48];
  std::snprintf(text, sizeof text, "$%.2f", std::round(*usd * 100.0) / 100.0);
  return text;
}

}  // namespace vb
