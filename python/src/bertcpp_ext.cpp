// bertcpp._native - the nanobind module under the Python package `bertcpp` (python/bertcpp/).
//
// It binds the public C++ API (include/bertcpp/*.hpp) and nothing else: no tokenization, model or head logic
// lives here. What it adds is the crossing into Python:
//   - the GIL is released around every tokenizer call, forward() and pipeline call (the C++ objects are
//     immutable and thread-safe, so Python threads run them in parallel);
//   - every output Tensor becomes a numpy array without a copy: its std::vector<float> is moved to the heap and
//     owned by the array (a capsule frees it);
//   - every bertcpp::Error becomes the Python exception of the same name (python/bertcpp/errors.py), raised with
//     the C++ message.
// The Python package turns these into transformers' / sentence-transformers' call signatures and return
// structures (python/bertcpp/*.py, docs/python.md).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "bertcpp/bertcpp.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using FloatArray = nb::ndarray<nb::numpy, float>;
using IdArray = nb::ndarray<const std::int64_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

// ---- errors ------------------------------------------------------------------------------------------------------
// The Python classes of python/bertcpp/errors.py, looked up once at import. Kept alive until exit on purpose
// (a handle, never decref'd), so a translator running during interpreter shutdown still finds them.
struct ErrorClasses {
  nb::handle error, io, format, config, unsupported, invalid_argument, utf8;
};
ErrorClasses& error_classes() {
  static ErrorClasses classes;
  return classes;
}

void raise_python(nb::handle cls, const char* message) { PyErr_SetString(cls.ptr(), message); }

void translate_error(const std::exception_ptr& p, void*) {
  const ErrorClasses& c = error_classes();
  try {
    std::rethrow_exception(p);
  } catch (const bertcpp::Utf8Error& e) {
    // Utf8Error carries the offset of the first invalid byte as an attribute.
    PyObject* exc = PyObject_CallFunction(c.utf8.ptr(), "s", e.what());
    if (exc == nullptr) return;  // the constructor raised; that exception stands
    PyObject* offset = PyLong_FromSize_t(e.byte_offset());
    PyObject_SetAttrString(exc, "byte_offset", offset);
    Py_XDECREF(offset);
    PyErr_SetObject(c.utf8.ptr(), exc);
    Py_DECREF(exc);
  } catch (const bertcpp::IoError& e) {
    raise_python(c.io, e.what());
  } catch (const bertcpp::FormatError& e) {
    raise_python(c.format, e.what());
  } catch (const bertcpp::ConfigError& e) {
    raise_python(c.config, e.what());
  } catch (const bertcpp::UnsupportedError& e) {
    raise_python(c.unsupported, e.what());
  } catch (const bertcpp::InvalidArgumentError& e) {
    raise_python(c.invalid_argument, e.what());
  } catch (const bertcpp::Error& e) {
    raise_python(c.error, e.what());
  }
  // Anything else propagates to nanobind's own translators (std::bad_alloc -> MemoryError, ... -> RuntimeError).
}

// ---- tensors -----------------------------------------------------------------------------------------------------
// A numpy array over the tensor's own buffer: the vector is moved to the heap, the array owns it.
FloatArray to_numpy(bertcpp::Tensor&& tensor) {
  auto* data = new std::vector<float>(std::move(tensor.data));
  nb::capsule owner(data, [](void* p) noexcept { delete static_cast<std::vector<float>*>(p); });
  std::vector<std::size_t> shape(tensor.shape.begin(), tensor.shape.end());
  return FloatArray(data->data(), shape.size(), shape.data(), owner);
}

using FloatMatrix = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

// A copy of a C-contiguous float32 [rows, cols] array as a Tensor.
bertcpp::Tensor to_tensor(const FloatMatrix& m) {
  bertcpp::Tensor t({static_cast<std::int64_t>(m.shape(0)), static_cast<std::int64_t>(m.shape(1))});
  std::copy(m.data(), m.data() + t.numel(), t.data.begin());
  return t;
}

FloatArray to_numpy(const std::vector<float>& values) {
  bertcpp::Tensor t;
  t.shape = {static_cast<std::int64_t>(values.size())};
  t.data = values;
  return to_numpy(std::move(t));
}

bertcpp::LoadOptions load_options(int threads, const std::string& compute, bool pooler_output, bool hidden_states,
                                  bool tokenizer) {
  bertcpp::LoadOptions o;
  if (threads < 0) throw bertcpp::InvalidArgumentError("threads must be >= 0 (0: all cores), got " + std::to_string(threads));
  o.threads = threads;
  const auto c = bertcpp::parse_compute_type(compute);
  if (!c) throw bertcpp::InvalidArgumentError("compute must be \"fp32\", \"int8\" or \"bf16\", got \"" + compute + "\"");
  o.compute = *c;
  o.pooler_output = pooler_output;
  o.hidden_states = hidden_states;
  o.tokenizer = tokenizer;
  return o;
}

// ---- tokenizer ---------------------------------------------------------------------------------------------------
// One input's windows: the encoding itself, then its overflowing windows, each without its own overflow list.
std::vector<bertcpp::Encoding> windows_of(bertcpp::Encoding&& e) {
  std::vector<bertcpp::Encoding> out;
  std::vector<bertcpp::Encoding> overflowing = std::move(e.overflowing);
  e.overflowing.clear();
  out.push_back(std::move(e));
  for (auto& o : overflowing) {
    o.overflowing.clear();
    out.push_back(std::move(o));
  }
  return out;
}

nb::list int_list(const std::vector<std::int32_t>& v) {
  nb::list out;
  for (std::int32_t x : v) out.append(nb::int_(x));
  return out;
}

// One window as the lists a transformers fast tokenizer returns (python ints, offsets as tuples, word ids with
// None for special tokens).
nb::dict window_dict(const bertcpp::Encoding& e) {
  nb::dict d;
  d["input_ids"] = int_list(e.input_ids);
  d["token_type_ids"] = int_list(e.token_type_ids);
  d["attention_mask"] = int_list(e.attention_mask);
  d["special_tokens_mask"] = int_list(e.special_tokens_mask);
  nb::list offsets, words, sequences, tokens;
  for (const auto& o : e.char_offsets) offsets.append(nb::make_tuple(o.begin, o.end));
  for (std::int64_t w : e.word_ids) words.append(w < 0 ? nb::object(nb::none()) : nb::object(nb::int_(w)));
  for (std::int32_t s : e.sequence_ids) sequences.append(s < 0 ? nb::object(nb::none()) : nb::object(nb::int_(s)));
  for (const auto& t : e.tokens) tokens.append(nb::str(t.data(), t.size()));
  d["offset_mapping"] = offsets;
  d["word_ids"] = words;
  d["sequence_ids"] = sequences;
  d["tokens"] = tokens;
  return d;
}

// Encodes texts (and pairs) with the GIL released; returns, per input, the list of its windows as dicts.
nb::list encode_many(const bertcpp::Tokenizer& tok, const std::vector<std::string>& texts,
                     const std::optional<std::vector<std::string>>& pairs, bool add_special_tokens,
                     int truncation, std::size_t max_length, std::size_t stride, bool return_overflowing_tokens,
                     int padding, std::size_t pad_to_multiple_of) {
  if (pairs && pairs->size() != texts.size())
    throw bertcpp::InvalidArgumentError("text_pair has " + std::to_string(pairs->size()) + " entries, text " +
                                        std::to_string(texts.size()));
  if (truncation < 0 || truncation > 3 || padding < 0 || padding > 2)
    throw bertcpp::InvalidArgumentError("internal: bad truncation/padding code");
  bertcpp::EncodeOptions o;
  o.add_special_tokens = add_special_tokens;
  o.truncation = static_cast<bertcpp::Truncation>(truncation);
  o.max_length = max_length;
  o.stride = stride;
  o.return_overflowing_tokens = return_overflowing_tokens;
  o.padding = static_cast<bertcpp::Padding>(padding);
  o.pad_to_multiple_of = pad_to_multiple_of;
  std::vector<std::vector<bertcpp::Encoding>> encoded(texts.size());
  {
    nb::gil_scoped_release release;
    for (std::size_t i = 0; i < texts.size(); ++i)
      encoded[i] = windows_of(pairs ? tok.encode(texts[i], (*pairs)[i], o) : tok.encode(texts[i], o));
  }
  nb::list out;
  for (const auto& windows : encoded) {
    nb::list w;
    for (const auto& e : windows) w.append(window_dict(e));
    out.append(w);
  }
  return out;
}

void bind_tokenizer(nb::module_& m) {
  nb::class_<bertcpp::Tokenizer>(m, "Tokenizer")
      .def_static("load", [](const std::filesystem::path& dir) { return bertcpp::Tokenizer::load(dir); }, "dir"_a,
                  nb::call_guard<nb::gil_scoped_release>())
      .def_static("from_tokenizer_json",
                  [](const std::filesystem::path& file) { return bertcpp::Tokenizer::from_tokenizer_json(file); },
                  "file"_a, nb::call_guard<nb::gil_scoped_release>())
      .def_static(
          "from_vocab",
          [](const std::filesystem::path& vocab, bool do_lower_case, std::optional<bool> strip_accents,
             bool tokenize_chinese_chars, std::size_t model_max_length) {
            bertcpp::Tokenizer::WordPieceOptions o;
            o.do_lower_case = do_lower_case;
            o.strip_accents = strip_accents;
            o.tokenize_chinese_chars = tokenize_chinese_chars;
            o.model_max_length = model_max_length;
            nb::gil_scoped_release release;
            return bertcpp::Tokenizer::from_vocab(vocab, o);
          },
          "vocab"_a, "do_lower_case"_a, "strip_accents"_a.none(), "tokenize_chinese_chars"_a, "model_max_length"_a)
      .def_static(
          "from_bpe_files",
          [](const std::filesystem::path& vocab, const std::filesystem::path& merges, bool add_prefix_space,
             bool trim_offsets, std::size_t model_max_length) {
            bertcpp::Tokenizer::BpeOptions o;
            o.add_prefix_space = add_prefix_space;
            o.trim_offsets = trim_offsets;
            o.model_max_length = model_max_length;
            nb::gil_scoped_release release;
            return bertcpp::Tokenizer::from_bpe_files(vocab, merges, o);
          },
          "vocab"_a, "merges"_a, "add_prefix_space"_a, "trim_offsets"_a, "model_max_length"_a)
      .def("encode_many", &encode_many, "texts"_a, "pairs"_a.none(), "add_special_tokens"_a, "truncation"_a,
           "max_length"_a, "stride"_a, "return_overflowing_tokens"_a, "padding"_a, "pad_to_multiple_of"_a)
      .def("decode",
           [](const bertcpp::Tokenizer& t, const std::vector<std::int32_t>& ids, bool skip_special_tokens) {
             nb::gil_scoped_release release;
             return t.decode(ids, skip_special_tokens);
           },
           "ids"_a, "skip_special_tokens"_a)
      .def("convert_tokens_to_string",
           [](const bertcpp::Tokenizer& t, const std::vector<std::string>& tokens) {
             return t.convert_tokens_to_string(tokens);
           })
      .def("token_to_id", &bertcpp::Tokenizer::token_to_id)
      .def("id_to_token", &bertcpp::Tokenizer::id_to_token)
      .def_prop_ro("vocab_size", &bertcpp::Tokenizer::vocab_size)
      .def_prop_ro("model_max_length", &bertcpp::Tokenizer::model_max_length)
      .def_prop_ro("cls_token_id", &bertcpp::Tokenizer::cls_token_id)
      .def_prop_ro("sep_token_id", &bertcpp::Tokenizer::sep_token_id)
      .def_prop_ro("pad_token_id", &bertcpp::Tokenizer::pad_token_id)
      .def_prop_ro("unk_token_id", &bertcpp::Tokenizer::unk_token_id)
      .def_prop_ro("mask_token_id", &bertcpp::Tokenizer::mask_token_id);
}

// ---- encoder -----------------------------------------------------------------------------------------------------
nb::dict config_dict(const bertcpp::ModelConfig& c) {
  nb::dict d;
  d["model_type"] = c.model_type;
  d["vocab_size"] = c.vocab_size;
  d["hidden_size"] = c.hidden_size;
  d["num_hidden_layers"] = c.num_hidden_layers;
  d["num_attention_heads"] = c.num_attention_heads;
  d["intermediate_size"] = c.intermediate_size;
  d["hidden_act"] = c.hidden_act;
  d["layer_norm_eps"] = c.layer_norm_eps;
  d["max_position_embeddings"] = c.max_position_embeddings;
  d["type_vocab_size"] = c.type_vocab_size;
  d["pad_token_id"] = c.pad_token_id;
  d["embedding_size"] = c.embedding_size;
  d["max_sequence_length"] = c.max_sequence_length;
  return d;
}

nb::tuple output_tuple(bertcpp::EncoderOutput&& out) {
  nb::list hidden;
  for (auto& h : out.hidden_states) hidden.append(to_numpy(std::move(h)));
  nb::object pooled = out.pooler_output.empty() ? nb::none() : nb::cast(to_numpy(std::move(out.pooler_output)));
  return nb::make_tuple(to_numpy(std::move(out.last_hidden_state)), pooled, hidden);
}

void bind_model(nb::module_& m) {
  nb::class_<bertcpp::BertModel>(m, "BertModel")
      .def_static(
          "load",
          [](const std::filesystem::path& dir, int threads, const std::string& compute, bool pooler_output,
             bool hidden_states, bool tokenizer) {
            const auto o = load_options(threads, compute, pooler_output, hidden_states, tokenizer);
            nb::gil_scoped_release release;
            return bertcpp::BertModel::load(dir, o);
          },
          "dir"_a, "threads"_a, "compute"_a, "pooler_output"_a, "hidden_states"_a, "tokenizer"_a)
      // Padded [B, T] int64 arrays (C order); token_type_ids and attention_mask may be None.
      .def("forward_padded",
           [](const bertcpp::BertModel& model, IdArray input_ids, std::optional<IdArray> token_type_ids,
              std::optional<IdArray> attention_mask) {
             const auto b = static_cast<std::int64_t>(input_ids.shape(0));
             const auto t = static_cast<std::int64_t>(input_ids.shape(1));
             for (const auto* other : {token_type_ids ? &*token_type_ids : nullptr,
                                       attention_mask ? &*attention_mask : nullptr}) {
               if (other != nullptr && (static_cast<std::int64_t>(other->shape(0)) != b ||
                                        static_cast<std::int64_t>(other->shape(1)) != t))
                 throw bertcpp::InvalidArgumentError(
                     "token_type_ids / attention_mask have shape [" + std::to_string(other->shape(0)) + ", " +
                     std::to_string(other->shape(1)) + "], input_ids [" + std::to_string(b) + ", " +
                     std::to_string(t) + "]");
             }
             bertcpp::EncoderOutput out;
             {
               nb::gil_scoped_release release;
               const bertcpp::Batch batch = bertcpp::Batch::from_padded(
                   b, t, input_ids.data(), token_type_ids ? token_type_ids->data() : nullptr,
                   attention_mask ? attention_mask->data() : nullptr);
               out = model.forward(batch);
             }
             return output_tuple(std::move(out));
           },
           "input_ids"_a, "token_type_ids"_a.none(), "attention_mask"_a.none())
      .def("forward_texts",
           [](const bertcpp::BertModel& model, const std::vector<std::string>& texts) {
             bertcpp::EncoderOutput out;
             {
               nb::gil_scoped_release release;
               out = model.forward(std::span<const std::string>(texts));
             }
             return output_tuple(std::move(out));
           },
           "texts"_a)
      .def_prop_ro("has_tokenizer", &bertcpp::BertModel::has_tokenizer)
      .def_prop_ro("has_pooler", &bertcpp::BertModel::has_pooler)
      .def("tokenizer", [](const bertcpp::BertModel& m) { return m.tokenizer(); })
      .def_prop_ro("config", [](const bertcpp::BertModel& m) { return config_dict(m.config()); });
}

// ---- pipelines ---------------------------------------------------------------------------------------------------
bertcpp::ScoreFunction score_function(const std::optional<std::string>& name) {
  if (!name || *name == "default") return bertcpp::ScoreFunction::automatic;
  if (*name == "softmax") return bertcpp::ScoreFunction::softmax;
  if (*name == "sigmoid") return bertcpp::ScoreFunction::sigmoid;
  if (*name == "none") return bertcpp::ScoreFunction::none;
  throw bertcpp::InvalidArgumentError("function_to_apply must be \"softmax\", \"sigmoid\", \"none\" or \"default\", got \"" +
                                      *name + "\"");
}

nb::list labels_list(const bertcpp::Classification& c) {
  nb::list out;
  for (const auto& l : c.labels) {
    nb::dict d;
    d["label"] = l.label;
    d["score"] = static_cast<double>(l.score);
    out.append(d);
  }
  return out;
}

bertcpp::Aggregation aggregation_of(const std::string& name) {
  if (name == "none") return bertcpp::Aggregation::none;
  if (name == "simple") return bertcpp::Aggregation::simple;
  if (name == "first") return bertcpp::Aggregation::first;
  if (name == "average") return bertcpp::Aggregation::average;
  if (name == "max") return bertcpp::Aggregation::max;
  throw bertcpp::InvalidArgumentError("aggregation_strategy must be one of none, simple, first, average, max; got \"" +
                                      name + "\"");
}

void bind_pipelines(nb::module_& m) {
  nb::class_<bertcpp::SequenceClassifier>(m, "SequenceClassifier")
      .def_static("load",
                  [](const std::filesystem::path& dir, int threads, const std::string& compute) {
                    const auto o = load_options(threads, compute, true, false, true);
                    nb::gil_scoped_release release;
                    return bertcpp::SequenceClassifier::load(dir, o);
                  },
                  "dir"_a, "threads"_a, "compute"_a)
      // texts[i] (with pairs[i] when pairs is given) -> (labels best first as [{label, score}], logits).
      .def("classify_many",
           [](const bertcpp::SequenceClassifier& clf, const std::vector<std::string>& texts,
              const std::optional<std::vector<std::string>>& pairs, std::size_t top_k,
              const std::optional<std::string>& function_to_apply) {
             if (pairs && pairs->size() != texts.size())
               throw bertcpp::InvalidArgumentError("text_pair has " + std::to_string(pairs->size()) +
                                                   " entries, text " + std::to_string(texts.size()));
             bertcpp::ClassifyOptions o;
             o.top_k = top_k;
             o.function_to_apply = score_function(function_to_apply);
             std::vector<bertcpp::Classification> results;
             {
               nb::gil_scoped_release release;
               if (pairs) {
                 for (std::size_t i = 0; i < texts.size(); ++i) results.push_back(clf.classify(texts[i], (*pairs)[i], o));
               } else {
                 results = clf.classify_batch(texts, o);
               }
             }
             nb::list out;
             for (const auto& r : results) out.append(nb::make_tuple(labels_list(r), to_numpy(r.logits)));
             return out;
           },
           "texts"_a, "pairs"_a.none(), "top_k"_a, "function_to_apply"_a.none())
      .def_prop_ro("labels", &bertcpp::SequenceClassifier::labels);

  nb::class_<bertcpp::TokenClassifier>(m, "TokenClassifier")
      .def_static("load",
                  [](const std::filesystem::path& dir, int threads, const std::string& compute) {
                    const auto o = load_options(threads, compute, true, false, true);
                    nb::gil_scoped_release release;
                    return bertcpp::TokenClassifier::load(dir, o);
                  },
                  "dir"_a, "threads"_a, "compute"_a)
      // -> [{entity | entity_group, score, index?, word, start, end}] exactly as transformers builds them.
      .def("recognize",
           [](const bertcpp::TokenClassifier& ner, const std::string& text, const std::string& aggregation,
              const std::vector<std::string>& ignore_labels, std::optional<std::size_t> stride,
              std::size_t max_length) {
             bertcpp::NerOptions o;
             o.aggregation = aggregation_of(aggregation);
             o.ignore_labels = ignore_labels;
             o.stride = stride;
             o.max_length = max_length;
             std::vector<bertcpp::Entity> entities;
             {
               nb::gil_scoped_release release;
               entities = ner.recognize(text, o);
             }
             nb::list out;
             for (const auto& e : entities) {
               nb::dict d;
               if (o.aggregation == bertcpp::Aggregation::none) {
                 d["entity"] = e.entity;
                 d["score"] = static_cast<double>(e.score);
                 d["index"] = e.index;
               } else {
                 d["entity_group"] = e.entity_group;
                 d["score"] = static_cast<double>(e.score);
               }
               d["word"] = e.word;
               d["start"] = e.start;
               d["end"] = e.end;
               out.append(d);
             }
             return out;
           },
           "text"_a, "aggregation"_a, "ignore_labels"_a, "stride"_a.none(), "max_length"_a)
      .def("logits",
           [](const bertcpp::TokenClassifier& ner, const std::string& text, const std::string& aggregation,
              std::optional<std::size_t> stride, std::size_t max_length) {
             bertcpp::NerOptions o;
             o.aggregation = aggregation_of(aggregation);
             o.stride = stride;
             o.max_length = max_length;
             bertcpp::Tensor t;
             {
               nb::gil_scoped_release release;
               t = ner.logits(text, o);
             }
             return to_numpy(std::move(t));
           },
           "text"_a, "aggregation"_a, "stride"_a.none(), "max_length"_a)
      .def_prop_ro("labels", &bertcpp::TokenClassifier::labels);

  nb::class_<bertcpp::QuestionAnswerer>(m, "QuestionAnswerer")
      .def_static("load",
                  [](const std::filesystem::path& dir, int threads, const std::string& compute) {
                    const auto o = load_options(threads, compute, true, false, true);
                    nb::gil_scoped_release release;
                    return bertcpp::QuestionAnswerer::load(dir, o);
                  },
                  "dir"_a, "threads"_a, "compute"_a)
      // -> [{score, start, end, answer}], best first.
      .def("answer",
           [](const bertcpp::QuestionAnswerer& qa, const std::string& question, const std::string& context,
              std::size_t top_k, std::optional<std::size_t> doc_stride, std::size_t max_answer_len,
              std::optional<std::size_t> max_seq_len, std::size_t max_question_len, bool handle_impossible_answer,
              bool align_to_words) {
             bertcpp::QaOptions o;
             o.top_k = top_k;
             o.doc_stride = doc_stride;
             o.max_answer_len = max_answer_len;
             o.max_seq_len = max_seq_len;
             o.max_question_len = max_question_len;
             o.handle_impossible_answer = handle_impossible_answer;
             o.align_to_words = align_to_words;
             std::vector<bertcpp::Answer> answers;
             {
               nb::gil_scoped_release release;
               answers = qa.answer(question, context, o);
             }
             nb::list out;
             for (const auto& a : answers) {
               nb::dict d;
               d["score"] = static_cast<double>(a.score);
               d["start"] = a.start;
               d["end"] = a.end;
               d["answer"] = a.answer;
               out.append(d);
             }
             return out;
           },
           "question"_a, "context"_a, "top_k"_a, "doc_stride"_a.none(), "max_answer_len"_a, "max_seq_len"_a.none(),
           "max_question_len"_a, "handle_impossible_answer"_a, "align_to_words"_a);

  nb::class_<bertcpp::FillMask>(m, "FillMask")
      .def_static("load",
                  [](const std::filesystem::path& dir, int threads, const std::string& compute) {
                    const auto o = load_options(threads, compute, true, false, true);
                    nb::gil_scoped_release release;
                    return bertcpp::FillMask::load(dir, o);
                  },
                  "dir"_a, "threads"_a, "compute"_a)
      // -> one list per mask: [{score, token, token_str, sequence}].
      .def("fill",
           [](const bertcpp::FillMask& fm, const std::string& text, std::size_t top_k,
              const std::vector<std::string>& targets) {
             bertcpp::FillMaskOptions o;
             o.top_k = top_k;
             o.targets = targets;
             std::vector<std::vector<bertcpp::MaskPrediction>> masks;
             {
               nb::gil_scoped_release release;
               masks = fm.fill(text, o);
             }
             nb::list out;
             for (const auto& predictions : masks) {
               nb::list row;
               for (const auto& p : predictions) {
                 nb::dict d;
                 d["score"] = static_cast<double>(p.score);
                 d["token"] = p.token;
                 d["token_str"] = p.token_str;
                 d["sequence"] = p.sequence;
                 row.append(d);
               }
               out.append(row);
             }
             return out;
           },
           "text"_a, "top_k"_a, "targets"_a)
      .def("logits",
           [](const bertcpp::FillMask& fm, const std::string& text) {
             bertcpp::Tensor t;
             {
               nb::gil_scoped_release release;
               t = fm.logits(text);
             }
             return to_numpy(std::move(t));
           })
      .def_prop_ro("mask_token", &bertcpp::FillMask::mask_token);

  nb::class_<bertcpp::SentenceEmbedder>(m, "SentenceEmbedder")
      .def_static("load",
                  [](const std::filesystem::path& dir, int threads, const std::string& compute) {
                    const auto o = load_options(threads, compute, true, false, true);
                    nb::gil_scoped_release release;
                    return bertcpp::SentenceEmbedder::load(dir, o);
                  },
                  "dir"_a, "threads"_a, "compute"_a)
      .def("encode",
           [](const bertcpp::SentenceEmbedder& st, const std::vector<std::string>& texts, std::size_t batch_size,
              std::optional<std::string> prompt, std::optional<std::string> prompt_name,
              std::optional<std::size_t> truncate_dim) {
             if (batch_size == 0) throw bertcpp::InvalidArgumentError("batch_size must be >= 1");
             bertcpp::EmbedOptions o;
             o.batch_size = batch_size;
             o.prompt = std::move(prompt);
             o.prompt_name = std::move(prompt_name);
             o.truncate_dim = truncate_dim;
             bertcpp::Tensor t;
             {
               nb::gil_scoped_release release;
               t = st.encode(std::span<const std::string>(texts), o);
             }
             return to_numpy(std::move(t));
           },
           "texts"_a, "batch_size"_a, "prompt"_a = nb::none(), "prompt_name"_a = nb::none(),
           "truncate_dim"_a = nb::none())
      .def_prop_ro("prompts", [](const bertcpp::SentenceEmbedder& st) { return st.config().prompts; })
      .def_prop_ro("default_prompt_name", [](const bertcpp::SentenceEmbedder& st) { return st.config().default_prompt_name; })
      .def_prop_ro("normalize", [](const bertcpp::SentenceEmbedder& st) { return st.config().normalize; })
      .def_prop_ro("dimension", [](const bertcpp::SentenceEmbedder& st) { return st.config().dimension; })
      .def_prop_ro("max_seq_length", [](const bertcpp::SentenceEmbedder& st) { return st.config().max_seq_length; })
      .def("similarity",
           [](const bertcpp::SentenceEmbedder& st, const FloatMatrix& a, const FloatMatrix& b) {
             return to_numpy(st.similarity(to_tensor(a), to_tensor(b)));
           },
           "a"_a, "b"_a)
      .def("similarity_pairwise",
           [](const bertcpp::SentenceEmbedder& st, const FloatMatrix& a, const FloatMatrix& b) {
             return to_numpy(st.similarity_pairwise(to_tensor(a), to_tensor(b)));
           },
           "a"_a, "b"_a)
      .def_prop_ro("similarity_fn_name", [](const bertcpp::SentenceEmbedder& st) {
        switch (st.config().similarity) {
          case bertcpp::Similarity::cosine: return "cosine";
          case bertcpp::Similarity::dot: return "dot";
          case bertcpp::Similarity::euclidean: return "euclidean";
          case bertcpp::Similarity::manhattan: return "manhattan";
        }
        return "cosine";
      })
      .def_prop_ro("pooling_modes", [](const bertcpp::SentenceEmbedder& st) {
        std::vector<std::string> names;
        for (const bertcpp::Pooling p : st.config().pooling_modes) {
          switch (p) {
            case bertcpp::Pooling::cls: names.emplace_back("cls"); break;
            case bertcpp::Pooling::mean: names.emplace_back("mean"); break;
            case bertcpp::Pooling::max: names.emplace_back("max"); break;
            case bertcpp::Pooling::mean_sqrt_len: names.emplace_back("mean_sqrt_len"); break;
            case bertcpp::Pooling::weighted_mean: names.emplace_back("weightedmean"); break;
            case bertcpp::Pooling::last_token: names.emplace_back("lasttoken"); break;
          }
        }
        return names;
      });

  nb::class_<bertcpp::NextSentencePredictor>(m, "NextSentencePredictor")
      .def_static("load",
                  [](const std::filesystem::path& dir, int threads, const std::string& compute) {
                    const auto o = load_options(threads, compute, true, false, true);
                    nb::gil_scoped_release release;
                    return bertcpp::NextSentencePredictor::load(dir, o);
                  },
                  "dir"_a, "threads"_a, "compute"_a)
      .def("predict", [](const bertcpp::NextSentencePredictor& p, const std::string& a, const std::string& b) {
        bertcpp::NextSentence r;
        {
          nb::gil_scoped_release release;
          r = p.predict(a, b);
        }
        return nb::make_tuple(static_cast<double>(r.is_next), to_numpy(r.logits));
      });
}

}  // namespace

NB_MODULE(_native, m) {
  m.doc() = "bertcpp's C++ API (include/bertcpp); use the Python package `bertcpp` on top of it.";
  nb::module_ errors = nb::module_::import_("bertcpp.errors");
  ErrorClasses& c = error_classes();
  c.error = errors.attr("Error").inc_ref();
  c.io = errors.attr("IoError").inc_ref();
  c.format = errors.attr("FormatError").inc_ref();
  c.config = errors.attr("ConfigError").inc_ref();
  c.unsupported = errors.attr("UnsupportedError").inc_ref();
  c.invalid_argument = errors.attr("InvalidArgumentError").inc_ref();
  c.utf8 = errors.attr("Utf8Error").inc_ref();
  nb::register_exception_translator(&translate_error);

  bind_tokenizer(m);
  bind_model(m);
  bind_pipelines(m);
}
