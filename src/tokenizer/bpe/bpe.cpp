#include "tokenizer/bpe/bpe.hpp"

#include <algorithm>
#include <limits>

#include "tokenizer/bpe/byte_level.hpp"

namespace bertcpp::tokenizer {
namespace {

std::uint64_t mix(std::uint64_t key) noexcept {
  key ^= key >> 31;
  key *= 0x9E3779B97F4A7C15ull;
  return key ^ (key >> 29);
}

constexpr std::uint32_t kNoRank = std::numeric_limits<std::uint32_t>::max();

}  // namespace

Bpe::Bpe(std::vector<std::string> vocab, const std::vector<BpeMerge>& merges, BpeModelOptions options)
    : vocab_(std::move(vocab)), options_(options) {
  ids_.reserve(vocab_.size());
  for (std::size_t i = 0; i < vocab_.size(); ++i) ids_.emplace(vocab_[i], static_cast<std::int32_t>(i));
  for (int b = 0; b < 256; ++b) {
    auto it = ids_.find(byte_level::byte_to_utf8(static_cast<unsigned char>(b)));
    byte_ids_[b] = it == ids_.end() ? -1 : it->second;
  }
  std::size_t capacity = 16;
  while (capacity < 2 * merges.size()) capacity *= 2;
  merges_.assign(capacity, MergeEntry{});
  mask_ = capacity - 1;
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const BpeMerge& m = merges[rank];
    const std::uint64_t key = key_of(m.left, m.right);
    std::uint64_t slot = mix(key) & mask_;
    while (merges_[slot].key != kEmpty && merges_[slot].key != key) slot = (slot + 1) & mask_;
    merges_[slot] = {key, static_cast<std::uint32_t>(rank), m.merged};  // a repeated pair takes its later rank
  }
}

const Bpe::MergeEntry* Bpe::find_merge(std::int32_t left, std::int32_t right) const noexcept {
  const std::uint64_t key = key_of(left, right);
  for (std::uint64_t slot = mix(key) & mask_;; slot = (slot + 1) & mask_) {
    const MergeEntry& e = merges_[slot];
    if (e.key == key) return &e;
    if (e.key == kEmpty) return nullptr;
  }
}

std::optional<std::int32_t> Bpe::token_to_id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

// One symbol per byte. As tokenizers, a byte without a vocabulary entry becomes unk (fused with a preceding
// unk when fuse_unk) or, without unk, is dropped - and then takes no room either, so the later symbols' ranges
// shift left by it (tokenizers computes ranges from the lengths of the symbols it keeps).
void Bpe::initial_symbols(std::string_view word, std::vector<BpePiece>& symbols) const {
  std::uint32_t pos = 0;
  bool last_unk = false;
  for (unsigned char b : word) {
    const std::int32_t id = byte_ids_[b];
    if (id >= 0) {
      symbols.push_back({id, pos, pos + 1});
      ++pos;
      last_unk = false;
    } else if (options_.unk_id) {
      if (last_unk && options_.fuse_unk) {
        symbols.back().end = pos + 1;
      } else {
        symbols.push_back({*options_.unk_id, pos, pos + 1});
      }
      ++pos;
      last_unk = true;
    }
  }
}

void Bpe::tokenize(std::string_view word, std::vector<BpePiece>& out) const {
  if (options_.ignore_merges) {
    std::string mapped;
    for (unsigned char b : word) mapped += byte_level::byte_to_utf8(b);
    if (auto it = ids_.find(mapped); it != ids_.end()) {
      out.push_back({it->second, 0, static_cast<std::uint32_t>(word.size())});
      return;
    }
  }
  thread_local std::vector<BpePiece> symbols;
  symbols.clear();
  initial_symbols(word, symbols);
  if (symbols.size() <= kScanLimit) merge_scan(symbols);
  else merge_heap(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

void Bpe::merge_scan(std::vector<BpePiece>& symbols) const {
  if (symbols.size() < 2) return;
  // ranks[i]: rank of the pair (symbols[i], symbols[i + 1]).
  thread_local std::vector<std::uint32_t> ranks;
  thread_local std::vector<std::int32_t> merged;
  const auto rank_of = [&](std::size_t i, std::int32_t& into) {
    const MergeEntry* m = find_merge(symbols[i].id, symbols[i + 1].id);
    into = m ? m->merged : -1;
    return m ? m->rank : kNoRank;
  };
  ranks.resize(symbols.size() - 1);
  merged.resize(symbols.size() - 1);
  for (std::size_t i = 0; i + 1 < symbols.size(); ++i) ranks[i] = rank_of(i, merged[i]);
  for (;;) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < ranks.size(); ++i)
      if (ranks[i] < ranks[best]) best = i;
    if (ranks.empty() || ranks[best] == kNoRank) break;
    symbols[best].id = merged[best];
    symbols[best].end = symbols[best + 1].end;
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    ranks.erase(ranks.begin() + static_cast<std::ptrdiff_t>(best));
    merged.erase(merged.begin() + static_cast<std::ptrdiff_t>(best));
    if (best > 0) ranks[best - 1] = rank_of(best - 1, merged[best - 1]);
    if (best < ranks.size()) ranks[best] = rank_of(best, merged[best]);
  }
}

void Bpe::merge_heap(std::vector<BpePiece>& symbols) const {
  const std::size_t n = symbols.size();
  if (n < 2) return;
  struct Candidate {
    std::uint32_t rank;
    std::uint32_t pos;  // index of the left symbol
    std::int32_t merged;
  };
  // std heaps are max-heaps: "greater" pops the lowest rank, then the leftmost position.
  const auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  thread_local std::vector<Candidate> heap;
  thread_local std::vector<std::int32_t> prev, next;
  heap.clear();
  prev.resize(n);
  next.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<std::int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<std::int32_t>(i + 1) : -1;
  }
  const auto push = [&](std::int32_t left) {
    if (left < 0 || next[static_cast<std::size_t>(left)] < 0) return;
    const auto l = static_cast<std::size_t>(left);
    const MergeEntry* m = find_merge(symbols[l].id, symbols[static_cast<std::size_t>(next[l])].id);
    if (!m) return;
    heap.push_back({m->rank, static_cast<std::uint32_t>(left), m->merged});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (std::size_t i = 0; i + 1 < n; ++i) push(static_cast<std::int32_t>(i));
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();
    BpePiece& left = symbols[top.pos];
    if (left.id < 0 || next[top.pos] < 0) continue;  // merged away, or now the last symbol
    const auto r = static_cast<std::size_t>(next[top.pos]);
    const MergeEntry* m = find_merge(left.id, symbols[r].id);
    if (!m || m->merged != top.merged) continue;  // stale: the pair changed since it was queued
    left.id = top.merged;
    left.end = symbols[r].end;
    symbols[r].id = -1;
    next[top.pos] = next[r];
    if (next[r] >= 0) prev[static_cast<std::size_t>(next[r])] = static_cast<std::int32_t>(top.pos);
    push(prev[top.pos]);
    push(static_cast<std::int32_t>(top.pos));
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (symbols[i].id >= 0) symbols[kept++] = symbols[i];
  symbols.resize(kept);
}

}  // namespace bertcpp::tokenizer
