#include "manifest/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>

namespace vb {

namespace {

// Builds YamlTree nodes from parser events, keeping only the first document.
// Scalar text goes to the arena as (offset, length) and becomes a string_view
// in finish(), once the arena stops growing. Children of open containers wait
// on m_pending and move to the pool, contiguously, when their container closes.
class TreeBuilder final : public YAML::EventHandler {
 public:
  explicit TreeBuilder(YamlTree& tree) : m_tree(tree) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    ++m_tree.document_count;
    if (m_tree.document_count == 2) {
      m_tree.second_document_line = mark.line + 1;
    }
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(make(YamlKind::null, mark), anchor);
  }

  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    const auto it = m_anchors.find(anchor);
    if (it != m_anchors.end() && in_first_document()) {
      attach(it->second);
    }
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (!in_first_document()) {
      return;
    }
    YamlNode node = make(YamlKind::scalar, mark);
    node.quoted = tag != "?";  // "?" is yaml-cpp's tag for a plain (unquoted) scalar
    m_texts.push_back({static_cast<YamlIndex>(m_tree.nodes.size()), m_tree.arena.size(), value.size()});
    m_tree.arena.insert(m_tree.arena.end(), value.begin(), value.end());
    add(node, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(make(YamlKind::sequence, mark), anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(make(YamlKind::map, mark), anchor);
  }
  void OnMapEnd() override { close(); }

  // Points scalar nodes at their text, now that the arena is final.
  void finish() {
    for (const auto& text : m_texts) {
      m_tree.nodes[text.node].text = std::string_view(m_tree.arena.data() + text.offset, text.length);
    }
  }

 private:
  struct ScalarText {
    YamlIndex node;
    std::size_t offset;  // into the arena
    std::size_t length;
  };

  struct OpenContainer {
    YamlIndex node;
    std::size_t pending_start;  // where its children begin in m_pending
  };

  bool in_first_document() const { return m_tree.document_count == 1; }

  static YamlNode make(YamlKind kind, const YAML::Mark& mark) {
    YamlNode node;
    node.kind = kind;
    node.line = mark.line + 1;
    node.column = mark.column + 1;
    return node;
  }

  YamlIndex add(const YamlNode& node, YAML::anchor_t anchor) {
    const auto index = static_cast<YamlIndex>(m_tree.nodes.size());
    if (!in_first_document()) {
      return index;
    }
    m_tree.nodes.push_back(node);
    if (anchor != YAML::NullAnchor) {
      m_anchors[anchor] = index;
    }
    attach(index);
    return index;
  }

  void attach(YamlIndex index) {
    if (m_open.empty()) {
      m_tree.root = index;
    } else {
      m_pending.push_back(index);
    }
  }

  void open(const YamlNode& node, YAML::anchor_t anchor) {
    if (!in_first_document()) {
      ++m_ignored_depth;
      return;
    }
    const YamlIndex index = add(node, anchor);
    m_open.push_back({index, m_pending.size()});
  }

  void close() {
    if (m_ignored_depth > 0) {
      --m_ignored_depth;
      return;
    }
    if (m_open.empty()) {
      return;
    }
    const OpenContainer done = m_open.back();
    m_open.pop_back();
    YamlNode& node = m_tree.nodes[done.node];
    node.first_child = static_cast<YamlIndex>(m_tree.child_pool.size());
    node.child_count = static_cast<YamlIndex>(m_pending.size() - done.pending_start);
    const auto first = m_pending.begin() + static_cast<std::ptrdiff_t>(done.pending_start);
    m_tree.child_pool.insert(m_tree.child_pool.end(), first, m_pending.end());
    m_pending.erase(first, m_pending.end());
  }

  YamlTree& m_tree;
  std::vector<OpenContainer> m_open;  // innermost last
  std::vector<YamlIndex> m_pending;   // children of open containers, in order
  std::vector<ScalarText> m_texts;
  std::unordered_map<YAML::anchor_t, YamlIndex> m_anchors;
  int m_ignored_depth = 0;            // nesting inside later documents
};

}  // namespace

YamlTree parse_yaml_tree(std::string_view text) {
  YamlTree tree;
  // At most about three nodes per line ("- key: value"); unused reserve is never touched.
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  tree.nodes.reserve(lines * 3 + 16);
  tree.child_pool.reserve(lines * 3 + 16);
  tree.arena.reserve(text.size());
  // yaml-cpp only reads from a stream; a copy of the text is the price.
  std::istringstream in{std::string(text)};
  TreeBuilder builder(tree);
  try {
    YAML::Parser parser(in);
    // A manifest is one document: stop at the second. This also ends the endless
    // stream of empty documents yaml-cpp 0.7 yields for a stray top-level ','
    // (a hang found by tools/fuzz; regression in tests/fuzz/regressions/manifest/).
    while (parser.HandleNextDocument(builder) && tree.document_count < 2) {
    }
  } catch (const YAML::Exception& e) {
    tree.errors.push_back({e.mark.line + 1, e.mark.column + 1, e.msg});
  } catch (const std::exception& e) {
    tree.errors.push_back({0, 0, e.what()});
  }
  builder.finish();
  return tree;
}

}  // namespace vb
