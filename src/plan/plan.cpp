#include "plan/plan.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <iomanip>

#include "plan/pricing.h"
#include "provider/registry.h"
#include "provider/vendor_params.h"

namespace vb {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void put_string(JsonWriter& w, const std::string& text) {
  w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
}

void put_optional(JsonWriter& w, std::optional<double> value) {
  if (value) {
    w.Double(std::round(*value * 10000.0) / 10000.0);
  } else {
    w.Null();
  }
}

// The prompt on one line, at most `width` characters (UTF-8 safe: cut at a lead byte).
std::string one_line(const std::string& text, std::size_t width) {
  std::string line;
  for (char c : text) {
    line += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  if (line.size() <= width) {
    return line;
  }
  std::size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return line.substr(0, cut) + "...";
}

void write_json(const Plan& plan, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("batch");
  put_string(w, plan.batch);
  w.Key("jobs");
  w.StartArray();
  for (const PlannedJob& job : plan.jobs) {
    w.StartObject();
    w.Key("id");
    put_string(w, job.spec.id);
    w.Key("model");
    put_string(w, job.spec.model);
    w.Key("size");
    put_string(w, job.size);
    w.Key("seconds");
    w.Int(job.spec.seconds);
    w.Key("prompt");
    put_string(w, job.spec.prompt);
    w.Key("cost_usd");
    put_optional(w, job.cost_usd);
    w.EndObject();
  }
  w.EndArray();
  w.Key("total_jobs");
  w.Int64(static_cast<std::int64_t>(plan.jobs.size()));
  w.Key("total_seconds");
  w.Int64(plan.total_seconds);
  w.Key("estimated_cost_usd");
  put_optional(w, plan.priced_cost_usd);
  w.Key("unpriced_jobs");
  w.Int(plan.unpriced_jobs);
  w.Key("budget_usd");
  put_optional(w, plan.budget_usd);
  w.EndObject();
  out.write(buffer.GetString(), static_cast<std::streamsize>(buffer.GetSize()));
  out << '\n';
}

void write_text(const Plan& plan, std::ostream& out) {
  std::size_t id_width = 2;
  std::size_t model_width = 5;
  for (const PlannedJob& job : plan.jobs) {
    id_width = std::max(id_width, job.spec.id.size());
    model_width = std::max(model_width, job.spec.model.size());
  }
  out << std::left << std::setw(static_cast<int>(id_width)) << "id"
      << "  " << std::setw(static_cast<int>(model_width)) << "model"
      << "  " << std::setw(9) << "size"
      << "  " << std::right << std::setw(4) << "secs"
      << "  " << std::setw(8) << "cost"
      << "  "
      << "prompt\n";
  for (const PlannedJob& job : plan.jobs) {
    out << std::left << std::setw(static_cast<int>(id_width)) << job.spec.id << "  "
        << std::setw(static_cast<int>(model_width)) << job.spec.model << "  " << std::setw(9)
        << job.size << "  " << std::right << std::setw(4) << job.spec.seconds << "  "
        << std::setw(8) << format_usd(job.cost_usd) << "  " << one_line(job.spec.prompt, 60)
        << '\n';
  }
  out << "\nbatch " << plan.batch << ": " << plan.jobs.size() << " job(s), " << plan.total_seconds
      << " s of video, estimated cost " << format_usd(plan.priced_cost_usd);
  if (plan.unpriced_jobs > 0) {
    out << " plus " << plan.unpriced_jobs << " job(s) with no price in the config's [prices]";
  }
  out << " (list prices; see [prices] in the config)\n";
  if (plan.budget_usd) {
    bool fits = plan.priced_cost_usd <= *plan.budget_usd;
    out << "budget " << format_usd(plan.budget_usd) << ": "
        << (fits ? "fits" : "NOT enough; the run would stop submitting before the end") << '\n';
  }
  out << "nothing was submitted (plan touches no ledger and no provider)\n";
}

}  // namespace

ProviderCatalog::ProviderCatalog(const Config& config) : m_config(config) {}

const ProviderCatalog::Entry* ProviderCatalog::find(const std::string& name) {
  const std::string& key = name.empty() ? m_config.default_provider : name;
  if (auto it = m_entries.find(key); it != m_entries.end()) {
    return &it->second;
  }
  const ProviderConfig* chosen = m_config.find_provider(key);
  if (chosen == nullptr) {
    return nullptr;
  }
  Entry entry{provider_config(m_config, *chosen), make_provider(*chosen)};
  return &m_entries.emplace(key, std::move(entry)).first->second;
}

std::string ProviderCatalog::known_names() const {
  std::string names = "\"default\" ([provider])";
  for (const auto& p : m_config.providers) {
    names += ", \"" + p.name + "\"";
  }
  return names;
}

namespace {

// The provider-independent rules: the provider exists, and a derived job
// stays with its parent's provider (remote ids mean nothing elsewhere).
std::string check_placement(const Manifest& manifest, const JobSpec& spec,
                            ProviderCatalog& catalog) {
  if (catalog.find(spec.provider) == nullptr) {
    return "provider: no provider named \"" + spec.provider +
           "\" in the config; known: " + catalog.known_names();
  }
  for (const auto& name : spec.characters) {
    const auto character = std::find_if(manifest.characters.begin(), manifest.characters.end(),
                                        [&](const CharacterSpec& c) { return c.name == name; });
    if (character != manifest.characters.end() &&
        catalog.find(character->provider) != catalog.find(spec.provider)) {
      return "characters: '" + name +
             "' is created by another provider than this job's; a "
             "character id is only valid at the provider that made it";
    }
  }
  if (spec.derived == DerivedKind::none) {
    return "";
  }
  const auto parent = std::find_if(manifest.jobs.begin(), manifest.jobs.end(),
                                   [&](const JobSpec& j) { return j.id == spec.parent; });
  if (parent != manifest.jobs.end() &&
      catalog.find(parent->provider) != catalog.find(spec.provider)) {
    return std::string(to_string(spec.derived)) + ": the parent '" + spec.parent +
           "' runs on another provider; a derived job must use its parent's provider";
  }
  return "";
}

}  // namespace

Status check_jobs(const Manifest& manifest, const Config& config) {
  ProviderCatalog catalog(config);
  std::string problems;
  for (std::size_t i = 0; i < manifest.jobs.size(); ++i) {
    const JobSpec& spec = manifest.jobs[i];
    std::string problem = check_placement(manifest, spec, catalog);
    const auto* entry = problem.empty() ? catalog.find(spec.provider) : nullptr;
    // A vendor option is reported where it is written.
    if (const auto param = entry ? check_params(entry->dialect->dialect(), spec) : std::nullopt) {
      problems += (problems.empty() ? "" : "\n") + param->location.describe() + ": jobs[" +
                  std::to_string(i) + "]." + param->message + " (provider \"" +
                  entry->config.provider.name + "\")";
      continue;
    }
    if (problem.empty() && !spec.reference_images.empty() &&
        !entry->dialect->takes_reference_images()) {
      problem = std::string("reference_images: dialect ") + to_string(entry->dialect->dialect()) +
                " has no reference-to-video route (vidu has); give first and last frames as "
                "'images', or run the job on a vidu provider (provider \"" +
                entry->config.provider.name + "\")";
    }
    if (problem.empty()) {
      if (auto status = entry->dialect->check(spec); !status) {
        problem = status.error().message + " (provider \"" + entry->config.provider.name +
                  "\", dialect " + to_string(entry->dialect->dialect()) + ")";
      }
    }
    if (!problem.empty()) {
      problems += (problems.empty() ? "" : "\n") + spec.location.describe() + ": jobs[" +
                  std::to_string(i) + "]." + problem;
    }
  }
  if (!problems.empty()) {
    return fail(ErrorCode::invalid_input,
                "the configured providers cannot run these jobs:\n" + problems);
  }
  return {};
}

Result<Plan> make_plan(const Manifest& manifest, const Config& config) {
  VB_TRY(check_jobs(manifest, config));
  ProviderCatalog catalog(config);
  Plan plan;
  plan.batch = manifest.batch;
  plan.budget_usd = config.budget_usd;
  for (const JobSpec& spec : manifest.jobs) {
    const auto& prices = catalog.find(spec.provider)->config.prices;
    PlannedJob job{spec, priced_size(spec), estimate_cost(spec, prices)};
    plan.total_seconds += spec.seconds;
    if (job.cost_usd) {
      plan.priced_cost_usd += *job.cost_usd;
    } else {
      plan.unpriced_jobs += 1;
    }
    plan.jobs.push_back(std::move(job));
  }
  return plan;
}

void write_plan(const Plan& plan, bool json, std::ostream& out) {
  if (json) {
    write_json(plan, out);
  } else {
    write_text(plan, out);
  }
  out.flush();
}

}  // namespace vb
