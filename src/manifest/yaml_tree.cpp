#include "manifest/yaml_tree.h"

#include <yaml.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <utility>

#include "util/text_util.h"

namespace vb {

namespace {

// Lists and maps nested deeper are a syntax error rather than a tree: a bound on
// memory and recursion for hostile input.
constexpr std::size_t k_max_depth = 499;

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Bytes in the UTF-8 sequence that starts with `lead`.
std::size_t utf8_width(unsigned char lead) {
  if (lead < 0x80) {
    return 1;
  }
  if ((lead & 0xE0) == 0xC0) {
    return 2;
  }
  return (lead & 0xF0) == 0xE0 ? 3 : 4;
}

// --- Characters kept as text that libyaml alone would refuse ----------------
//
// libyaml (YAML 1.1) rejects C0/C1 control characters, DEL, U+FFFE and U+FFFF
// anywhere in the input, and breaks lines at a lone CR, NEL (U+0085), LS
// (U+2028) and PS (U+2029). A manifest keeps all of them as ordinary text (a
// prompt may hold them), and lines break at '\n' only, as in every diagnostic.
// Such a character is handed to libyaml as a stand-in from the private use
// area, U+F0000 + its "slot" below, and put back in scalar values. One
// character for one keeps libyaml's character indexes valid for the original
// text.

constexpr char32_t k_stand_in_base = 0xF0000;  // U+F0000..U+F00FF, UTF-8 F3 B0 80..83 xx

// The slot (0..0xFF) of the character at `text[i]` that needs a stand-in, or -1;
// `width` gets its length in bytes.
int stand_in_slot(std::string_view text, std::size_t i, std::size_t& width) {
  const auto c = static_cast<unsigned char>(text[i]);
  const auto next = [&](std::size_t k) {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
  };
  width = 1;
  if (c < 0x20) {
    if (c == '\t' || c == '\n' || (c == '\r' && next(1) == '\n') || c == '\0') {
      return -1;  // NUL stays refused: a syntax error naming byte 0x00
    }
    return c;  // a control character, or a lone CR
  }
  if (c == 0x7F) {
    return c;
  }
  if (c == 0xC2 && next(1) >= 0x80 && next(1) <= 0x9F) {
    width = 2;
    return next(1);  // C1 controls, NEL among them
  }
  if (c == 0xE2 && next(1) == 0x80 && (next(2) == 0xA8 || next(2) == 0xA9)) {
    width = 3;
    return next(2);  // LS 0xA8, PS 0xA9
  }
  if (c == 0xEF && next(1) == 0xBF && (next(2) == 0xBE || next(2) == 0xBF)) {
    width = 3;
    return next(2) + 0x40;  // U+FFFE 0xFE, U+FFFF 0xFF
  }
  return -1;
}

bool is_stand_in(std::string_view text, std::size_t i) {
  return i + 3 < text.size() && static_cast<unsigned char>(text[i]) == 0xF3 &&
         static_cast<unsigned char>(text[i + 1]) == 0xB0 &&
         (static_cast<unsigned char>(text[i + 2]) & 0xFC) == 0x80;
}

// What the character in `slot` was, as UTF-8.
void append_original(std::string& out, int slot) {
  if (slot < 0x80) {
    out += static_cast<char>(slot);
  } else if (slot < 0xA0) {
    out += '\xC2';
    out += static_cast<char>(slot);
  } else if (slot < 0xFE) {
    out += "\xE2\x80";
    out += static_cast<char>(slot);
  } else {
    out += "\xEF\xBF";
    out += static_cast<char>(slot - 0x40);
  }
}

// The text for libyaml: `text` itself when nothing needs a stand-in (the usual
// case, no copy), otherwise a copy with stand-ins in `storage`. Text that
// already contains a stand-in character is passed unchanged.
std::string_view libyaml_input(std::string_view text, std::string& storage) {
  std::size_t first = text.size();
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7F || c == 0xC2 || c == 0xE2 || c == 0xEF) {
      if (stand_in_slot(text, i, width) >= 0) {
        first = i;
        break;
      }
    }
  }
  if (first == text.size()) {
    return text;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_stand_in(text, i)) {
      return text;  // cannot tell stand-ins from the real thing: libyaml's rules apply
    }
  }
  storage.reserve(text.size() + 64);
  storage.assign(text.substr(0, first));
  for (std::size_t i = first; i < text.size(); i += width) {
    const int slot = stand_in_slot(text, i, width);
    if (slot < 0) {
      storage += text[i];
      width = 1;
      continue;
    }
    const char32_t stand_in = k_stand_in_base + static_cast<char32_t>(slot);
    storage += '\xF3';
    storage += '\xB0';
    storage += static_cast<char>(0x80 | ((stand_in >> 6) & 0x3F));
    storage += static_cast<char>(0x80 | (stand_in & 0x3F));
  }
  return storage;
}

// A scalar's value with its stand-ins turned back into the original characters.
std::string restore_originals(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (is_stand_in(value, i)) {
      append_original(out, ((value[i + 2] & 0x03) << 6) | (value[i + 3] & 0x3F));
      i += 3;
    } else {
      out += value[i];
    }
  }
  return out;
}

// --- Positions ---------------------------------------------------------------

// Turns libyaml marks into the positions diagnostics use. libyaml counts
// characters (code points); diagnostics count bytes and break lines at '\n'
// only, as LineIndex and the caret renderer do. A cursor walks the original
// text to the mark: marks arrive almost in order, so over a whole parse the
// walk is about one pass over the text.
class Positions {
 public:
  explicit Positions(std::string_view text) : m_text(text) {
    // libyaml skips a UTF-8 byte order mark before it counts characters, and
    // columns do not count it either.
    if (text.starts_with(k_utf8_bom)) {
      m_offset = k_utf8_bom.size();
      m_line_start = k_utf8_bom.size();
    }
  }

  // 1-based line and byte column of libyaml's character index.
  std::pair<int, int> at(std::size_t index) {
    seek(index);
    return current();
  }

  // Where the next token after `index` starts, past blanks, line breaks and
  // comments. Diagnostics put an empty node (a missing map value or list item)
  // there, while libyaml puts it right after the ':' or '-'.
  std::pair<int, int> next_token_after(std::size_t index) {
    seek(index);
    while (m_offset < m_text.size()) {
      const char c = m_text[m_offset];
      if (c == '#') {
        while (m_offset < m_text.size() && m_text[m_offset] != '\n') {
          step();
        }
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        step();
      } else {
        break;
      }
    }
    if (m_offset >= m_text.size()) {
      return {m_line, 1};  // the end of the stream: the start of the last line
    }
    return current();
  }

 private:
  std::pair<int, int> current() const {
    return {m_line, static_cast<int>(m_offset - m_line_start) + 1};
  }

  void step() {
    const auto c = static_cast<unsigned char>(m_text[m_offset]);
    if (c == '\n') {
      ++m_line;
      m_line_start = m_offset + 1;
    }
    m_offset = std::min(m_offset + utf8_width(c), m_text.size());
    ++m_index;
  }

  void seek(std::size_t index) {
    while (m_index < index && m_offset < m_text.size()) {
      step();
    }
    while (m_index > index && m_offset > 0) {  // rare: error marks, mostly
      --m_index;
      do {
        --m_offset;
      } while (m_offset > 0 && is_continuation(static_cast<unsigned char>(m_text[m_offset])));
      if (m_text[m_offset] == '\n') {
        --m_line;
        const auto previous = m_offset == 0 ? std::string_view::npos
                                            : m_text.rfind('\n', m_offset - 1);
        m_line_start = previous == std::string_view::npos ? 0 : previous + 1;
        if (m_line == 1 && m_text.starts_with(k_utf8_bom)) {
          m_line_start = k_utf8_bom.size();
        }
      }
    }
  }

  std::string_view m_text;
  std::size_t m_index = 0;   // libyaml's character index of m_offset
  std::size_t m_offset = 0;  // byte offset
  int m_line = 1;
  std::size_t m_line_start = 0;
};

// --- Building the tree -------------------------------------------------------

bool is_null_word(std::string_view value) {
  return value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL";
}

// Owns a libyaml event for one loop iteration.
struct Event {
  yaml_event_t event{};
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { yaml_event_delete(&event); }
};

// Builds YamlTree nodes from libyaml's events, keeping only the first document
// (a second one is parsed for syntax errors and counted, then parsing stops).
// While building, a scalar node's first_child/child_count hold the offset and
// length of its text in the arena; finish() turns them into string_views once
// the arena stops growing. Children of open containers wait on m_pending and
// move to the pool, contiguously, when their container closes.
class TreeBuilder {
 public:
  // `text` is the manifest; `input` what libyaml reads (see libyaml_input).
  TreeBuilder(YamlTree& tree, std::string_view text, std::string_view input)
      : m_tree(tree), m_positions(text), m_input(input), m_stand_ins(input.data() != text.data()) {}

  // False when parsing should stop: the end, an error, or a second document done.
  bool on_event(const yaml_event_t& event) {
    switch (event.type) {
      case YAML_DOCUMENT_START_EVENT:
        ++m_tree.document_count;
        m_anchors.clear();
        if (m_tree.document_count == 2) {
          // The end mark: past any directives, on the '---' line.
          m_tree.second_document_line = m_positions.at(event.end_mark.index).first;
        }
        return true;
      case YAML_DOCUMENT_END_EVENT:
        return m_tree.document_count < 2;
      case YAML_STREAM_END_EVENT:
        return false;
      case YAML_ALIAS_EVENT:
        return on_alias(event);
      case YAML_SCALAR_EVENT:
        return on_scalar(event);
      case YAML_SEQUENCE_START_EVENT:
        return open(YamlKind::sequence, event.start_mark, event.data.sequence_start.anchor);
      case YAML_MAPPING_START_EVENT:
        return open(YamlKind::map, event.start_mark, event.data.mapping_start.anchor);
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        close();
        return true;
      default:
        return true;
    }
  }

  // "did not find expected ',' or ']' while parsing a flow sequence started at line 4, column 13"
  void on_error(const yaml_parser_t& parser) {
    if (parser.error == YAML_MEMORY_ERROR) {
      m_tree.errors.push_back({0, 0, "out of memory"});
      return;
    }
    std::string message = parser.problem != nullptr ? parser.problem : "unknown problem";
    if (parser.error == YAML_READER_ERROR) {
      // A byte offset into libyaml's input rather than a mark. (Invalid UTF-8
      // is normally caught before parsing, with its own message.)
      if (parser.problem_value != -1) {
        // A character for "control characters are not allowed", else a byte.
        const bool character = message.starts_with("control") && parser.problem_value >= 0x80;
        char value[32];
        std::snprintf(value, sizeof value, character ? " (U+%04X)" : " (byte 0x%02x)",
                      static_cast<unsigned>(parser.problem_value));
        message += value;
      }
      const auto [line, column] = m_positions.at(character_index(parser.problem_offset));
      m_tree.errors.push_back({line, column, std::move(message)});
      return;
    }
    if (parser.context != nullptr) {
      const auto [line, column] = m_positions.at(parser.context_mark.index);
      message.append(" ").append(parser.context);
      message += " started at line " + std::to_string(line) + ", column " + std::to_string(column);
    }
    const auto [line, column] = m_positions.at(parser.problem_mark.index);
    m_tree.errors.push_back({line, column, std::move(message)});
  }

  // Points scalar nodes at their text, now that the arena is final.
  void finish() {
    for (auto& node : m_tree.nodes) {
      if (node.kind == YamlKind::scalar) {
        node.text = std::string_view(m_tree.arena.data() + node.first_child, node.child_count);
        node.first_child = 0;
        node.child_count = 0;
      }
    }
  }

 private:
  struct OpenContainer {
    YamlIndex node;
    std::size_t pending_start;  // where its children begin in m_pending
  };

  bool in_first_document() const { return m_tree.document_count == 1; }

  // libyaml's character index of a byte offset into its input (after the BOM).
  std::size_t character_index(std::size_t offset) const {
    const std::size_t start = m_input.starts_with(k_utf8_bom) ? k_utf8_bom.size() : 0;
    offset = std::clamp(offset, start, m_input.size());
    return static_cast<std::size_t>(
        std::count_if(m_input.begin() + static_cast<std::ptrdiff_t>(start),
                      m_input.begin() + static_cast<std::ptrdiff_t>(offset),
                      [](char c) { return !is_continuation(static_cast<unsigned char>(c)); }));
  }

  // True, with the error, if a container opening at `mark` is one too many.
  bool too_deep(const yaml_mark_t& mark) {
    if (m_open.size() + m_ignored_depth < k_max_depth) {
      return false;
    }
    const auto [line, column] = m_positions.at(mark.index);
    m_tree.errors.push_back(
        {line, column,
         "lists and maps are nested more than " + std::to_string(k_max_depth) + " levels deep"});
    return true;
  }

  bool on_alias(const yaml_event_t& event) {
    const char* name = reinterpret_cast<const char*>(event.data.alias.anchor);
    const auto it = m_anchors.find(name);
    if (it == m_anchors.end()) {
      const auto [line, column] = m_positions.at(event.start_mark.index);
      m_tree.errors.push_back(
          {line, column, std::string("found undefined alias '").append(name).append("'")});
      return false;
    }
    if (in_first_document()) {
      attach(it->second);  // shares the anchored node; never copies the subtree
    }
    return true;
  }

  bool on_scalar(const yaml_event_t& event) {
    const auto& scalar = event.data.scalar;
    if (!in_first_document()) {
      remember_anchor(scalar.anchor, 0);
      return true;
    }
    std::string_view value(reinterpret_cast<const char*>(scalar.value), scalar.length);
    // Only an untagged plain scalar can be a number or null.
    const bool plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && scalar.tag == nullptr;
    YamlNode node;
    if (plain && is_null_word(value)) {
      node.kind = YamlKind::null;
      // An empty node without anchor or tag has no extent of its own.
      const bool empty = value.empty() && event.start_mark.index == event.end_mark.index;
      set_position(node, empty ? m_positions.next_token_after(event.start_mark.index)
                               : m_positions.at(event.start_mark.index));
    } else {
      node.kind = YamlKind::scalar;
      node.quoted = !plain;  // quoted, block or tagged: a string, never a number
      set_position(node, m_positions.at(event.start_mark.index));
      std::string restored;
      if (m_stand_ins && value.find('\xF3') != std::string_view::npos) {
        restored = restore_originals(value);
        value = restored;
      }
      node.first_child = static_cast<YamlIndex>(m_tree.arena.size());
      node.child_count = static_cast<YamlIndex>(value.size());
      m_tree.arena.insert(m_tree.arena.end(), value.begin(), value.end());
    }
    add(node, scalar.anchor);
    return true;
  }

  bool open(YamlKind kind, const yaml_mark_t& mark, const yaml_char_t* anchor) {
    if (too_deep(mark)) {
      return false;
    }
    if (!in_first_document()) {
      remember_anchor(anchor, 0);
      ++m_ignored_depth;
      return true;
    }
    YamlNode node;
    node.kind = kind;
    set_position(node, m_positions.at(mark.index));
    const YamlIndex index = add(node, anchor);
    m_open.push_back({index, m_pending.size()});
    return true;
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

  static void set_position(YamlNode& node, std::pair<int, int> position) {
    node.line = position.first;
    node.column = position.second;
  }

  YamlIndex add(const YamlNode& node, const yaml_char_t* anchor) {
    const auto index = static_cast<YamlIndex>(m_tree.nodes.size());
    m_tree.nodes.push_back(node);
    remember_anchor(anchor, index);
    attach(index);
    return index;
  }

  // A later anchor of the same name replaces the earlier one, as YAML says.
  void remember_anchor(const yaml_char_t* anchor, YamlIndex index) {
    if (anchor != nullptr) {
      m_anchors.insert_or_assign(reinterpret_cast<const char*>(anchor), index);
    }
  }

  void attach(YamlIndex index) {
    if (m_open.empty()) {
      m_tree.root = index;
    } else {
      m_pending.push_back(index);
    }
  }

  YamlTree& m_tree;
  Positions m_positions;
  std::string_view m_input;
  bool m_stand_ins;                   // m_input has stand-ins for some characters
  std::vector<OpenContainer> m_open;  // innermost last
  std::vector<YamlIndex> m_pending;   // children of open containers, in order
  std::unordered_map<std::string, YamlIndex> m_anchors;
  std::size_t m_ignored_depth = 0;  // nesting inside the second document
};

// Owns libyaml's parser state.
class Parser {
 public:
  Parser() : m_ok(yaml_parser_initialize(&m_parser) != 0) {}
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  ~Parser() {
    if (m_ok) {
      yaml_parser_delete(&m_parser);
    }
  }
  bool ok() const { return m_ok; }
  yaml_parser_t& get() { return m_parser; }

 private:
  yaml_parser_t m_parser{};
  bool m_ok;
};

}  // namespace

YamlTree parse_yaml_tree(std::string_view text) {
  YamlTree tree;
  // At most about three nodes per line ("- key: value"); unused reserve is never touched.
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  tree.nodes.reserve(lines * 3 + 16);
  tree.child_pool.reserve(lines * 3 + 16);
  tree.arena.reserve(text.size());

  Parser parser;
  if (!parser.ok()) {
    tree.errors.push_back({0, 0, "out of memory"});
    return tree;
  }
  std::string storage;
  const std::string_view input = libyaml_input(text, storage);
  // libyaml reads the buffer in place: no copy of the text.
  yaml_parser_set_input_string(&parser.get(), reinterpret_cast<const unsigned char*>(input.data()),
                               input.size());
  TreeBuilder builder(tree, text, input);
  for (;;) {
    Event event;
    if (yaml_parser_parse(&parser.get(), &event.event) == 0) {
      builder.on_error(parser.get());
      break;
    }
    if (!builder.on_event(event.event)) {
      break;
    }
  }
  builder.finish();
  return tree;
}

}  // namespace vb
