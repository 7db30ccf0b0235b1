// schema/manifest.schema.json against the manifest loader: the schema names
// exactly the keys the loader accepts at each level, every shipped example
// validates, the bad examples a schema can see are rejected, and on a table of
// small manifests the schema and the loader agree (the rules only the loader
// can check are pinned as such).
#include <catch2/catch.hpp>

// RapidJSON's own regex engine lacks \x escapes and silently drops a pattern
// it cannot compile; std::regex (ECMAScript) reads what JSON Schema patterns
// are written for. Defining this to 0 makes schema.h pick std::regex.
#define RAPIDJSON_SCHEMA_USE_INTERNALREGEX 0
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#if !RAPIDJSON_SCHEMA_USE_STDREGEX
#error "the schema test needs RapidJSON's std::regex patterns"
#endif
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/manifest.h"
#include "manifest/manifest_keys.h"
#include "manifest_test_util.h"

namespace vb {
namespace {

using manifest_test::TempDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Calls `visit(name, value)` for every member of every object under `value`.
void for_each_member(const rapidjson::Value& value,
                     const std::function<void(std::string_view, const rapidjson::Value&)>& visit) {
  if (value.IsObject()) {
    for (const auto& member : value.GetObject()) {
      visit(member.name.GetString(), member.value);
      for_each_member(member.value, visit);
    }
  } else if (value.IsArray()) {
    for (const auto& item : value.GetArray()) {
      for_each_member(item, visit);
    }
  }
}

// The schema spelled for RapidJSON (prepare_for_rapidjson), and RapidJSON's
// compiled form of it.
struct LoadedSchema {
  rapidjson::Document prepared;
  std::unique_ptr<rapidjson::SchemaDocument> compiled;
};

// ASCII other than letters, digits and '_' escaped for a regex.
std::string regex_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = std::isalnum(byte) != 0 || c == '_' || byte >= 0x80;
    out += plain ? std::string(1, c) : std::string("\\") + c;
  }
  return out;
}

// RapidJSON 1.1.0 mishandles `additionalProperties: false` next to
// `patternProperties` (a failed assertion; under NDEBUG, wrong verdicts). The
// same rule in a form it handles: one more pattern property, matching every
// name that no pattern and no listed property matches, whose schema accepts
// nothing.
void close_by_pattern(rapidjson::Value& object_schema,
                      rapidjson::Document::AllocatorType& allocator) {
  std::string known;
  for (const auto& pattern : object_schema["patternProperties"].GetObject()) {
    known +=
        (known.empty() ? "" : "|") + std::string("[\\s\\S]*?(?:") + pattern.name.GetString() + ")";
  }
  if (object_schema.HasMember("properties")) {
    for (const auto& property : object_schema["properties"].GetObject()) {
      known += "|(?:" + regex_escape(property.name.GetString()) + ")$";
    }
  }
  const std::string unknown = "^(?!" + known + ")";
  rapidjson::Value nothing(rapidjson::kObjectType);
  nothing.AddMember("not", rapidjson::Value(rapidjson::kObjectType), allocator);
  object_schema["patternProperties"].AddMember(rapidjson::Value(unknown.c_str(),
                                                                static_cast<rapidjson::SizeType>(
                                                                    unknown.size()),
                                                                allocator),
                                               nothing, allocator);
  object_schema.RemoveMember("additionalProperties");
}

// Spells the schema for RapidJSON without changing what it means: $refs with
// '$' percent-encoded (RapidJSON rejects an unencoded '$' in a URI fragment,
// which RFC 3986 allows, and would silently leave "#/$defs/x" unresolved), and
// closed objects with pattern properties rewritten (close_by_pattern).
void prepare_for_rapidjson(rapidjson::Value& value, rapidjson::Document::AllocatorType& allocator) {
  if (value.IsObject()) {
    if (value.HasMember("patternProperties") && value.HasMember("additionalProperties") &&
        value["additionalProperties"].IsFalse()) {
      close_by_pattern(value, allocator);
    }
    for (auto& member : value.GetObject()) {
      if (std::string_view(member.name.GetString()) == "$ref" && member.value.IsString()) {
        std::string ref;
        for (const char c : std::string_view(member.value.GetString())) {
          ref += c == '$' ? std::string("%24") : std::string(1, c);
        }
        member.value.SetString(ref.c_str(), static_cast<rapidjson::SizeType>(ref.size()),
                               allocator);
      } else {
        prepare_for_rapidjson(member.value, allocator);
      }
    }
  } else if (value.IsArray()) {
    for (auto& item : value.GetArray()) {
      prepare_for_rapidjson(item, allocator);
    }
  }
}

std::unique_ptr<LoadedSchema> load_schema() {
  auto schema = std::make_unique<LoadedSchema>();
  const std::string text =
      read_file(std::string(VIDBATCH_SOURCE_DIR) + "/schema/manifest.schema.json");
  schema->prepared.Parse(text.c_str(), text.size());
  REQUIRE_FALSE(schema->prepared.HasParseError());
  prepare_for_rapidjson(schema->prepared, schema->prepared.GetAllocator());
  schema->compiled = std::make_unique<rapidjson::SchemaDocument>(schema->prepared);
  return schema;
}

const LoadedSchema& schema() {
  static const std::unique_ptr<LoadedSchema> loaded = load_schema();
  return *loaded;
}

// `value`, or what its $ref points to (in the prepared schema).
const rapidjson::Value& follow(const rapidjson::Value& value) {
  const rapidjson::Value* at = &value;
  for (int hops = 0; at->IsObject() && at->HasMember("$ref") && hops < 10; ++hops) {
    const rapidjson::Pointer pointer((*at)["$ref"].GetString());
    REQUIRE(pointer.IsValid());
    at = pointer.Get(schema().prepared);
    REQUIRE(at != nullptr);
  }
  return *at;
}

// YAML -> JSON as a YAML 1.2 tool sees it (an editor, a CI check): quoted and
// block scalars are strings; plain ones are null, booleans, integers, floats
// or strings by the core schema. The loader reads the same file as text.
void to_json(const YAML::Node& node, rapidjson::Value& out,
             rapidjson::Document::AllocatorType& allocator) {
  static const std::regex k_integer("[-+]?[0-9]+");
  static const std::regex k_float("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out.SetNull();
      return;
    case YAML::NodeType::Sequence:
      out.SetArray();
      for (const auto& item : node) {
        rapidjson::Value value;
        to_json(item, value, allocator);
        out.PushBack(value, allocator);
      }
      return;
    case YAML::NodeType::Map:
      out.SetObject();
      for (const auto& pair : node) {
        rapidjson::Value key(pair.first.Scalar().c_str(), allocator);
        rapidjson::Value value;
        to_json(pair.second, value, allocator);
        out.AddMember(key, value, allocator);
      }
      return;
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& text = node.Scalar();
  if (node.Tag() == "?") {
    if (text == "true" || text == "True" || text == "TRUE") {
      out.SetBool(true);
      return;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
      out.SetBool(false);
      return;
    }
    if (std::regex_match(text, k_integer)) {
      try {
        out.SetInt64(std::stoll(text));
      } catch (const std::out_of_range&) {
        out.SetDouble(std::stod(text));
      }
      return;
    }
    if (std::regex_match(text, k_float)) {
      out.SetDouble(std::stod(text));
      return;
    }
  }
  out.SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

struct Verdict {
  bool valid = false;
  std::string why;  // where the schema failed
};

Verdict validate(const rapidjson::Value& value) {
  rapidjson::SchemaValidator validator(*schema().compiled);
  if (value.Accept(validator)) {
    return {true, ""};
  }
  rapidjson::StringBuffer schema_at;
  rapidjson::StringBuffer document_at;
  validator.GetInvalidSchemaPointer().StringifyUriFragment(schema_at);
  validator.GetInvalidDocumentPointer().StringifyUriFragment(document_at);
  return {false, std::string("schema ") + schema_at.GetString() + " keyword '" +
                     validator.GetInvalidSchemaKeyword() + "' at document " +
                     document_at.GetString()};
}

Verdict validate_yaml(const YAML::Node& yaml) {
  rapidjson::Document json;
  to_json(yaml, json, json.GetAllocator());
  return validate(json);
}

std::vector<std::string> sorted(const std::vector<std::string_view>& keys) {
  std::vector<std::string> out(keys.begin(), keys.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> property_names(const rapidjson::Value& object_schema) {
  std::vector<std::string> out;
  REQUIRE(object_schema.HasMember("properties"));
  for (const auto& member : object_schema["properties"].GetObject()) {
    out.emplace_back(member.name.GetString());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> required_names(const rapidjson::Value& object_schema) {
  std::vector<std::string> out;
  if (object_schema.HasMember("required")) {
    for (const auto& name : object_schema["required"].GetArray()) {
      out.emplace_back(name.GetString());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool closed(const rapidjson::Value& object_schema) {
  return object_schema.HasMember("additionalProperties") &&
         object_schema["additionalProperties"].IsFalse();
}

const rapidjson::Value& job_schema() {
  return follow(schema().prepared["properties"]["jobs"]["items"]);
}

bool has_message(const ManifestParse& parse, std::string_view text) {
  return std::any_of(parse.diagnostics.begin(), parse.diagnostics.end(),
                     [&](const ManifestDiagnostic& d) {
                       return d.message.find(text) != std::string::npos;
                     });
}

TEST_CASE("schema: it parses, its $refs resolve and its patterns compile", "[manifest][schema]") {
  const LoadedSchema& loaded = schema();
  int refs = 0;
  for_each_member(loaded.prepared, [&](std::string_view name, const rapidjson::Value& value) {
    if (name == "$ref") {
      ++refs;
      INFO(value.GetString());
      const rapidjson::Pointer pointer(value.GetString());
      REQUIRE(pointer.IsValid());
      CHECK(pointer.Get(loaded.prepared) != nullptr);
    }
  });
  CHECK(refs > 10);
  // RapidJSON skips a pattern std::regex refuses instead of failing.
  int patterns = 0;
  const auto compiles = [&](const char* pattern) {
    ++patterns;
    INFO(pattern);
    CHECK_NOTHROW(std::regex(pattern, std::regex::ECMAScript));
  };
  for_each_member(loaded.prepared, [&](std::string_view name, const rapidjson::Value& value) {
    if (name == "pattern" && value.IsString()) {
      compiles(value.GetString());
    } else if (name == "patternProperties" && value.IsObject()) {
      for (const auto& member : value.GetObject()) {
        compiles(member.name.GetString());
      }
    }
  });
  CHECK(patterns > 10);
}

TEST_CASE("schema: its keys are the loader's keys at every level", "[manifest][schema]") {
  const rapidjson::Value& root = schema().prepared;
  const rapidjson::Value& defaults = follow(root["properties"]["defaults"]);
  const rapidjson::Value& job = job_schema();
  const rapidjson::Value& character = follow(root["properties"]["characters"]["items"]);

  CHECK(property_names(root) == sorted(k_manifest_top_keys));
  CHECK(property_names(defaults) == sorted(k_manifest_default_keys));
  CHECK(property_names(job) == sorted(k_manifest_job_keys));
  CHECK(property_names(character) == sorted(k_manifest_character_keys));
  // ... and nothing else: the loader reports any other key.
  CHECK(closed(root));
  CHECK(closed(defaults));
  CHECK(closed(job));
  CHECK(closed(character));

  CHECK(required_names(root) == std::vector<std::string>{"batch", "jobs"});
  CHECK(required_names(job) == std::vector<std::string>{"id"});  // prompt: see its oneOf
  CHECK(required_names(character) == std::vector<std::string>{"name", "video"});

  // The job's rules (allOf) name only job keys.
  for_each_member(job["allOf"], [&](std::string_view name, const rapidjson::Value& value) {
    if (name == "required") {
      for (const auto& key : value.GetArray()) {
        INFO(key.GetString());
        CHECK(std::find(k_manifest_job_keys.begin(), k_manifest_job_keys.end(),
                        std::string_view(key.GetString())) != k_manifest_job_keys.end());
      }
    }
  });
  // A default is a job key that is not job-only.
  for (const auto key : k_manifest_default_keys) {
    INFO(key);
    CHECK(std::find(k_manifest_job_keys.begin(), k_manifest_job_keys.end(), key) !=
          k_manifest_job_keys.end());
    CHECK(std::find(k_manifest_job_only_keys.begin(), k_manifest_job_only_keys.end(), key) ==
          k_manifest_job_only_keys.end());
  }
}

TEST_CASE("schema: the key lists are what the loader accepts", "[manifest][schema]") {
  const auto unknown_key = [](const std::string& text) {
    return has_message(manifest_test::parse_text(text), "unknown key");
  };
  const std::string job = "  - id: a\n    prompt: p\n";
  for (const auto key : k_manifest_top_keys) {
    INFO(key);
    CHECK_FALSE(unknown_key("batch: b\njobs:\n" + job + std::string(key) + ": 1\n"));
  }
  for (const auto key : k_manifest_job_keys) {
    INFO(key);
    CHECK_FALSE(unknown_key("batch: b\njobs:\n" + job + "    " + std::string(key) + ": 1\n"));
  }
  for (const auto key : k_manifest_default_keys) {
    INFO(key);
    const auto parse = manifest_test::parse_text("batch: b\ndefaults:\n  " + std::string(key) +
                                                 ": 1\njobs:\n" + job);
    CHECK_FALSE(has_message(parse, "unknown key"));
    CHECK_FALSE(has_message(parse, "cannot have a default"));
  }
  for (const auto key : k_manifest_job_only_keys) {
    INFO(key);
    CHECK(has_message(manifest_test::parse_text("batch: b\ndefaults:\n  " + std::string(key) +
                                                ": 1\njobs:\n" + job),
                      "cannot have a default"));
  }
  for (const auto key : k_manifest_character_keys) {
    INFO(key);
    CHECK_FALSE(unknown_key("batch: b\ncharacters:\n  - name: M\n    video: m.mp4\n    " +
                            std::string(key) + ": 1\njobs:\n" + job));
  }
  // The probe itself can fail.
  CHECK(unknown_key("batch: b\ncolour: 1\njobs:\n" + job));
  CHECK(unknown_key("batch: b\njobs:\n" + job + "    colour: 1\n"));
  CHECK(unknown_key("batch: b\ndefaults:\n  colour: 1\njobs:\n" + job));
  CHECK(unknown_key("batch: b\ncharacters:\n  - name: M\n    video: m.mp4\n    colour: 1\njobs:\n" +
                    job));
}

std::vector<std::filesystem::path> yaml_files(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> out;
  for (const auto& file : std::filesystem::directory_iterator(folder)) {
    if (file.is_regular_file() && file.path().extension() == ".yaml") {
      out.push_back(file.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("schema: every jobs/examples/*.yaml validates", "[manifest][schema]") {
  const auto files = yaml_files(manifest_test::example_path(""));
  CHECK(files.size() >= 9);
  for (const auto& file : files) {
    INFO(file.filename().string());
    const auto verdict = validate_yaml(YAML::LoadFile(file.string()));
    INFO(verdict.why);
    CHECK(verdict.valid);
  }
}

TEST_CASE("schema: it rejects the bad examples a schema can see", "[manifest][schema]") {
  std::size_t rejected = 0;
  for (const auto& file : yaml_files(manifest_test::example_path("bad"))) {
    const std::string name = file.filename().string();
    INFO(name);
    CHECK_FALSE(load_manifest(file.string()).has_value());
    if (name == "syntax_error.yaml") {  // not YAML: nothing to validate
      CHECK_THROWS_AS(YAML::LoadFile(file.string()), YAML::ParserException);
      continue;
    }
    const auto verdict = validate_yaml(YAML::LoadFile(file.string()));
    if (name == "missing_image.yaml") {  // only the loader looks for the file
      CHECK(verdict.valid);
      continue;
    }
    CHECK_FALSE(verdict.valid);
    rejected += verdict.valid ? 0 : 1;
  }
  CHECK(rejected >= 5);
}

// One job `a` with `extra` lines (indented by four spaces) after id and prompt.
std::string one_job_yaml(const std::string& extra, const std::string& top = "") {
  return "batch: b\n" + top + "jobs:\n  - id: a\n    prompt: p\n" + extra;
}

const std::string k_characters =
    "characters:\n  - name: Mira\n    video: mira.mp4\n    provider: gw\n"
    "  - name: \"Otto \\u00D6\"\n    video: mira.mp4\n";

struct Case {
  const char* what;
  std::string yaml;
  const char* loader_says;  // nullptr: valid; else a part of a loader message
};

// The schema and the loader agree on each: valid ones load and validate, the
// others fail both, the loader with the message given.
std::vector<Case> agreed_cases() {
  return {
      {"minimal job", one_job_yaml(""), nullptr},
      {"every shared key on a job",
       one_job_yaml("    model: sora-2-pro\n    seconds: 8\n    orientation: portrait\n"
                    "    size: 1280x720\n    images: [ref.png, \"https://x.example/y.png\"]\n"
                    "    provider: gw_1\n    watermark: true\n    private: False\n"
                    "    character_url: \"https://cdn.example.com/c.mp4\"\n"
                    "    character_timestamps: \" 0.5, 2.5\"\n    variants: 3\n"),
       nullptr},
      {"every default",
       one_job_yaml("",
                    "defaults:\n  model: m\n  seconds: +8\n  orientation: landscape\n"
                    "  size: large\n  images: []\n  provider: gw\n  watermark: TRUE\n"
                    "  private: false\n  character_url: \"http://h/c\"\n"
                    "  character_timestamps: \"1,3\"\n  variants: 2\n"),
       nullptr},
      {"prompts_from", "batch: b\njobs:\n  - id: a\n    prompts_from: prompts.TXT\n", nullptr},
      {"a chain",
       "batch: b\njobs:\n  - id: a\n    prompt: p\n  - id: b\n    prompt: p\n    remix_of: a\n"
       "  - id: c\n    prompt: p\n    extend_of: b\n    images: [ref.png]\n",
       nullptr},
      {"templates with a matrix",
       "batch: b\njobs:\n  - id: base-{style}\n    prompt: \"{style} look\"\n"
       "    matrix: {style: [film noir, 2, true]}\n"
       "  - id: \"r-{style}-{seconds}\"\n    prompt: p\n    edit_of: \"base-{style}\"\n"
       "    matrix: {style: [film noir, 2, true], seconds: [4, 8], orientation: [portrait]}\n",
       nullptr},
      {"characters", one_job_yaml("    characters: [Mira, \"Otto \\u00D6\"]\n", k_characters),
       nullptr},
      {"an empty character list", one_job_yaml("    characters: []\n", "characters: []\n"),
       nullptr},

      {"prompt and prompts_from", one_job_yaml("    prompts_from: prompts.txt\n"), "not both"},
      {"no prompt", "batch: b\njobs:\n  - id: a\n", "'prompt' is missing"},
      {"a blank prompt", "batch: b\njobs:\n  - id: a\n    prompt: \" \\t \"\n",
       "must not be empty"},
      {"a prompt file of another kind", "batch: b\njobs:\n  - id: a\n    prompts_from: p.json\n",
       ".txt or .csv"},
      {"no id", "batch: b\njobs:\n  - prompt: p\n", "'id' is missing"},
      {"an id of 129 characters",
       "batch: b\njobs:\n  - id: " + std::string(129, 'i') + "\n    prompt: p\n", "1 to 128"},
      {"the id '..'", "batch: b\njobs:\n  - id: \"..\"\n    prompt: p\n", "not allowed"},
      {"a batch with a blank", "batch: bad batch\njobs:\n  - id: a\n    prompt: p\n", "1 to 64"},
      {"two parents",
       "batch: b\njobs:\n  - id: a\n    prompt: p\n  - id: b\n    prompt: p\n    remix_of: a\n"
       "    extend_of: a\n",
       "at most one"},
      {"a remix with images",
       "batch: b\njobs:\n  - id: a\n    prompt: p\n  - id: b\n    prompt: p\n    remix_of: a\n"
       "    images: [ref.png]\n",
       "remove 'images'"},
      {"an edit with images",
       "batch: b\njobs:\n  - id: a\n    prompt: p\n  - id: b\n    prompt: p\n    edit_of: a\n"
       "    images: [ref.png]\n",
       "remove 'images'"},
      {"an id template without a matrix", "batch: b\njobs:\n  - id: \"a-{x}\"\n    prompt: p\n",
       "1 to 128"},
      {"a parent template without a matrix", one_job_yaml("    remix_of: \"{x}\"\n"), "1 to 128"},
      {"a blank in an id template",
       "batch: b\njobs:\n  - id: \"a b-{x}\"\n    prompt: p\n    matrix: {x: [1]}\n",
       "generated id"},
      {"a field set by the job and the matrix",
       one_job_yaml("    seconds: 8\n    matrix: {seconds: [4]}\n"), "set it in one place"},
      {"an empty matrix", one_job_yaml("    matrix: {}\n"), "expected a map of variables"},
      {"a variable without values", one_job_yaml("    matrix: {style: []}\n"),
       "at least one value"},
      {"a variable named 1st", one_job_yaml("    matrix: {1st: [a]}\n"), "a matrix variable is"},
      {"a bad orientation value", one_job_yaml("    matrix: {orientation: [sideways]}\n"),
       "'landscape' or 'portrait'"},
      {"an empty matrix value", one_job_yaml("    matrix: {style: [~]}\n"), "expected a string"},
      {"a list as a matrix value", one_job_yaml("    matrix: {style: [[a]]}\n"),
       "expected a string"},
      {"a repeated matrix value", one_job_yaml("    matrix: {style: [x, x]}\n"), "duplicate id"},
      {"seconds quoted", one_job_yaml("    seconds: \"8\"\n"), "expected an integer"},
      {"seconds 61", one_job_yaml("    seconds: 61\n"), "between 1 and 60"},
      {"seconds 0", one_job_yaml("", "defaults:\n  seconds: 0\n"), "between 1 and 60"},
      {"variants 101", one_job_yaml("    variants: 101\n"), "between 1 and 100"},
      {"variants 0", one_job_yaml("", "defaults:\n  variants: 0\n"), "between 1 and 100"},
      {"watermark yes", one_job_yaml("    watermark: yes\n"), "true or false"},
      {"private quoted", one_job_yaml("    private: \"true\"\n"), "true or false"},
      {"a provider with a dot", one_job_yaml("    provider: my.gw\n"), "[A-Za-z0-9_-]"},
      {"a provider of 65 characters", one_job_yaml("    provider: " + std::string(65, 'p') + "\n"),
       "[A-Za-z0-9_-]"},
      {"a size with a leading zero", one_job_yaml("    size: 01280x720\n"), "WIDTHxHEIGHT"},
      {"orientation sideways", one_job_yaml("    orientation: sideways\n"), "'landscape' or"},
      {"an empty model", one_job_yaml("    model: \"\"\n"), "must not be empty"},
      {"an ftp image", one_job_yaml("    images: [\"ftp://x/y.png\"]\n"), "unsupported URL"},
      {"an empty image", one_job_yaml("    images: [\"\"]\n"), "must not be empty"},
      {"images not a list", one_job_yaml("    images: ref.png\n"), "expected a list"},
      {"a character_url without host", one_job_yaml("    character_url: \"https:///x\"\n"),
       "with a host"},
      {"an ftp character_url", one_job_yaml("    character_url: \"ftp://h/x\"\n"), "http:// or"},
      {"a blank in character_url", one_job_yaml("    character_url: \"https://h/a b\"\n"),
       "no blanks"},
      {"one timestamp", one_job_yaml("    character_timestamps: \"1\"\n"), "START,END"},
      {"a timestamp with a unit", one_job_yaml("    character_timestamps: \"1,3s\"\n"),
       "START,END"},
      {"a job-only key in defaults", one_job_yaml("", "defaults:\n  matrix: {x: [1]}\n"),
       "cannot have a default"},
      {"an unknown default", one_job_yaml("", "defaults:\n  colour: blue\n"), "unknown key"},
      {"an unknown job key", one_job_yaml("    colour: blue\n"), "unknown key"},
      {"an unknown top-level key", one_job_yaml("", "default: {}\n"), "unknown key"},
      {"no jobs", "batch: b\njobs: []\n", "at least one job"},
      {"no batch", "jobs:\n  - id: a\n    prompt: p\n", "'batch' is missing"},
      {"a character without video", one_job_yaml("", "characters:\n  - name: M\n"),
       "'video' is missing"},
      {"a character with another key",
       one_job_yaml("", "characters:\n  - name: M\n    video: mira.mp4\n    age: 3\n"),
       "unknown key"},
      {"a character name ending in a blank",
       one_job_yaml("", "characters:\n  - name: \"Mira \"\n    video: mira.mp4\n"), "1 to 80"},
      {"a character name with a tab",
       one_job_yaml("", "characters:\n  - name: \"Mi\\tra\"\n    video: mira.mp4\n"), "1 to 80"},
      {"a character name of 81 characters",
       one_job_yaml("",
                    "characters:\n  - name: " + std::string(81, 'm') + "\n    video: mira.mp4\n"),
       "1 to 80"},
      {"a character video URL",
       one_job_yaml("", "characters:\n  - name: M\n    video: \"https://x/m.mp4\"\n"),
       "local video"},
      {"job characters not a list", one_job_yaml("    characters: Mira\n", k_characters),
       "expected a list"},
      {"a character listed twice", one_job_yaml("    characters: [Mira, Mira]\n", k_characters),
       "listed twice"},
  };
}

TEST_CASE("schema: the schema and the loader agree", "[manifest][schema]") {
  TempDir dir;
  dir.write("ref.png", manifest_test::k_png_bytes);
  dir.write("mira.mp4", manifest_test::k_mp4_bytes);
  dir.write("prompts.TXT", "a prompt\n");
  dir.write("prompts.txt", "a prompt\n");
  for (const auto& test : agreed_cases()) {
    INFO(test.what << "\n" << test.yaml);
    const auto parse = parse_manifest(test.yaml, "m.yaml", dir.path().string());
    INFO("loader: " << manifest_test::rendered(parse));
    const auto verdict = validate_yaml(YAML::Load(test.yaml));
    INFO("schema: " << verdict.why);
    if (test.loader_says == nullptr) {
      CHECK(parse.manifest.has_value());
      CHECK(verdict.valid);
    } else {
      CHECK(has_message(parse, test.loader_says));
      CHECK_FALSE(verdict.valid);
    }
  }
}

// What a schema cannot express, pinned so that a change on either side
// shows: the schema's verdict, and the loader's message (nullptr: it loads).
struct Difference {
  const char* what;
  std::string yaml;
  bool schema_valid;
  const char* loader_says;
};

TEST_CASE("schema: what only the loader checks, and where the schema is stricter",
          "[manifest][schema]") {
  TempDir dir;
  dir.write("mira.mp4", manifest_test::k_mp4_bytes);
  const std::vector<Difference> cases = {
      {"ids that differ in letter case",
       "batch: b\njobs:\n  - id: a\n    prompt: p\n  - id: A\n    prompt: p\n", true,
       "letter case"},
      {"a missing parent", one_job_yaml("    remix_of: nowhere\n"), true, "no job 'nowhere'"},
      {"a cycle",
       "batch: b\njobs:\n  - id: a\n    prompt: p\n    remix_of: b\n"
       "  - id: b\n    prompt: p\n    remix_of: a\n",
       true, "jobs form a cycle"},
      {"an unknown character", one_job_yaml("    characters: [Nobody]\n"), true, "no character"},
      {"a character of another provider",
       one_job_yaml("    provider: other\n    characters: [Mira]\n", k_characters), true,
       "is created at provider"},
      {"a timestamp span of 7 seconds", one_job_yaml("    character_timestamps: \"2,9\"\n"), true,
       "1 to 3 seconds"},
      {"a missing image", one_job_yaml("    images: [nope.png]\n"), true, "not found"},
      {"an unknown placeholder",
       "batch: b\njobs:\n  - id: a\n    prompt: \"{nope}\"\n    matrix: {style: [x]}\n", true,
       "unknown placeholder"},
      // YAML 1.2 types these plain scalars as numbers; the loader reads them as text.
      {"a numeric id", "batch: b\njobs:\n  - id: 42\n    prompt: p\n", false, nullptr},
      {"a numeric model", one_job_yaml("    model: 2\n"), false, nullptr},
  };
  for (const auto& test : cases) {
    INFO(test.what << "\n" << test.yaml);
    const auto parse = parse_manifest(test.yaml, "m.yaml", dir.path().string());
    INFO("loader: " << manifest_test::rendered(parse));
    const auto verdict = validate_yaml(YAML::Load(test.yaml));
    INFO("schema: " << verdict.why);
    CHECK(verdict.valid == test.schema_valid);
    if (test.loader_says == nullptr) {
      CHECK(parse.manifest.has_value());
    } else {
      CHECK(has_message(parse, test.loader_says));
    }
  }
}

}  // namespace
}  // namespace vb
