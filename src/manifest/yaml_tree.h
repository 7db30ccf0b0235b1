// YamlTree: a compact, read-only YAML document built from libyaml's event
// parser (yaml_parser_parse). A flat layout (nodes, one child-index pool, one
// text arena) avoids a tree of per-node allocations, which keeps a 100k-job
// manifest well within the 2 s validation budget. Positions follow the rest of
// the diagnostics (1-based lines broken at '\n' only, byte columns), and an
// empty node sits at the next token; tests/manifest/manifest_errors_test.cpp
// pins these positions and the characters kept as text.
// Internal to the manifest module. Aliases share the anchored node's index,
// so they never copy subtrees. Move-only: nodes point into the arena.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vb {

using YamlIndex = std::uint32_t;

enum class YamlKind : std::uint8_t { null, scalar, sequence, map };

struct YamlNode {
  YamlKind kind = YamlKind::null;
  bool quoted = false;    // scalar written quoted, as a block, or tagged: a string, never a number
  int line = 0;           // 1-based; an empty value or list item marks the next token
  int column = 0;         // 1-based, in bytes
  std::string_view text;  // scalars only; points into YamlTree's arena
  YamlIndex first_child = 0;  // into YamlTree::child_pool
  YamlIndex child_count = 0;  // sequence items, or map keys and values alternating
};

struct YamlSyntaxError {
  int line = 0;  // 1-based
  int column = 0;
  std::string message;  // libyaml's problem and context, e.g. "did not find expected
                        // ',' or ']' while parsing a flow sequence started at line 4, column 13"
};

struct YamlTree {
  std::vector<YamlNode> nodes;
  std::vector<YamlIndex> child_pool;
  std::vector<char> arena;  // scalar text; a vector so moves keep its address
  YamlIndex root = 0;       // valid iff document_count > 0 and errors is empty
  int document_count = 0;
  int second_document_line = 0;         // where a second "---" document starts, for the error
  std::vector<YamlSyntaxError> errors;  // at most one: parsing stops at the first

  YamlTree() = default;
  YamlTree(const YamlTree&) = delete;
  YamlTree& operator=(const YamlTree&) = delete;
  YamlTree(YamlTree&&) = default;
  YamlTree& operator=(YamlTree&&) = default;

  const YamlNode& at(YamlIndex i) const { return nodes[i]; }
  std::span<const YamlIndex> children(const YamlNode& node) const {
    return {child_pool.data() + node.first_child, node.child_count};
  }
};

// Parses the first document (and counts any further ones). Never throws.
YamlTree parse_yaml_tree(std::string_view text);

}  // namespace vb
