// Decoder::forward (see decoder.h). The batch is laid out on the host; every integer input of the
// step (ids, positions, KV slots, sequence rows, block table, logit rows) goes to the device in
// one asynchronous copy from pinned memory. Decode steps on a GPU (one token per sequence) are
// recorded once per (batch size, block-table width, KV pools) as a CUDA graph and replayed
// afterwards: the graph reads its inputs from its own device buffer, which each step overwrites
// before the replay, and its intermediates live in the graph's private memory pool.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <unordered_set>

#include "backend/backend.h"
#include "backend/ops.h"
#include "models/decoder.h"

namespace wick::models {

struct Decoder::StepInputs {
  Tensor ids, positions;
  Tensor logit_rows;  // undefined: logits for every row
  nn::KvBatch kv;
  int64_t max_position = 0;
};

namespace {

struct BatchLayout {
  std::vector<int32_t> ids, positions, logit_rows;
  std::vector<nn::SeqSlice> slices;
  int64_t max_position = 0;
};

BatchLayout layout_batch(std::span<const BatchItem> batch, const nn::KvCache& cache,
                         int64_t vocab) {
  WICK_CHECK(!batch.empty(), ErrorKind::kInvalidArgument, "forward: empty batch");
  BatchLayout b;
  std::unordered_set<int> seen;
  for (const BatchItem& item : batch) {
    WICK_CHECK(seen.insert(item.seq_id).second, ErrorKind::kInvalidArgument,
               "forward: sequence {} appears twice in one batch", item.seq_id);
    WICK_CHECK(!item.tokens.empty(), ErrorKind::kInvalidArgument,
               "forward: sequence {} has no tokens", item.seq_id);
    nn::SeqSlice s;
    s.seq_id = item.seq_id;
    s.begin = static_cast<int64_t>(b.ids.size());
    s.length = static_cast<int64_t>(item.tokens.size());
    s.past = cache.length(item.seq_id);
    for (int64_t i = 0; i < s.length; ++i) {
      const int32_t id = item.tokens[static_cast<size_t>(i)];
      WICK_CHECK(id >= 0 && id < vocab, ErrorKind::kInvalidArgument,
                 "forward: token id {} outside the vocabulary [0, {})", id, vocab);
      b.ids.push_back(id);
      b.positions.push_back(static_cast<int32_t>(s.past + i));
      if (item.all_logits || i == s.length - 1)
        b.logit_rows.push_back(static_cast<int32_t>(s.begin + i));
    }
    b.max_position = std::max(b.max_position, s.past + s.length - 1);
    b.slices.push_back(s);
  }
  return b;
}

bool graphs_from_env() {
  const char* e = std::getenv("WICK_CUDA_GRAPHS");
  return e == nullptr || e[0] == '\0' || std::strcmp(e, "0") != 0;
}

// The step's i32 inputs back to back: ids (N), positions (N), slots (N), seqs (B x 3), block
// table (B x M), logit rows (R, only when not every row).
struct Packed {
  std::vector<int32_t> data;
  int64_t n = 0, b = 0, m = 0, r = 0;
  int64_t max_q_len = 0;  // the longest sequence's new tokens (attention plans from it)
};

Packed pack(const BatchLayout& bl, const nn::KvBatchHost& kv) {
  Packed p;
  p.n = static_cast<int64_t>(bl.ids.size());
  p.b = kv.batch;
  p.m = kv.columns;
  for (const nn::SeqSlice& s : bl.slices) p.max_q_len = std::max(p.max_q_len, s.length);
  const bool every_row = static_cast<int64_t>(bl.logit_rows.size()) == p.n;
  p.r = every_row ? 0 : static_cast<int64_t>(bl.logit_rows.size());
  p.data.reserve(static_cast<size_t>(3 * p.n + 3 * p.b + p.b * p.m + p.r));
  for (const auto* v : {&bl.ids, &bl.positions, &kv.slots, &kv.seqs, &kv.block_table})
    p.data.insert(p.data.end(), v->begin(), v->end());
  if (!every_row) p.data.insert(p.data.end(), bl.logit_rows.begin(), bl.logit_rows.end());
  return p;
}

int64_t round_up_pow2(int64_t v) {
  int64_t p = 1;
  while (p < v) p *= 2;
  return p;
}

constexpr size_t kMaxGraphs = 8;  // recorded graphs kept per decoder (least recently used go)
constexpr int64_t kMaxGraphBatch = 256;  // larger decode batches run eagerly
constexpr int64_t kMinGraphColumns = 16;

}  // namespace

struct Decoder::StepState {
  struct Graph {
    int64_t batch = 0, columns = 0;
    std::vector<const void*> pools;  // the KV pools the graph reads and writes
    std::unique_ptr<StepGraph> graph;
    Tensor inputs;  // (size) i32 on the device: what each replay reads
    Tensor logits;  // what each replay writes
    uint64_t last_use = 0;
  };
  bool enabled = graphs_from_env();
  bool broken = false;  // a recording failed: decode runs eagerly from then on
  bool upload_pending = false;
  std::shared_ptr<Storage> staging;  // pinned host memory of the last upload
  std::vector<Graph> graphs;
  uint64_t clock = 0;
  int64_t recorded = 0;
  // The previous graph-eligible step's shape (see forward: record on the second sighting).
  int64_t last_batch = -1, last_columns = -1;
  std::vector<const void*> last_pools;

  // Pinned host buffers the logits come back in, reused once no tensor holds them: a large
  // batch's logits (B x vocab f32, 65 MB at 128 x 128256) then copy at the link's speed
  // instead of through freshly faulted pageable memory every step.
  std::vector<std::shared_ptr<Storage>> logits_host;

  // x (contiguous, on a device) copied to a CPU tensor in one of logits_host (or a new one).
  Tensor download(Backend& backend, const Tensor& logits) {
    const Tensor x = contiguous(logits);
    const size_t bytes = static_cast<size_t>(x.nbytes());
    std::shared_ptr<Storage> buf;
    for (const std::shared_ptr<Storage>& s : logits_host)
      if (s.use_count() == 1 && s->bytes() >= bytes) buf = s;
    if (buf == nullptr) {
      constexpr size_t kMaxBuffers = 4;
      if (logits_host.size() >= kMaxBuffers)  // drop a free one; in-use ones live on in tensors
        for (auto it = logits_host.begin(); it != logits_host.end(); ++it)
          if (it->use_count() == 1) {
            logits_host.erase(it);
            break;
          }
      buf = backend.allocate_pinned_host(bytes);
      logits_host.push_back(buf);
    }
    Tensor out = Tensor::from_storage(buf, x.shape(), x.dtype());
    backend.copy_device_to_host(x.raw_data(), out.raw_data(), bytes);
    return out;
  }

  // dst (i32, on `dev`) = data, through the pinned staging buffer, asynchronously.
  void upload(Backend& backend, Device dev, const std::vector<int32_t>& data, Tensor& dst) {
    const size_t bytes = data.size() * sizeof(int32_t);
    // The staging buffer may still feed the previous copy if that step failed before its
    // logits came back (which waits for the copy).
    if (upload_pending) backend.synchronize();
    if (staging == nullptr || staging->bytes() < bytes)
      staging = backend.allocate_pinned_host(std::max<size_t>(bytes, 4096) * 2);
    std::memcpy(staging->data(), data.data(), bytes);
    upload_pending = true;
    backend.copy_host_to_device_async(dev, staging->data(), dst.raw_data(), bytes);
  }
};

Decoder::Decoder(ModelConfig config)
    : Model(std::move(config)), step_(std::make_unique<StepState>()) {}
Decoder::~Decoder() = default;

void Decoder::set_step_graphs(bool enabled) {
  step_->enabled = enabled;
  if (!enabled) step_->graphs.clear();
}
bool Decoder::step_graphs() const {
  return step_->enabled && !step_->broken;
}
int64_t Decoder::step_graphs_recorded() const {
  return step_->recorded;
}

namespace {

// Views of the packed buffer (see Packed).
template <class Inputs>
Inputs views_of(const Tensor& buf, const Packed& p, int64_t max_position) {
  Inputs in;
  int64_t off = 0;
  auto take = [&](int64_t n) {
    Tensor t = buf.narrow(0, off, n);
    off += n;
    return t;
  };
  in.ids = take(p.n);
  in.positions = take(p.n);
  in.kv.slots = take(p.n);
  in.kv.seqs = take(3 * p.b).reshape(Shape{p.b, 3});
  in.kv.block_table = take(p.b * p.m).reshape(Shape{p.b, p.m});
  in.kv.max_q_len = p.max_q_len;
  if (p.r > 0) in.logit_rows = take(p.r);
  in.max_position = max_position;
  return in;
}

}  // namespace

namespace {

// {x + h, norm(x + h)}: one fused launch for an RMSNorm on a GPU (add_rms_norm), else two ops
// (the CPU keeps its fast add and norm kernels).
std::pair<Tensor, Tensor> add_norm(const Tensor& x, const Tensor& h, const nn::Norm& norm) {
  if (norm.kind == nn::Norm::Kind::kRms && !x.device().is_cpu())
    return add_rms_norm(x, h, norm.weight, norm.eps, norm.weight_offset);
  Tensor sum = add(x, h);
  Tensor normed = norm(sum);
  return {std::move(sum), std::move(normed)};
}

}  // namespace

Tensor Decoder::run_step(const StepInputs& in, nn::KvCache& cache) const {
  const ModelConfig& c = config();
  Tensor x = embed_tokens(in.ids, in.positions);
  Tensor xn = layers.empty() ? Tensor() : layers[0].attn_norm(x);  // the next block's input
  for (size_t l = 0; l < layers.size(); ++l) {
    const DecoderLayer& layer = layers[l];
    Tensor h = layer.attn(xn, in.positions, in.max_position, in.kv, cache, static_cast<int>(l));
    if (layer.post_attn_norm.defined()) h = layer.post_attn_norm(h);
    std::tie(x, xn) = add_norm(x, h, layer.ffn_norm);
    h = (*layer.ffn)(xn);
    if (layer.post_ffn_norm.defined()) h = layer.post_ffn_norm(h);
    if (l + 1 < layers.size()) {
      std::tie(x, xn) = add_norm(x, h, layers[l + 1].attn_norm);
    } else if (in.logit_rows.defined()) {  // norm only the rows that get logits
      xn = final_norm(index_select(add(x, h), 0, in.logit_rows));
    } else {
      std::tie(x, xn) = add_norm(x, h, final_norm);
    }
  }
  if (layers.empty())
    xn = final_norm(in.logit_rows.defined() ? index_select(x, 0, in.logit_rows) : x);
  Tensor logits = lm_head(xn);
  if (c.final_softcap > 0.0f) {
    const auto cap = static_cast<double>(c.final_softcap);
    logits = mul(tanh(div(logits, cap)), cap);
  }
  return logits;
}

Tensor Decoder::forward(std::span<const BatchItem> batch, nn::KvCache& cache) const {
  const ModelConfig& c = config();
  const BatchLayout bl = layout_batch(batch, cache, c.vocab_size);
  if (pos_embed.defined())
    WICK_CHECK(bl.max_position < pos_embed.dim(0), ErrorKind::kInvalidArgument,
               "forward: position {} beyond the model's {} learned positions", bl.max_position,
               pos_embed.dim(0));
  // Activations live where the weights were loaded; only the logits come back to the host.
  const Device dev = embed.weight.device();
  auto commit = [&] {
    for (const BatchItem& item : batch) cache.commit(item.seq_id, item.tokens);
  };
  if (dev.is_cpu()) {
    const Packed p = pack(bl, cache.prepare_host(bl.slices));
    const Tensor buf =
        Tensor::from_vector<int32_t>(Shape{static_cast<int64_t>(p.data.size())}, p.data);
    Tensor logits = run_step(views_of<StepInputs>(buf, p, bl.max_position), cache);
    commit();
    return logits;
  }
  Backend* backend = find_backend(dev.type);
  WICK_CHECK(backend != nullptr, ErrorKind::kUnsupported, "no backend for {}", dev.str());
  StepState& st = *step_;

  const auto B = static_cast<int64_t>(batch.size());
  bool graph = st.enabled && !st.broken && static_cast<int64_t>(bl.ids.size()) == B &&
               B <= kMaxGraphBatch && cache.options().device == dev;
  for (size_t l = 0; graph && l < layers.size(); ++l)
    graph = !(layers[l].attn.rope.defined() && layers[l].attn.rope.dynamic());
  int64_t columns = 0;
  if (graph) {
    for (const nn::SeqSlice& s : bl.slices)
      columns = std::max(columns, cache.blocks_for(s.past + s.length));
    columns = std::max(kMinGraphColumns, round_up_pow2(columns));
  }
  const Packed p = pack(bl, cache.prepare_host(bl.slices, columns));

  std::vector<const void*> pools;
  StepState::Graph* hit = nullptr;
  bool record = false;
  if (graph) {
    for (int l = 0; l < cache.n_layers(); ++l) {
      pools.push_back(cache.keys(l).raw_data());
      pools.push_back(cache.values(l).raw_data());
    }
    for (StepState::Graph& g : st.graphs)
      if (g.batch == B && g.columns == p.m && g.pools == pools) hit = &g;
    // Record only a shape the previous step had too: a server's batch size changes often while
    // requests come and go, and each recording costs about one more step.
    record =
        hit == nullptr && st.last_batch == B && st.last_columns == p.m && st.last_pools == pools;
    st.last_batch = B;
    st.last_columns = p.m;
    st.last_pools = pools;
  }

  if (hit == nullptr && !record) {
    Tensor buf = Tensor::empty(Shape{static_cast<int64_t>(p.data.size())}, DType::kI32, dev);
    st.upload(*backend, dev, p.data, buf);
    const Tensor logits = run_step(views_of<StepInputs>(buf, p, bl.max_position), cache);
    commit();
    Tensor host = st.download(*backend, logits);
    st.upload_pending = false;
    return host;
  }

  ++st.clock;
  if (hit != nullptr) {
    hit->last_use = st.clock;
    st.upload(*backend, dev, p.data, hit->inputs);
    hit->graph->replay();
    commit();
    Tensor host = st.download(*backend, hit->logits);
    st.upload_pending = false;
    return host;
  }

  // Second step of this shape: run it eagerly inside a new graph's pool (the warm-up, whose
  // logits this call returns), then record the same work for later steps.
  StepState::Graph g;
  g.graph = backend->new_step_graph(dev);
  if (g.graph == nullptr) {
    st.broken = true;
    return forward(batch, cache);
  }
  g.batch = B;
  g.columns = p.m;
  g.pools = pools;
  g.last_use = st.clock;
  g.graph->run_in_pool([&] {
    g.inputs = Tensor::empty(Shape{static_cast<int64_t>(p.data.size())}, DType::kI32, dev);
  });
  st.upload(*backend, dev, p.data, g.inputs);
  const StepInputs in = views_of<StepInputs>(g.inputs, p, bl.max_position);
  Tensor out;
  g.graph->run_in_pool([&] { out = run_step(in, cache); });
  commit();
  Tensor host = st.download(*backend, out);
  st.upload_pending = false;
  out = Tensor();
  if (!g.graph->capture([&] { g.logits = run_step(in, cache); })) {
    st.broken = true;
    st.graphs.clear();
    return host;
  }
  ++st.recorded;
  if (st.graphs.size() >= kMaxGraphs) {
    auto oldest = std::min_element(st.graphs.begin(), st.graphs.end(),
                                   [](const StepState::Graph& a, const StepState::Graph& b) {
                                     return a.last_use < b.last_use;
                                   });
    st.graphs.erase(oldest);
  }
  st.graphs.push_back(std::move(g));
  return host;
}

}  // namespace wick::models
