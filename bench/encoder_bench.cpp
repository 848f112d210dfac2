// Encoder throughput on a BERT-base-shaped model, next to a plain oneDNN fp32 GEMM measured in the same run.
//
//   build-cli/bench/encoder_bench [--threads=N] [--benchmark_filter=...] [google-benchmark flags]
//   build-cli/bench/encoder_bench --profile [--threads=N]   time per stage of forward(), GEMMs next to a bare GEMM
//   build-cli/bench/encoder_bench --compute=int8|bf16 [...]  the encoder in that compute type (LoadOptions::compute),
//       next to a bare oneDNN GEMM of the same data types (u8 x s8 -> s32, or bf16 x bf16 -> f32) instead of
//       the fp32 one; "GFLOP" then counts integer / bf16 operations (GOP/s).
//
// The model: 12 layers, hidden 768, 12 heads, FFN 3072, vocab 30522, 512 positions; random weights (fixed seed)
// written once per run as config.json + model.safetensors into a temp dir, then loaded with BertModel::load.
// BERTCPP_BENCH_MODEL=DIR benchmarks that checkpoint instead (the FLOP count then follows its config.json).
// Encoder/AlbertBase is albert-base-v2's shape: embedding 128 projected to hidden 768, one stored layer run 12
// times (num_hidden_groups 1), vocab 30000, gelu_new - the same GEMM work as BERT-base with 1/12 of the
// layer weights, so it shows what weight sharing does to cache behaviour.
//
// Counters (rates, printed as "GFLOP=123/s"): tokens per second, GFLOP per second (the FLOP count below), and
// sgemm_frac = the encoder's GFLOP/s divided by the best GFLOP/s of the oneDNN GEMM benchmarks of this run
// (registered first so they run first). The GEMM label names the oneDNN implementation (e.g. brg:avx512_core).
//
// FLOPs of one forward call on B sequences of S tokens (T = B*S tokens, hidden H, FFN I, L layers):
//   per layer: 2*T*H*(3H + H + 2I)   Q/K/V projections (3H), attention output projection (H), FFN up and down (2I)
//            + 4*B*S^2*H             Q K^T and softmax(.) V, 2*S*S*H each per sequence
//   total = L * per layer (embeddings, LayerNorm, GELU, softmax and the pooler are left out: O(T*H), small),
//   L = layers run (ALBERT: num_hidden_layers * inner_group_num), plus 2*T*E*H for ALBERT's embedding projection.
// BERT-base at 1 x 128: 22.3 GFLOP.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <omp.h>
#include <unistd.h>

#include "oneapi/dnnl/dnnl.hpp"

#include "bertcpp/model.hpp"
#include "common/profile.hpp"
#include "kernels/linear_int8.hpp"
#include "kernels/attention.hpp"

namespace {

// Threads for the model and for oneDNN; 0 = all cores (the OpenMP default). Set by --threads=N.
int g_threads = 0;
// Best GFLOP/s of the oneDNN GEMM benchmarks run so far in this process.
double g_best_sgemm_gflops = 0.0;
// The encoder's compute type (--compute=); the bare GEMM benchmark uses the same data types.
bertcpp::ComputeType g_compute = bertcpp::ComputeType::fp32;

enum class Arch { bert, albert };

struct Dims {
  std::int64_t vocab = 30522, hidden = 768, layers = 12, heads = 12, ffn = 3072, positions = 512, types = 2;
  std::int64_t embedding = 768;  // ALBERT: 128
};

Dims dims_of(Arch arch) {
  Dims d;
  if (arch == Arch::albert) {
    d.vocab = 30000;
    d.embedding = 128;
  }
  return d;
}

// ---- a random BERT-base checkpoint ------------------------------------------------------------------------------

struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
  enum Init { normal, ones, zeros } init = normal;
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

std::vector<TensorSpec> bert_tensors(const Dims& d) {
  const std::int64_t H = d.hidden, I = d.ffn;
  std::vector<TensorSpec> t = {
      {"embeddings.word_embeddings.weight", {d.vocab, H}},
      {"embeddings.position_embeddings.weight", {d.positions, H}},
      {"embeddings.token_type_embeddings.weight", {d.types, H}},
      {"embeddings.LayerNorm.weight", {H}, TensorSpec::ones},
      {"embeddings.LayerNorm.bias", {H}, TensorSpec::zeros},
  };
  for (std::int64_t l = 0; l < d.layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* proj : {"query", "key", "value"}) {
      t.push_back({p + "attention.self." + proj + ".weight", {H, H}});
      t.push_back({p + "attention.self." + proj + ".bias", {H}});
    }
    t.push_back({p + "attention.output.dense.weight", {H, H}});
    t.push_back({p + "attention.output.dense.bias", {H}});
    t.push_back({p + "attention.output.LayerNorm.weight", {H}, TensorSpec::ones});
    t.push_back({p + "attention.output.LayerNorm.bias", {H}, TensorSpec::zeros});
    t.push_back({p + "intermediate.dense.weight", {I, H}});
    t.push_back({p + "intermediate.dense.bias", {I}});
    t.push_back({p + "output.dense.weight", {H, I}});
    t.push_back({p + "output.dense.bias", {H}});
    t.push_back({p + "output.LayerNorm.weight", {H}, TensorSpec::ones});
    t.push_back({p + "output.LayerNorm.bias", {H}, TensorSpec::zeros});
  }
  t.push_back({"pooler.dense.weight", {H, H}});
  t.push_back({"pooler.dense.bias", {H}});
  return t;
}

// albert-base-v2's tensors (bare AlbertModel names): one group of one layer, shared by every depth.
std::vector<TensorSpec> albert_tensors(const Dims& d) {
  const std::int64_t H = d.hidden, I = d.ffn, E = d.embedding;
  std::vector<TensorSpec> t = {
      {"embeddings.word_embeddings.weight", {d.vocab, E}},
      {"embeddings.position_embeddings.weight", {d.positions, E}},
      {"embeddings.token_type_embeddings.weight", {d.types, E}},
      {"embeddings.LayerNorm.weight", {E}, TensorSpec::ones},
      {"embeddings.LayerNorm.bias", {E}, TensorSpec::zeros},
      {"encoder.embedding_hidden_mapping_in.weight", {H, E}},
      {"encoder.embedding_hidden_mapping_in.bias", {H}},
  };
  const std::string p = "encoder.albert_layer_groups.0.albert_layers.0.";
  for (const char* proj : {"query", "key", "value", "dense"}) {
    t.push_back({p + "attention." + proj + ".weight", {H, H}});
    t.push_back({p + "attention." + proj + ".bias", {H}});
  }
  t.push_back({p + "attention.LayerNorm.weight", {H}, TensorSpec::ones});
  t.push_back({p + "attention.LayerNorm.bias", {H}, TensorSpec::zeros});
  t.push_back({p + "ffn.weight", {I, H}});
  t.push_back({p + "ffn.bias", {I}});
  t.push_back({p + "ffn_output.weight", {H, I}});
  t.push_back({p + "ffn_output.bias", {H}});
  t.push_back({p + "full_layer_layer_norm.weight", {H}, TensorSpec::ones});
  t.push_back({p + "full_layer_layer_norm.bias", {H}, TensorSpec::zeros});
  t.push_back({"pooler.weight", {H, H}});
  t.push_back({"pooler.bias", {H}});
  return t;
}

// Writes model.safetensors (F32; normal(0, 0.02) weights as in BERT's initializer, LayerNorm 1 / 0) and
// config.json. Tensors are generated and written one at a time.
void write_checkpoint(const std::filesystem::path& dir, Arch arch, const Dims& d, std::uint32_t seed) {
  const auto tensors = arch == Arch::albert ? albert_tensors(d) : bert_tensors(d);
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * sizeof(float);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // keep the data block 8-byte aligned

  std::ofstream out(dir / "model.safetensors", std::ios::binary);
  const std::uint64_t header_size = header_text.size();  // little-endian on x86
  out.write(reinterpret_cast<const char*>(&header_size), sizeof header_size);
  out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> values;
  for (const auto& t : tensors) {
    values.assign(static_cast<std::size_t>(t.numel()), t.init == TensorSpec::ones ? 1.0f : 0.0f);
    if (t.init == TensorSpec::normal) {
      for (auto& v : values) v = normal(rng);
    }
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
  }
  if (!out) throw std::runtime_error("cannot write " + (dir / "model.safetensors").string());

  nlohmann::json config = {
      {"model_type", "bert"},          {"architectures", {"BertModel"}},
      {"vocab_size", d.vocab},         {"hidden_size", d.hidden},
      {"num_hidden_layers", d.layers}, {"num_attention_heads", d.heads},
      {"intermediate_size", d.ffn},    {"hidden_act", "gelu"},
      {"layer_norm_eps", 1e-12},       {"max_position_embeddings", d.positions},
      {"type_vocab_size", d.types},    {"pad_token_id", 0},
      {"position_embedding_type", "absolute"},
  };
  if (arch == Arch::albert) {
    config["model_type"] = "albert";
    config["architectures"] = {"AlbertModel"};
    config["embedding_size"] = d.embedding;
    config["num_hidden_groups"] = 1;
    config["inner_group_num"] = 1;
    config["hidden_act"] = "gelu_new";
  }
  std::ofstream(dir / "config.json") << config.dump(2) << '\n';
}

// The checkpoint directory of this run: BERTCPP_BENCH_MODEL (BERT case only), or a random BERT-base /
// ALBERT-base written on first use and removed at exit.
class BenchModel {
 public:
  static const bertcpp::BertModel& get(Arch arch) {
    if (arch == Arch::albert) {
      static BenchModel albert(Arch::albert);
      return albert.model_;
    }
    static BenchModel bert(Arch::bert);
    return bert.model_;
  }

 private:
  explicit BenchModel(Arch arch) : model_(load(arch)) {}
  ~BenchModel() {
    std::error_code ec;
    if (!temp_dir_.empty()) std::filesystem::remove_all(temp_dir_, ec);
  }

  bertcpp::BertModel load(Arch arch) {
    std::filesystem::path dir;
    if (const char* env = std::getenv("BERTCPP_BENCH_MODEL"); env && *env && arch == Arch::bert) {
      dir = env;
    } else {
      temp_dir_ = std::filesystem::temp_directory_path() /
                  ("bertcpp-encoder-bench-" + std::string(arch == Arch::albert ? "albert-" : "") +
                   std::to_string(::getpid()));
      std::filesystem::create_directories(temp_dir_);
      write_checkpoint(temp_dir_, arch, dims_of(arch), /*seed=*/1234);
      dir = temp_dir_;
    }
    bertcpp::LoadOptions options;
    options.threads = g_threads;
    options.compute = g_compute;
    return bertcpp::BertModel::load(dir, options);
  }

  std::filesystem::path temp_dir_;
  bertcpp::BertModel model_;
};

double forward_flops(const bertcpp::ModelConfig& c, std::int64_t batch, std::int64_t seq) {
  const double T = static_cast<double>(batch * seq), H = static_cast<double>(c.hidden_size),
               I = static_cast<double>(c.intermediate_size), S = static_cast<double>(seq);
  const double per_layer = 2.0 * T * H * (3.0 * H + H + 2.0 * I) + 4.0 * static_cast<double>(batch) * S * S * H;
  const double projection = c.embedding_size != c.hidden_size ? 2.0 * T * static_cast<double>(c.embedding_size) * H : 0.0;
  return static_cast<double>(c.layers_run()) * per_layer + projection;
}

// GFLOP/s of `iterations` runs of `flops` each since `start` (wall clock, as UseRealTime reports).
double achieved_gflops(double flops, benchmark::IterationCount iterations, std::chrono::steady_clock::time_point start) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return seconds > 0 ? flops * static_cast<double>(iterations) / seconds / 1e9 : 0.0;
}

// ---- benchmarks -------------------------------------------------------------------------------------------------

// fp32 C[M,N] = A[M,K] * B[K,N] with oneDNN matmul, weights reordered once into the layout of range(3)
// (0: the primitive's preferred, format_tag::any; 1: plain ab = W^T [K, N]; 2: ba = W [N, K]), as an engine that
// prepacks at load time would do. Fixed shapes (no runtime dims). The best of all layouts is the reference the
// encoder's sgemm_frac divides by.
void BM_OnednnSgemm(benchmark::State& state) {
  const dnnl::memory::dim M = state.range(0), K = state.range(1), N = state.range(2);
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  const tag layouts[] = {tag::any, tag::ab, tag::ba};
  const char* layout_names[] = {"any", "ab", "ba"};
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  // --compute=int8: u8 x s8 -> s32 (the int8 encoder's GEMMs, before bertcpp's epilogue); bf16: bf16 x bf16 -> f32.
  const dt a_type = g_compute == bertcpp::ComputeType::int8   ? dt::u8
                    : g_compute == bertcpp::ComputeType::bf16 ? dt::bf16
                                                              : dt::f32;
  const dt b_type = g_compute == bertcpp::ComputeType::int8 ? dt::s8 : a_type;
  if (a_type != dt::f32) {
    const dnnl::memory::desc a_md({M, K}, a_type, tag::ab), b_any_md({K, N}, b_type, tag::any),
        c_md({M, N}, a_type == dt::u8 ? dt::s32 : dt::f32, tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_any_md, c_md), engine);
    dnnl::memory a(a_md, engine), b(pd.weights_desc(), engine), c(c_md, engine);
    std::memset(a.get_data_handle(), 0x3f, a_md.get_size());  // small normal values in every type
    std::memset(b.get_data_handle(), 0x3e, pd.weights_desc().get_size());
    const dnnl::matmul matmul(pd);
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
      matmul.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
      stream.wait();
    }
    const double ops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
    g_best_sgemm_gflops = std::max(g_best_sgemm_gflops, achieved_gflops(ops, state.iterations(), start));
    if (a_type == dt::u8) {
      // The int8 encoder may run its GEMMs as one single-threaded GEMM per thread on 16-row chunks instead
      // (kernels/linear_int8.hpp): the encoder's fraction is against the faster of the two.
      const auto t = bertcpp::kernels::time_int8_schedules(engine, M, K, N, bertcpp::kernels::WeightLayout::onednn_preferred);
      g_best_sgemm_gflops = std::max(g_best_sgemm_gflops, ops / t.row_chunks / 1e9);
      state.counters["row_chunks_GOP"] = ops / t.row_chunks / 1e9;
    }
    state.counters["GFLOP"] = benchmark::Counter(ops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(pd.impl_info_str());
    return;
  }
  const dnnl::memory::desc a_md({M, K}, dt::f32, tag::ab), b_plain_md({K, N}, dt::f32, tag::ab),
      b_md({K, N}, dt::f32, layouts[state.range(3)]), c_md({M, N}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), engine);

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  dnnl::memory a(a_md, engine), b_plain(b_plain_md, engine), b(pd.weights_desc(), engine), c(c_md, engine);
  for (auto* mem : {&a, &b_plain}) {
    auto* p = static_cast<float*>(mem->get_data_handle());
    for (std::size_t i = 0; i < mem->get_desc().get_size() / sizeof(float); ++i) p[i] = uniform(rng);
  }
  dnnl::reorder(b_plain, b).execute(stream, b_plain, b);
  stream.wait();

  const dnnl::matmul matmul(pd);
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    matmul.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    stream.wait();
  }
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  g_best_sgemm_gflops = std::max(g_best_sgemm_gflops, achieved_gflops(flops, state.iterations(), start));
  state.counters["GFLOP"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(layout_names[state.range(3)]) + " " + pd.impl_info_str());
}

// Attention alone on BERT-base heads (12 x 64) over batch x seq packed tokens: the blocked kernel the encoder uses
// (range(2) = 1) against the whole-sequence kernel it replaced (0). FLOPs: 4*B*S^2*H (Q K^T and P V).
void BM_Attention(benchmark::State& state) {
  const std::int64_t batch = state.range(0), seq = state.range(1);
  const bool blocked = state.range(2) == 1;
  const std::int64_t heads = 12, d = 64, H = heads * d, tokens = batch * seq;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> qkv(static_cast<std::size_t>(tokens * 3 * H)), context(static_cast<std::size_t>(tokens * H));
  for (auto& x : qkv) x = normal(rng);
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(batch + 1));
  for (std::int64_t b = 0; b <= batch; ++b) offsets[static_cast<std::size_t>(b)] = b * seq;
  bertcpp::common::AlignedVector<float> scratch;
  for (auto _ : state) {
    if (blocked) {
      bertcpp::kernels::attention(qkv.data(), context.data(), offsets, {heads, d}, scratch);
    } else {
      bertcpp::kernels::attention_full_scores(qkv.data(), context.data(), offsets, {heads, d}, scratch);
    }
    benchmark::DoNotOptimize(context.data());
  }
  const double flops = 4.0 * static_cast<double>(batch) * static_cast<double>(seq * seq) * static_cast<double>(H);
  state.counters["GFLOP"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(blocked ? "blocked (online softmax, oneDNN sgemm)" : "whole-sequence scores (Eigen)");
}

void BM_Encoder(benchmark::State& state, Arch arch) {
  const std::int64_t batch = state.range(0), seq = state.range(1);
  const bertcpp::BertModel* model = nullptr;
  try {
    model = &BenchModel::get(arch);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const auto& config = model->config();
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(config.vocab_size - 1));
  bertcpp::Batch input;
  for (std::int64_t b = 0; b < batch; ++b) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(seq));
    for (auto& x : ids) x = id(rng);
    input.add(std::move(ids));
  }
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    auto out = model->forward(input);
    benchmark::DoNotOptimize(out.last_hidden_state.data.data());
  }
  const double flops = forward_flops(config, batch, seq);
  if (g_best_sgemm_gflops > 0) {
    state.counters["sgemm_frac"] = achieved_gflops(flops, state.iterations(), start) / g_best_sgemm_gflops;
  }
  state.counters["tokens"] =
      benchmark::Counter(static_cast<double>(batch * seq), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- --profile: where the time goes ------------------------------------------------------------------------------

// GFLOP/s (GOP/s) of a bare oneDNN matmul [M,K] x [K,N] in the data types of --compute (fp32; int8: u8 x s8 ->
// s32, what the int8 encoder's GEMMs run before bertcpp's epilogue; bf16 x bf16 -> f32) with the weights in
// `weights_tag` (format_tag::any: the primitive's own choice), best of `reps` after one warm-up; 0 when oneDNN
// has no implementation.
double bare_gemm_gflops(std::int64_t M, std::int64_t K, std::int64_t N, dnnl::memory::format_tag weights_tag, int reps) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const bool int8 = g_compute == bertcpp::ComputeType::int8, bf16 = g_compute == bertcpp::ComputeType::bf16;
  const dt a_type = int8 ? dt::u8 : bf16 ? dt::bf16 : dt::f32, w_type = int8 ? dt::s8 : a_type;
  const dnnl::memory::desc a_md({M, K}, a_type, tag::ab), w_md({K, N}, w_type, weights_tag),
      c_md({M, N}, int8 ? dt::s32 : dt::f32, tag::ab);
  try {
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, w_md, c_md), engine);
    dnnl::memory a(a_md, engine), w(pd.weights_desc(), engine), c(c_md, engine);
    if (a_type == dt::f32) {
      std::fill_n(static_cast<float*>(a.get_data_handle()), M * K, 0.5f);
      std::fill_n(static_cast<float*>(w.get_data_handle()), pd.weights_desc().get_size() / sizeof(float), 0.25f);
    } else {  // small normal values in every type
      std::memset(a.get_data_handle(), 0x3f, a_md.get_size());
      std::memset(w.get_data_handle(), 0x3e, pd.weights_desc().get_size());
    }
    const dnnl::matmul matmul(pd);
    double best = 1e30;
    if (int8) {
      // The int8 encoder's GEMMs run under the faster of two thread schedules (kernels/linear_int8.hpp): so
      // does the bare one.
      const auto layout = weights_tag == tag::ab   ? bertcpp::kernels::WeightLayout::plain_kn
                          : weights_tag == tag::ba ? bertcpp::kernels::WeightLayout::plain_nk
                                                   : bertcpp::kernels::WeightLayout::onednn_preferred;
      for (int r = 0; r < std::max(1, reps / 2); ++r) {
        const auto t = bertcpp::kernels::time_int8_schedules(engine, M, K, N, layout);
        best = std::min({best, t.onednn_threads, t.row_chunks});
      }
      return 2.0 * static_cast<double>(M) * static_cast<double>(K) * static_cast<double>(N) / best / 1e9;
    }
    for (int r = 0; r <= reps; ++r) {
      const auto start = std::chrono::steady_clock::now();
      matmul.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, c}});
      stream.wait();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (r > 0) best = std::min(best, s);
    }
    return 2.0 * static_cast<double>(M) * static_cast<double>(K) * static_cast<double>(N) / best / 1e9;
  } catch (const dnnl::error&) {
    return 0.0;
  }
}

// Per-stage time of BertModel::forward on batch x seq random ids: one table per shape on stdout.
void profile_shape(const bertcpp::BertModel& model, std::int64_t batch, std::int64_t seq, int iters) {
  using bertcpp::common::Stage;
  const auto& c = model.config();
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(c.vocab_size - 1));
  bertcpp::Batch input;
  for (std::int64_t b = 0; b < batch; ++b) {
    std::vector<std::int32_t> ids(static_cast<std::size_t>(seq));
    for (auto& x : ids) x = id(rng);
    input.add(std::move(ids));
  }
  for (int i = 0; i < 2; ++i) model.forward(input);
  bertcpp::common::StageProfile profile;
  double total = 1e30;
  {
    bertcpp::common::ProfileScope scope(profile);
    for (int i = 0; i < iters; ++i) {
      const auto start = std::chrono::steady_clock::now();
      model.forward(input);
      total = std::min(total, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  // The best bare GEMM of each GEMM stage's shape, over the weight layouts oneDNN offers here.
  const std::int64_t M = batch * seq, H = c.hidden_size, I = c.intermediate_size;
  struct Gemm { Stage stage; std::int64_t k, n; };
  const Gemm gemms[] = {{Stage::qkv_gemm, H, 3 * H}, {Stage::attn_out_gemm, H, H},
                        {Stage::ffn_up_gemm, H, I}, {Stage::ffn_down_gemm, I, H}};
  double bare[static_cast<int>(Stage::count)] = {};
  for (const Gemm& g : gemms) {
    using tag = dnnl::memory::format_tag;
    for (tag t : {tag::any, tag::ab, tag::ba})
      bare[static_cast<int>(g.stage)] = std::max(bare[static_cast<int>(g.stage)], bare_gemm_gflops(M, g.k, g.n, t, 3));
  }
  double sum = 0;
  for (double s : profile.seconds) sum += s;
  std::printf("\nprofile %lld x %lld (%d forward calls; best call %.2f ms, mean %.2f ms)\n", static_cast<long long>(batch),
              static_cast<long long>(seq), iters, total * 1e3, sum / iters * 1e3);
  std::printf("| stage | ms per call | share | GFLOP/s | best bare GEMM GFLOP/s | ratio |\n|---|---:|---:|---:|---:|---:|\n");
  for (int i = 0; i < static_cast<int>(Stage::count); ++i) {
    if (profile.calls[i] == 0) continue;
    const double ms = profile.seconds[i] / iters * 1e3;
    std::printf("| %s | %.2f | %.1f%% |", std::string(bertcpp::common::kStageNames[i]).c_str(), ms,
                100.0 * profile.seconds[i] / sum);
    if (profile.flops[i] > 0) {
      const double gflops = profile.flops[i] / profile.seconds[i] / 1e9;
      if (bare[i] > 0) {
        std::printf(" %.1f | %.1f | %.2f |\n", gflops, bare[i], gflops / bare[i]);
      } else {
        std::printf(" %.1f | | |\n", gflops);
      }
    } else {
      std::printf(" | | |\n");
    }
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  // --threads=N is ours; everything else goes to Google Benchmark.
  std::vector<char*> args;
  bool profile = false;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      g_threads = std::atoi(argv[i] + 10);
    } else if (std::strncmp(argv[i], "--compute=", 10) == 0) {
      const auto compute = bertcpp::parse_compute_type(argv[i] + 10);
      if (!compute) {
        std::fprintf(stderr, "--compute=%s: expected fp32, int8 or bf16\n", argv[i] + 10);
        return 2;
      }
      g_compute = *compute;
    } else if (std::strcmp(argv[i], "--profile") == 0) {
      profile = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  if (g_threads > 0) omp_set_num_threads(g_threads);
  if (profile) {
    // Per-stage breakdown instead of the benchmarks (BERT-base, or BERTCPP_BENCH_MODEL).
    const auto& model = BenchModel::get(Arch::bert);
    for (auto [batch, seq] : {std::pair<int, int>{1, 128}, {8, 128}, {1, 512}, {32, 32}}) profile_shape(model, batch, seq, 5);
    return 0;
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::AddCustomContext("threads", std::to_string(g_threads > 0 ? g_threads : omp_get_max_threads()));
  benchmark::AddCustomContext("compute", std::string(bertcpp::to_string(g_compute)));

  // oneDNN GEMM first, so the encoder benchmarks can report their fraction of it.
  for (std::int64_t m : {128, 1024}) {
    benchmark::RegisterBenchmark("OnednnSgemm", BM_OnednnSgemm)
        ->ArgsProduct({{m}, {768}, {3072}, {0, 1, 2}})
        ->ArgNames({"M", "K", "N", "layout"})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (auto [batch, seq] : {std::pair<int, int>{1, 128}, {1, 512}, {8, 512}}) {
    benchmark::RegisterBenchmark("Attention", BM_Attention)
        ->ArgsProduct({{batch}, {seq}, {0, 1}})
        ->ArgNames({"batch", "seq", "blocked"})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (auto [batch, seq] : {std::pair<int, int>{1, 128}, {8, 128}, {1, 512}, {32, 32}}) {
    benchmark::RegisterBenchmark("Encoder/BertBase", BM_Encoder, Arch::bert)
        ->Args({batch, seq})
        ->ArgNames({"batch", "seq"})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(2.0);
  }
  for (auto [batch, seq] : {std::pair<int, int>{1, 128}, {8, 128}}) {
    benchmark::RegisterBenchmark("Encoder/AlbertBase", BM_Encoder, Arch::albert)
        ->Args({batch, seq})
        ->ArgNames({"batch", "seq"})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(2.0);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
