#include "tokenizer/sentencepiece/normalizer.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>

#include "tokenizer/unicode.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::tokenizer {
namespace {

#include "tokenizer/sentencepiece/unicode9.inc"

bool after_unicode9(char32_t cp) noexcept {
  // Ranges are sorted and disjoint: find the last range starting at or before cp.
  const auto* end = std::end(kAfterUnicode9);
  const auto* it = std::upper_bound(std::begin(kAfterUnicode9), end, cp,
                                    [](char32_t v, const char32_t (&r)[2]) { return v < r[0]; });
  if (it == std::begin(kAfterUnicode9)) return false;
  --it;
  return cp <= (*it)[1];
}

int combining_class(char32_t cp) noexcept {
  if (after_unicode9(cp)) return 0;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class;
}

}  // namespace

namespace sentencepiece_steps {

bool is_combining_mark(char32_t cp) noexcept {
  if (cp < 0x300) return false;
  bool mark = false;
  if (!after_unicode9(cp)) {
    const auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    mark = c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
  }
  return mark != std::binary_search(std::begin(kMarkToggles), std::end(kMarkToggles), cp);
}

void nfkd(AlignedText& text) {
  // Each character's compatibility decomposition: its first character replaces it (0), the others are
  // insertions (1). Then, as in canonical ordering, every run of characters after a starter is stably sorted by
  // combining class, the change markers travelling with their characters (unicode-normalization-alignments).
  struct Item {
    int ccc;
    char32_t cp;
    int change;
  };
  std::vector<Item> items;
  items.reserve(text.text.size() + 8);
  bool changed = false;
  utf8proc_int32_t buf[32];
  for (std::size_t i = 0; i < text.text.size();) {
    const char32_t cp = decode_utf8(text.text.data(), i);
    utf8proc_ssize_t n = 1;
    buf[0] = static_cast<utf8proc_int32_t>(cp);
    if (cp >= 0xA0 && !after_unicode9(cp)) {
      int last_boundclass = 0;
      n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 32,
                                  static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT),
                                  &last_boundclass);
      if (n < 1 || n > 32) {
        n = 1;
        buf[0] = static_cast<utf8proc_int32_t>(cp);
      }
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      const auto d = static_cast<char32_t>(buf[k]);
      items.push_back({combining_class(d), d, k == 0 ? 0 : 1});
    }
    changed |= n != 1 || static_cast<char32_t>(buf[0]) != cp;
  }
  // Canonical reordering of each run of non-starters (a starter has class 0 and stays in front).
  for (std::size_t i = 0; i < items.size();) {
    if (items[i].ccc == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < items.size() && items[j].ccc != 0) ++j;
    if (j - i > 1) {
      const bool sorted = std::is_sorted(items.begin() + static_cast<std::ptrdiff_t>(i),
                                         items.begin() + static_cast<std::ptrdiff_t>(j),
                                         [](const Item& a, const Item& b) { return a.ccc < b.ccc; });
      if (!sorted) {
        std::stable_sort(items.begin() + static_cast<std::ptrdiff_t>(i), items.begin() + static_cast<std::ptrdiff_t>(j),
                         [](const Item& a, const Item& b) { return a.ccc < b.ccc; });
        changed = true;
      }
    }
    i = j;
  }
  if (!changed) return;
  std::vector<CharChange> dest;
  dest.reserve(items.size());
  for (const Item& it : items) dest.push_back({it.cp, it.change});
  text.transform(dest, 0);
}

void strip_accents(AlignedText& text) {
  // tokenizers' NormalizedString::filter: a kept character carries the count of removed characters after it;
  // removed characters before the first kept one are the transform's initial removal.
  std::vector<CharChange> dest;
  dest.reserve(text.text.size());
  std::size_t removed = 0, removed_start = 0;
  bool have_last = false, any_removed = false;
  char32_t last = 0;
  for (std::size_t i = 0; i < text.text.size();) {
    const char32_t cp = decode_utf8(text.text.data(), i);
    if (!is_combining_mark(cp)) {
      if (have_last) {
        dest.push_back({last, -static_cast<int>(removed)});
      } else {
        removed_start = removed;
      }
      last = cp;
      have_last = true;
      removed = 0;
    } else {
      ++removed;
      any_removed = true;
    }
  }
  if (!any_removed) return;
  if (have_last) dest.push_back({last, -static_cast<int>(removed)});
  text.transform(dest, have_last ? removed_start : removed);
}

void lowercase(AlignedText& text) {
  std::vector<CharChange> dest;
  dest.reserve(text.text.size());
  bool changed = false;
  for (std::size_t i = 0; i < text.text.size();) {
    const char32_t cp = decode_utf8(text.text.data(), i);
    char32_t out[2];
    const int n = unicode::to_lowercase(cp, out);
    for (int k = 0; k < n; ++k) dest.push_back({out[k], k > 0 ? 1 : 0});
    changed |= n != 1 || out[0] != cp;
  }
  if (changed) text.transform(dest, 0);
}

}  // namespace sentencepiece_steps

AlignedText SentencePieceNormalizer::normalize(std::string_view original) const {
  AlignedText text = AlignedText::of(original);
  if (options_.replace_quotes) {
    text.replace_all("``", "\"");
    text.replace_all("''", "\"");
  }
  if (options_.nfkd_strip_accents) {
    sentencepiece_steps::nfkd(text);
    sentencepiece_steps::strip_accents(text);
  }
  if (options_.lowercase) sentencepiece_steps::lowercase(text);
  charsmap_.normalize(text);
  return text;
}

}  // namespace bertcpp::tokenizer
