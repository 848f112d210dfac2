#include "tokenizer/wordpiece/wordpiece.hpp"

#include <deque>

#include "bertcpp/error.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};

inline std::size_t hash_key(std::uint64_t key) noexcept {
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 20);
}

}  // namespace

WordPiece::WordPiece(std::vector<std::string> vocab, WordPieceOptions options, std::string_view source)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  nodes_.emplace_back();  // root
  root_children_.assign(256, kNone);
  suffix_root_ = add_child(0, kSuffixByte);
  suffix_children_.assign(256, kNone);
  const std::string& prefix = options_.continuing_subword_prefix;
  // Later duplicates win, as in a Python dict built line by line.
  for (std::size_t id = 0; id < vocab_.size(); ++id) {
    const std::string& token = vocab_[id];
    if (token.empty()) continue;
    const auto tid = static_cast<std::int32_t>(id);
    insert(token, tid, static_cast<std::uint32_t>(token.size()));
    // A continuation token matches after the first piece: key = sentinel + token without the prefix.
    if (prefix.empty()) {
      insert(std::string(1, char(kSuffixByte)) + token, tid, static_cast<std::uint32_t>(token.size()));
    } else if (token.size() > prefix.size() && token.compare(0, prefix.size(), prefix) == 0) {
      const std::string_view rest = std::string_view(token).substr(prefix.size());
      insert(std::string(1, char(kSuffixByte)) + std::string(rest), tid, static_cast<std::uint32_t>(rest.size()));
    }
  }
  const auto unk = token_to_id(options_.unk_token);
  if (!unk) {
    throw ConfigError(std::string(source) + ": WordPiece unk_token '" + options_.unk_token +
                      "' is not in the vocabulary (" + std::to_string(vocab_.size()) + " tokens)");
  }
  unk_id_ = *unk;
  build_failure_links();
}

std::int32_t WordPiece::child(std::int32_t node, unsigned char byte) const noexcept {
  if (node == 0) return root_children_[byte];
  if (node == suffix_root_) return suffix_children_[byte];
  if (edge_keys_.empty()) return kNone;
  const std::uint64_t key = (std::uint64_t(std::uint32_t(node)) << 8) | byte;
  const std::size_t mask = edge_keys_.size() - 1;
  for (std::size_t i = hash_key(key) & mask;; i = (i + 1) & mask) {
    const std::uint64_t k = edge_keys_[i];
    if (k == key) return edge_values_[i];
    if (k == kEmptyKey) return kNone;
  }
}

void WordPiece::grow_edges() {
  std::vector<std::uint64_t> old_keys = std::move(edge_keys_);
  std::vector<std::int32_t> old_values = std::move(edge_values_);
  const std::size_t capacity = old_keys.empty() ? 1024 : old_keys.size() * 2;
  edge_keys_.assign(capacity, kEmptyKey);
  edge_values_.assign(capacity, kNone);
  const std::size_t mask = capacity - 1;
  for (std::size_t j = 0; j < old_keys.size(); ++j) {
    if (old_keys[j] == kEmptyKey) continue;
    std::size_t i = hash_key(old_keys[j]) & mask;
    while (edge_keys_[i] != kEmptyKey) i = (i + 1) & mask;
    edge_keys_[i] = old_keys[j];
    edge_values_[i] = old_values[j];
  }
}

std::int32_t WordPiece::add_child(std::int32_t node, unsigned char byte) {
  const auto created = static_cast<std::int32_t>(nodes_.size());
  if (node == 0 || node == suffix_root_) {
    auto& slot = node == 0 ? root_children_[byte] : suffix_children_[byte];
    nodes_.emplace_back();
    slot = created;
    return created;
  }
  if ((edge_count_ + 1) * 2 > edge_keys_.size()) grow_edges();
  const std::uint64_t key = (std::uint64_t(std::uint32_t(node)) << 8) | byte;
  const std::size_t mask = edge_keys_.size() - 1;
  std::size_t i = hash_key(key) & mask;
  while (edge_keys_[i] != kEmptyKey) i = (i + 1) & mask;
  nodes_.emplace_back();
  edge_keys_[i] = key;
  edge_values_[i] = created;
  ++edge_count_;
  return created;
}

void WordPiece::insert(std::string_view key, std::int32_t id, std::uint32_t covered) {
  std::int32_t node = 0;
  for (unsigned char b : key) {
    std::int32_t next = child(node, b);
    if (next == kNone) next = add_child(node, b);
    node = next;
  }
  if (node == suffix_root_) return;  // "##" alone as a continuation: matches nothing
  nodes_[node].token_id = id;
  nodes_[node].covered = covered;
}

void WordPiece::build_failure_links() {
  // Breadth-first over the trie: f(v) and F(v) of a node only depend on nodes of smaller or equal depth that
  // are already done (see the paper, Algorithm 2).
  struct Item {
    std::int32_t node, parent;
    unsigned char byte;
  };
  // Children lists are needed for the traversal; collect them from the edge tables once.
  std::vector<std::vector<std::pair<unsigned char, std::int32_t>>> children(nodes_.size());
  for (int b = 0; b < 256; ++b) {
    if (root_children_[b] != kNone) children[0].push_back({static_cast<unsigned char>(b), root_children_[b]});
    if (suffix_children_[b] != kNone)
      children[suffix_root_].push_back({static_cast<unsigned char>(b), suffix_children_[b]});
  }
  for (std::size_t i = 0; i < edge_keys_.size(); ++i) {
    if (edge_keys_[i] == kEmptyKey) continue;
    children[edge_keys_[i] >> 8].push_back({static_cast<unsigned char>(edge_keys_[i] & 0xFF), edge_values_[i]});
  }
  std::deque<Item> queue;
  for (const auto& [b, c] : children[0]) queue.push_back({c, 0, b});
  std::vector<std::int32_t> pops;
  while (!queue.empty()) {
    const Item item = queue.front();
    queue.pop_front();
    for (const auto& [b, c] : children[item.node]) queue.push_back({c, item.node, b});
    if (item.node == suffix_root_) continue;  // f = null, F = []
    Node& v = nodes_[item.node];
    if (v.token_id != kNone) {
      v.fail = suffix_root_;
      v.pops_begin = static_cast<std::uint32_t>(pops_.size());
      v.pops_len = 1;
      pops_.push_back(item.node);
      continue;
    }
    if (item.parent == 0 || item.parent == suffix_root_) continue;  // f(parent) is null
    pops.assign(pops_.begin() + nodes_[item.parent].pops_begin,
                pops_.begin() + nodes_[item.parent].pops_begin + nodes_[item.parent].pops_len);
    std::int32_t z = nodes_[item.parent].fail;
    while (z != kNone && child(z, item.byte) == kNone) {
      const Node& zn = nodes_[z];
      pops.insert(pops.end(), pops_.begin() + zn.pops_begin, pops_.begin() + zn.pops_begin + zn.pops_len);
      z = zn.fail;
    }
    if (z == kNone) continue;
    Node& w = nodes_[item.node];  // nodes_ is not resized here; re-take the reference for clarity
    w.fail = child(z, item.byte);
    w.pops_begin = static_cast<std::uint32_t>(pops_.size());
    w.pops_len = static_cast<std::uint32_t>(pops.size());
    pops_.insert(pops_.end(), pops.begin(), pops.end());
  }
}

std::optional<std::int32_t> WordPiece::token_to_id(std::string_view token) const {
  std::int32_t node = 0;
  for (unsigned char b : token) {
    node = child(node, b);
    if (node == kNone) return std::nullopt;
  }
  if (node == 0 || nodes_[node].token_id == kNone) return std::nullopt;
  // Plain keys never start with the sentinel, so a match here is the token itself.
  return nodes_[node].token_id;
}

void WordPiece::tokenize(std::string_view word, std::vector<WordPiecePiece>& out) const {
  const std::size_t n = word.size();
  const std::size_t start_size = out.size();
  auto unk = [&] {
    out.resize(start_size);
    out.push_back({unk_id_, 0, static_cast<std::uint32_t>(n)});
  };
  if (n > options_.max_input_chars_per_word && count_code_points(word) > options_.max_input_chars_per_word) {
    return unk();
  }
  std::uint32_t pos = 0;
  auto pop = [&](const Node& u) {
    for (std::uint32_t k = 0; k < u.pops_len; ++k) {
      const Node& t = nodes_[pops_[u.pops_begin + k]];
      out.push_back({t.token_id, pos, pos + t.covered});
      pos += t.covered;
    }
  };
  std::int32_t u = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(word[i]);
    std::int32_t v;
    while ((v = child(u, b)) == kNone) {
      const Node& un = nodes_[u];
      if (un.fail == kNone) return unk();
      pop(un);
      u = un.fail;
    }
    u = v;
  }
  while (u != suffix_root_ && u != 0) {
    const Node& un = nodes_[u];
    if (un.fail == kNone) return unk();
    pop(un);
    u = un.fail;
  }
}

void WordPiece::tokenize_reference(std::string_view word, std::vector<WordPiecePiece>& out) const {
  const std::size_t start_size = out.size();
  if (count_code_points(word) > options_.max_input_chars_per_word) {
    out.push_back({unk_id_, 0, static_cast<std::uint32_t>(word.size())});
    return;
  }
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = word.size();
    std::optional<std::int32_t> found;
    while (start < end) {
      std::string candidate = start > 0 ? options_.continuing_subword_prefix : std::string();
      candidate.append(word.substr(start, end - start));
      // The reference looks tokens up as strings, exactly like tokenizers' HashMap.
      for (std::size_t id = vocab_.size(); id-- > 0;) {
        if (vocab_[id] == candidate) {
          found = static_cast<std::int32_t>(id);
          break;
        }
      }
      if (found) break;
      do --end; while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (!found) {
      out.resize(start_size);
      out.push_back({unk_id_, 0, static_cast<std::uint32_t>(word.size())});
      return;
    }
    out.push_back({*found, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end)});
    start = end;
  }
}

}  // namespace bertcpp::tokenizer
