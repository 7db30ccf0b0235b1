// Expansion of job entries into JobSpecs (internal to the manifest module):
// each prompt (the entry's own or a prompt file's rows) times each matrix
// combination times each variant. Checks what only the whole list can tell:
// ids unique, also ignoring letter case (a case-insensitive disk would write
// "Cat" and "cat" to one file); the job limit; parents that exist, are not
// the job itself and form no cycle; characters at the job's provider.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "manifest/manifest_entry.h"

namespace vb {

class JobExpander {
 public:
  JobExpander(DiagnosticSink& sink, const ManifestContext& context, std::vector<JobSpec>& jobs)
      : m_sink(sink), m_context(context), m_jobs(jobs) {}

  // Uses the entry up (moves its spec and prompts into the jobs).
  void expand(JobEntry& entry);
  // An entry with problems: only a plain id is registered (a made-up one
  // could not be trusted), so that a duplicate of it is still reported.
  void register_failed(const JobEntry& entry);
  // After the last entry: every parent exists and no chain of parents loops.
  void check_links();

 private:
  // The first job that used an id (keyed by the id in lower case).
  struct FirstUse {
    std::size_t job;
    std::uint32_t entry;
    int line;
    const ExternalFile* file;  // nullptr: the manifest
  };
  struct LinkSite {
    DiagnosticPlace at;
    std::string field;  // "jobs[3].remix_of"
  };
  struct Link {
    std::size_t job;
    std::size_t site;
  };
  // Per entry: problems that would repeat for every generated job are reported once.
  struct EntryReport {
    bool check_ids = false;  // the entry makes ids up: check each against the id rule
    bool id_rule = false;
    bool prompt_rule = false;
    bool characters = false;
    std::size_t duplicates = 0;
  };

  void expand_source(JobEntry& entry, PromptSource& source, bool last, EntryReport& report);
  void add_job(const JobEntry& entry, const PromptSource& source, JobSpec job, EntryReport& report);
  void register_id(const JobEntry& entry, const PromptSource& source, EntryReport& report);
  void check_characters(const JobEntry& entry, const JobSpec& job, EntryReport& report);
  std::string describe(const FirstUse& use) const;
  void report_cycle(std::size_t start, const std::vector<std::size_t>& parent_of);
  const Link* link_of(std::size_t job) const;

  DiagnosticSink& m_sink;
  const ManifestContext& m_context;
  std::vector<JobSpec>& m_jobs;
  std::unordered_map<std::string, FirstUse> m_ids;
  std::vector<LinkSite> m_sites;
  std::vector<Link> m_links;       // in job order
  std::size_t m_prompt_bytes = 0;  // of all jobs so far
  bool m_over_limit = false;       // reported once; nothing more is expanded
};

}  // namespace vb
