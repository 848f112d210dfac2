#include "heads/ner_aggregation.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "bertcpp/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "kernels/softmax.hpp"
#include "tokenizer/utf8.hpp"

namespace bertcpp::heads::ner {
namespace {

// Index of the first maximum (numpy's argmax).
std::size_t argmax(std::span<const float> v) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

const std::string& label_of(const std::vector<std::string>& labels, std::size_t id) {
  if (id >= labels.size()) {
    throw InvalidArgumentError("token classification: label id " + std::to_string(id) + " has no id2label entry (" +
                               std::to_string(labels.size()) + " labels)");
  }
  return labels[id];
}

// aggregate_word: one word's tokens -> one entity, labelled by the strategy.
Entity aggregate_word(std::span<const PreEntity> tokens, Aggregation aggregation,
                      const std::vector<std::string>& labels, const TokensToString& to_string) {
  std::vector<std::string> words;
  words.reserve(tokens.size());
  for (const PreEntity& t : tokens) words.push_back(t.word);

  Entity e;
  switch (aggregation) {
    case Aggregation::first: {
      const std::size_t id = argmax(tokens.front().scores);
      e.entity = label_of(labels, id);
      e.score = tokens.front().scores[id];
      break;
    }
    case Aggregation::max: {
      // The token holding the highest score of all (the first such token), and its best label.
      std::size_t best_token = 0;
      float best = -INFINITY;
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        const float m = *std::max_element(tokens[i].scores.begin(), tokens[i].scores.end());
        if (m > best) best = m, best_token = i;
      }
      const std::size_t id = argmax(tokens[best_token].scores);
      e.entity = label_of(labels, id);
      e.score = tokens[best_token].scores[id];
      break;
    }
    case Aggregation::average: {
      const std::size_t n = tokens.front().scores.size();
      std::vector<float> mean(n, 0.0f);
      for (std::size_t l = 0; l < n; ++l) {
        double sum = 0;
        for (const PreEntity& t : tokens) sum += t.scores[l];
        mean[l] = static_cast<float>(sum / static_cast<double>(tokens.size()));
      }
      const std::size_t id = argmax(mean);
      e.entity = label_of(labels, id);
      e.score = mean[id];
      break;
    }
    default:
      throw InvalidArgumentError("token classification: word aggregation needs first, average or max");
  }
  e.word = to_string(words);
  e.start = tokens.front().start;
  e.byte_start = tokens.front().byte_start;
  e.end = tokens.back().end;
  e.byte_end = tokens.back().byte_end;
  e.index = -1;
  return e;
}

// group_sub_entities: adjacent entities of one tag -> one group.
Entity group_sub_entities(std::span<const Entity> entities, const TokensToString& to_string) {
  Entity g;
  // The group is named after the first entity's label with everything up to its first '-' removed.
  const std::string& first = entities.front().entity;
  const std::size_t dash = first.find('-');
  g.entity_group = dash == std::string::npos ? first : first.substr(dash + 1);
  double sum = 0;
  std::vector<std::string> words;
  words.reserve(entities.size());
  for (const Entity& e : entities) {
    sum += e.score;
    words.push_back(e.word);
  }
  g.score = static_cast<float>(sum / static_cast<double>(entities.size()));
  g.word = to_string(words);
  g.start = entities.front().start;
  g.byte_start = entities.front().byte_start;
  g.end = entities.back().end;
  g.byte_end = entities.back().byte_end;
  g.index = -1;
  return g;
}

// transformers' fallback: `start > 0 and " " not in sentence[start - 1 : start + 1]`, on code points; here on
// the bytes around byte_start (a space is one byte; a byte before byte_start belongs to the previous code point).
bool space_heuristic_subword(std::string_view text, std::size_t byte_start) {
  if (byte_start == 0) return false;
  if (byte_start <= text.size() && text[byte_start - 1] == ' ') return false;
  if (byte_start < text.size() && text[byte_start] == ' ') return false;
  return true;
}

}  // namespace

SubwordRule subword_rule(const Tokenizer& tokenizer) {
  return TokenizerInternals::impl(tokenizer).model->has_continuing_subword_prefix() ? SubwordRule::continuing_prefix
                                                                                    : SubwordRule::space_heuristic;
}

void softmax_rows(std::span<float> logits, std::size_t num_labels) {
  if (num_labels == 0) return;
  kernels::probabilities(logits.data(), static_cast<std::int64_t>(logits.size() / num_labels),
                         static_cast<std::int64_t>(num_labels));
}

std::vector<PreEntity> gather_pre_entities(std::string_view text, const Encoding& window,
                                           std::span<const float> scores, std::size_t num_labels,
                                           const Tokenizer& tokenizer, SubwordRule rule) {
  std::vector<PreEntity> out;
  for (std::size_t t = 0; t < window.size(); ++t) {
    if (window.special_tokens_mask[t]) continue;
    PreEntity p;
    const std::int32_t id = window.input_ids[t];
    p.start = window.char_offsets[t].begin;
    p.end = window.char_offsets[t].end;
    p.byte_start = window.byte_offsets[t].begin;
    p.byte_end = window.byte_offsets[t].end;
    const std::string_view covered = text.substr(p.byte_start, p.byte_end - p.byte_start);
    if (id == tokenizer.unk_token_id()) {
      p.word = std::string(covered);
      p.is_subword = false;
    } else {
      p.word = tokenizer.id_to_token(id);
      // Python compares the lengths in code points.
      p.is_subword = rule == SubwordRule::continuing_prefix ? tokenizer::count_code_points(p.word) != p.end - p.start
                                                            : space_heuristic_subword(text, p.byte_start);
    }
    p.scores.assign(scores.begin() + static_cast<std::ptrdiff_t>(t * num_labels),
                    scores.begin() + static_cast<std::ptrdiff_t>((t + 1) * num_labels));
    p.index = static_cast<std::int64_t>(t);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Entity> aggregate(const std::vector<PreEntity>& pre_entities, Aggregation aggregation,
                              const std::vector<std::string>& labels, const TokensToString& to_string) {
  std::vector<Entity> entities;
  if (aggregation == Aggregation::none || aggregation == Aggregation::simple) {
    entities.reserve(pre_entities.size());
    for (const PreEntity& p : pre_entities) {
      const std::size_t id = argmax(p.scores);
      Entity e;
      e.entity = label_of(labels, id);
      e.score = p.scores[id];
      e.index = p.index;
      e.word = p.word;
      e.start = p.start;
      e.end = p.end;
      e.byte_start = p.byte_start;
      e.byte_end = p.byte_end;
      entities.push_back(std::move(e));
    }
  } else {
    entities = aggregate_words(pre_entities, aggregation, labels, to_string);
  }
  if (aggregation == Aggregation::none) return entities;
  return group_entities(entities, to_string);
}

std::vector<Entity> aggregate_words(const std::vector<PreEntity>& pre_entities, Aggregation aggregation,
                                    const std::vector<std::string>& labels, const TokensToString& to_string) {
  if (aggregation == Aggregation::none || aggregation == Aggregation::simple) {
    throw InvalidArgumentError("token classification: none and simple aggregation do not aggregate words");
  }
  std::vector<Entity> words;
  std::size_t begin = 0;
  for (std::size_t i = 1; i <= pre_entities.size(); ++i) {
    // A word ends before every token that is not a subword (the first token of a window starts one even
    // when it is a subword).
    if (i == pre_entities.size() || !pre_entities[i].is_subword) {
      words.push_back(aggregate_word(std::span(pre_entities).subspan(begin, i - begin), aggregation, labels,
                                     to_string));
      begin = i;
    }
  }
  return words;
}

std::pair<char, std::string_view> split_tag(std::string_view label) {
  if (label.starts_with("B-")) return {'B', label.substr(2)};
  if (label.starts_with("I-")) return {'I', label.substr(2)};
  return {'I', label};  // not in B-/I- form: a continuation
}

std::vector<Entity> group_entities(const std::vector<Entity>& entities, const TokensToString& to_string) {
  std::vector<Entity> groups;
  std::size_t begin = 0;
  for (std::size_t i = 1; i <= entities.size(); ++i) {
    bool same_group = false;
    if (i < entities.size()) {
      const auto [bi, tag] = split_tag(entities[i].entity);
      const auto [last_bi, last_tag] = split_tag(entities[i - 1].entity);
      same_group = tag == last_tag && bi != 'B';
    }
    if (!same_group) {
      groups.push_back(group_sub_entities(std::span(entities).subspan(begin, i - begin), to_string));
      begin = i;
    }
  }
  return groups;
}

void drop_ignored(std::vector<Entity>& entities, const std::vector<std::string>& ignore_labels, bool grouped) {
  std::erase_if(entities, [&](const Entity& e) {
    const std::string& label = grouped ? e.entity_group : e.entity;
    return std::find(ignore_labels.begin(), ignore_labels.end(), label) != ignore_labels.end();
  });
}

std::vector<Entity> merge_overlapping(std::vector<Entity> entities) {
  if (entities.empty()) return entities;
  std::stable_sort(entities.begin(), entities.end(),
                   [](const Entity& a, const Entity& b) { return a.start < b.start; });
  std::vector<Entity> merged;
  std::size_t previous = 0;
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const Entity& e = entities[i];
    const Entity& p = entities[previous];
    if (p.start <= e.start && e.start < p.end) {
      const std::size_t length = e.end - e.start, previous_length = p.end - p.start;
      if (length > previous_length || (length == previous_length && e.score > p.score)) previous = i;
    } else {
      merged.push_back(p);
      previous = i;
    }
  }
  merged.push_back(entities[previous]);
  return merged;
}

}  // namespace bertcpp::heads::ner
