#include "provider/vendor_params.h"

#include <rapidjson/document.h>

#include <array>
#include <vector>

#include "util/text_util.h"

namespace vb {

namespace {

using T = ParamType;

constexpr ParamRule opt(std::string_view key, ParamType type, double min = 0, double max = 0,
                        std::string_view words = "", std::string_view section = "") {
  return {key, type, min, max, words, section};
}

// native-providers.md 1.2, 2.2, 3.2, 4.2, 5.2: the options a manifest may pass through.
constexpr std::array k_kling = {
    opt("negative_prompt", T::string),
    opt("cfg_scale", T::number, 0, 1),
    opt("mode", T::word, 0, 0, "std|pro"),
    opt("camera_control", T::table),
};
constexpr std::array k_minimax = {
    opt("prompt_optimizer", T::boolean),
    opt("fast_pretreatment", T::boolean),
};
constexpr std::array k_wan = {
    opt("negative_prompt", T::string, 0, 0, "", "input"),
    opt("prompt_extend", T::boolean, 0, 0, "", "parameters"),
    opt("shot_type", T::word, 0, 0, "single|multi", "parameters"),
    opt("audio", T::boolean, 0, 0, "", "parameters"),
    opt("seed", T::integer, 0, 2147483647, "", "parameters"),
};
constexpr std::array k_vidu = {
    opt("movement_amplitude", T::word, 0, 0, "auto|small|medium|large"),
    opt("style", T::word, 0, 0, "general|anime"),
    opt("seed", T::integer, 0, 2147483647),
    opt("bgm", T::boolean),
    opt("off_peak", T::boolean),
};
constexpr std::array k_seedance = {
    opt("seed", T::integer, -1, 2147483647),
    opt("camera_fixed", T::boolean),
    opt("generate_audio", T::boolean),
    opt("return_last_frame", T::boolean),
    opt("service_tier", T::word, 0, 0, "default|flex"),
    opt("execution_expires_after", T::integer, 3600, 259200),
    opt("draft", T::boolean),
};

const ParamRule* rule_of(Dialect dialect, std::string_view key) {
  for (const auto& rule : param_rules(dialect)) {
    if (rule.key == key) {
      return &rule;
    }
  }
  return nullptr;
}

std::string range(const ParamRule& rule) {
  const auto text = [](double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.ends_with('.')) {
      s.pop_back();
    }
    return s;
  };
  return rule.min == rule.max ? "" : " from " + text(rule.min) + " to " + text(rule.max);
}

// What is wrong with `value` for `rule`; "" when nothing.
std::string value_problem(const ParamRule& rule, const rapidjson::Value& value) {
  switch (rule.type) {
    case T::string:
      return value.IsString() ? "" : "expected text";
    case T::boolean:
      return value.IsBool() ? "" : "expected true or false";
    case T::table:
      return value.IsObject() ? "" : "expected a map of the vendor's fields";
    case T::word: {
      const std::string_view words = rule.words;
      if (value.IsString()) {
        const std::string_view given(value.GetString(), value.GetStringLength());
        for (std::size_t at = 0; at <= words.size();) {
          const std::size_t bar = std::min(words.find('|', at), words.size());
          if (words.substr(at, bar - at) == given) {
            return "";
          }
          at = bar + 1;
        }
      }
      std::string list(words);
      for (char& c : list) {
        c = c == '|' ? ',' : c;
      }
      return "expected one of " + list;
    }
    case T::number:
    case T::integer: {
      const bool integer = rule.type == T::integer;
      if (!value.IsNumber() || (integer && !value.IsInt64())) {
        return integer ? "expected an integer" + range(rule) : "expected a number" + range(rule);
      }
      const double v = value.GetDouble();
      if (rule.min != rule.max && (v < rule.min || v > rule.max)) {
        return std::string(integer ? "expected an integer" : "expected a number") + range(rule);
      }
      return "";
    }
  }
  return "";
}

}  // namespace

std::span<const ParamRule> param_rules(Dialect dialect) {
  switch (dialect) {
    case Dialect::kling:
      return k_kling;
    case Dialect::minimax:
      return k_minimax;
    case Dialect::wan:
      return k_wan;
    case Dialect::vidu:
      return k_vidu;
    case Dialect::seedance:
      return k_seedance;
    default:
      return {};
  }
}

std::optional<ParamProblem> check_params(Dialect dialect, const JobSpec& spec) {
  for (const auto& param : spec.params) {
    const SourceLocation at = param.location.line > 0 ? param.location : spec.location;
    const std::string field = "params." + param.key;
    const ParamRule* rule = rule_of(dialect, param.key);
    if (rule == nullptr) {
      const auto rules = param_rules(dialect);
      if (rules.empty()) {
        return ParamProblem{at, field + ": the " + std::string(to_string(dialect)) +
                                    " dialect takes no params; remove the key"};
      }
      std::vector<std::string_view> keys;
      std::string known;
      for (const auto& r : rules) {
        keys.push_back(r.key);
        known += (known.empty() ? "" : ", ") + std::string(r.key);
      }
      const auto near = closest_match(param.key, keys);
      return ParamProblem{at, field + ": " + std::string(to_string(dialect)) + " has no option '" +
                                  param.key + "'" + (near ? " (did you mean " + *near + "?)" : "") +
                                  "; it knows " + known};
    }
    rapidjson::Document value;
    value.Parse(param.json.c_str(), param.json.size());
    if (value.HasParseError()) {
      return ParamProblem{at, field + ": not a value the provider can be sent"};
    }
    if (auto problem = value_problem(*rule, value); !problem.empty()) {
      return ParamProblem{at, field + ": " + problem + ", got " + param.json.substr(0, 60)};
    }
  }
  return std::nullopt;
}

void write_params(rapidjson::Writer<rapidjson::StringBuffer>& w, Dialect dialect,
                  const JobSpec& spec, std::string_view section) {
  for (const auto& param : spec.params) {
    const ParamRule* rule = rule_of(dialect, param.key);
    if (rule != nullptr && rule->section == section) {
      w.Key(param.key.c_str(), static_cast<rapidjson::SizeType>(param.key.size()));
      w.RawValue(param.json.c_str(), param.json.size(), rapidjson::kObjectType);
    }
  }
}

bool has_param(const JobSpec& spec, std::string_view key) {
  for (const auto& param : spec.params) {
    if (param.key == key) {
      return true;
    }
  }
  return false;
}

}  // namespace vb
