// The CUDA Backend (device detection, host<->device copies, synchronize) and the caching device
// allocator. Blocks are rounded to size classes (powers of two below 1 MiB, 2 MiB multiples
// above) and kept on per-device free lists when their Storage dies, so steady-state decode never
// calls cudaMalloc. Reuse is safe without events because each device has one stream: a block
// freed by host code is only reused by work queued after the work that last used it.
#include <cuda_runtime.h>

#include <array>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "backends/cuda/context.h"
#include "backends/cuda/memory_stats.h"

namespace wick::cuda {
namespace {

constexpr int kMaxDevices = 16;
constexpr size_t kMiB = size_t{1} << 20;

// The device this thread made current through set_device() (every cudaSetDevice of the backend
// goes through it), so the per-op context() lookup skips the driver call when it is unchanged.
thread_local int t_current_device = -1;

void set_device(int device) {
  if (t_current_device == device) return;
  check(cudaSetDevice(device), "cudaSetDevice");
  t_current_device = device;
}

size_t size_class(size_t bytes) {
  if (bytes <= 512) return 512;
  if (bytes < kMiB) {
    size_t c = 1024;
    while (c < bytes) c *= 2;
    return c;
  }
  return (bytes + 2 * kMiB - 1) / (2 * kMiB) * (2 * kMiB);
}

class CachingAllocator {
 public:
  void* allocate(int device, size_t bytes, size_t* cls) {
    *cls = size_class(bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<void*>& list = free_[device][*cls];
      if (!list.empty()) {
        void* p = list.back();
        list.pop_back();
        cached_bytes_[device] -= *cls;
        in_use_bytes_[device] += *cls;
        return p;
      }
    }
    set_device(device);
    void* p = nullptr;
    if (cudaMalloc(&p, *cls) == cudaSuccess) return count_new(device, p, *cls);
    (void)cudaGetLastError();
    release_cached(device);  // give the cache back to the driver and try once more
    if (cudaMalloc(&p, *cls) == cudaSuccess) return count_new(device, p, *cls);
    (void)cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    fail(ErrorKind::kOutOfMemory,
         "cuda:{}: cannot allocate {} bytes ({:.1f} MiB): {:.1f} MiB free of {:.1f} MiB on the "
         "device; the model or batch does not fit",
         device, bytes, static_cast<double>(bytes) / kMiB, static_cast<double>(free_bytes) / kMiB,
         static_cast<double>(total_bytes) / kMiB);
  }

  void release(int device, void* p, size_t cls) {
    std::lock_guard<std::mutex> lock(mu_);
    free_[device][cls].push_back(p);
    cached_bytes_[device] += cls;
    in_use_bytes_[device] -= cls;
  }

  MemoryStats stats(int device) {
    std::lock_guard<std::mutex> lock(mu_);
    return {in_use_bytes_[device], cached_bytes_[device]};
  }

  void release_cached(int device) {
    std::lock_guard<std::mutex> lock(mu_);
    (void)cudaDeviceSynchronize();
    for (auto& [cls, list] : free_[device])
      for (void* p : list) (void)cudaFree(p);
    free_[device].clear();
    cached_bytes_[device] = 0;
  }

 private:
  void* count_new(int device, void* p, size_t cls) {
    std::lock_guard<std::mutex> lock(mu_);
    in_use_bytes_[device] += cls;
    return p;
  }

  std::mutex mu_;
  std::array<std::unordered_map<size_t, std::vector<void*>>, kMaxDevices> free_;
  std::array<size_t, kMaxDevices> cached_bytes_{};
  std::array<size_t, kMaxDevices> in_use_bytes_{};
};

// Leaked on purpose: storages may outlive static destructors at exit.
CachingAllocator& allocator() {
  static auto* a = new CachingAllocator();
  return *a;
}

// A graph's private pool: its blocks are never handed to other work, so the addresses a recorded
// graph reads and writes stay its own. Blocks go back to the driver when the last storage and
// the graph that hold the pool are gone.
struct PrivatePool {
  explicit PrivatePool(int device) : device(device) {}
  ~PrivatePool() {
    t_current_device = -1;
    (void)cudaSetDevice(device);
    for (void* p : all) (void)cudaFree(p);
  }
  void* allocate(size_t bytes, size_t* cls) {
    *cls = size_class(bytes);
    {
      std::lock_guard<std::mutex> lock(mu);
      std::vector<void*>& list = free[*cls];
      if (!list.empty()) {
        void* p = list.back();
        list.pop_back();
        return p;
      }
    }
    set_device(device);
    void* p = nullptr;
    if (cudaMalloc(&p, *cls) != cudaSuccess) {
      (void)cudaGetLastError();
      allocator().release_cached(device);
      if (cudaMalloc(&p, *cls) != cudaSuccess) {
        (void)cudaGetLastError();
        fail(ErrorKind::kOutOfMemory, "cuda:{}: cannot allocate {} bytes for a CUDA graph's pool",
             device, bytes);
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    all.push_back(p);
    total += *cls;
    return p;
  }
  void release(void* p, size_t cls) {
    std::lock_guard<std::mutex> lock(mu);
    free[cls].push_back(p);
  }

  int device;
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free;
  std::vector<void*> all;
  size_t total = 0;
};

// The pool allocations of this thread come from (set while a graph warms up or records).
thread_local std::shared_ptr<PrivatePool> t_active_pool;

std::shared_ptr<Storage> allocate_cuda_storage(Device device, size_t bytes) {
  WICK_CHECK(device.index >= 0 && device.index < device_count() && device.index < kMaxDevices,
             ErrorKind::kInvalidArgument, "device {} does not exist ({} CUDA devices)",
             device.str(), device_count());
  size_t cls = 0;
  if (t_active_pool != nullptr && t_active_pool->device == device.index) {
    std::shared_ptr<PrivatePool> pool = t_active_pool;
    void* p = pool->allocate(bytes, &cls);
    std::shared_ptr<void> owner(p, [pool, cls](void* q) { pool->release(q, cls); });
    return std::make_shared<Storage>(device, p, bytes, std::move(owner));
  }
  void* p = allocator().allocate(device.index, bytes, &cls);
  const int index = device.index;
  std::shared_ptr<void> owner(p, [index, cls](void* q) { allocator().release(index, q, cls); });
  return std::make_shared<Storage>(device, p, bytes, std::move(owner));
}

// Sets the thread's active pool for a scope.
class ActivePool {
 public:
  explicit ActivePool(std::shared_ptr<PrivatePool> pool) : saved_(std::move(t_active_pool)) {
    t_active_pool = std::move(pool);
  }
  ~ActivePool() { t_active_pool = std::move(saved_); }
  ActivePool(const ActivePool&) = delete;
  ActivePool& operator=(const ActivePool&) = delete;

 private:
  std::shared_ptr<PrivatePool> saved_;
};

class CudaStepGraph final : public StepGraph {
 public:
  explicit CudaStepGraph(int device) : device_(device), pool_(std::make_shared<PrivatePool>(device)) {}
  ~CudaStepGraph() override {
    if (exec_ != nullptr) (void)cudaGraphExecDestroy(exec_);
  }
  void run_in_pool(const std::function<void()>& fn) override {
    ActivePool scope(pool_);
    fn();
  }
  bool capture(const std::function<void()>& fn) override {
    cudaStream_t s = context(device_).stream;
    // The legacy default stream must be idle: capture refuses to start behind pending work.
    check(cudaStreamSynchronize(s), "synchronize before capture");
    if (cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed) != cudaSuccess) {
      (void)cudaGetLastError();
      return false;
    }
    bool body_ok = true;
    try {
      ActivePool scope(pool_);
      fn();
    } catch (const std::exception&) {
      body_ok = false;
    }
    cudaGraph_t graph = nullptr;
    const cudaError_t end = cudaStreamEndCapture(s, &graph);
    bool ok = body_ok && end == cudaSuccess && graph != nullptr;
    if (ok && cudaGraphInstantiate(&exec_, graph, 0) != cudaSuccess) {
      exec_ = nullptr;
      ok = false;
    }
    if (graph != nullptr) (void)cudaGraphDestroy(graph);
    (void)cudaGetLastError();
    return ok;
  }
  void replay() override {
    WICK_CHECK(exec_ != nullptr, ErrorKind::kInternal, "replay of a CUDA graph never captured");
    check(cudaGraphLaunch(exec_, context(device_).stream), "graph launch");
  }
  size_t pool_bytes() const override {
    std::lock_guard<std::mutex> lock(pool_->mu);
    return pool_->total;
  }

 private:
  int device_;
  std::shared_ptr<PrivatePool> pool_;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace

MemoryStats memory_stats(int device) {
  if (device < 0 || device >= kMaxDevices) return {};
  return allocator().stats(device);
}

namespace {

class CudaBackend final : public Backend {
 public:
  DeviceType type() const override { return DeviceType::kCuda; }
  std::string name() const override { return "cuda"; }
  int device_count() const override { return cuda::device_count(); }
  // cudaMemcpy runs on the legacy default stream, which waits for (and is waited on by) the
  // per-device streams, so copies are ordered with queued kernels.
  void copy_host_to_device(const void* host, void* device_ptr, size_t bytes) override {
    if (bytes > 0)
      check(cudaMemcpy(device_ptr, host, bytes, cudaMemcpyHostToDevice), "copy to device");
  }
  void copy_device_to_host(const void* device_ptr, void* host, size_t bytes) override {
    if (bytes > 0)
      check(cudaMemcpy(host, device_ptr, bytes, cudaMemcpyDeviceToHost), "copy to host");
    raise_index_errors();
  }
  void copy_host_to_device_async(Device device, const void* host, void* device_ptr,
                                 size_t bytes) override {
    if (bytes > 0)
      check(cudaMemcpyAsync(device_ptr, host, bytes, cudaMemcpyHostToDevice,
                            context(device.index).stream),
            "async copy to device");
  }
  std::shared_ptr<Storage> allocate_pinned_host(size_t bytes) override {
    void* p = nullptr;
    if (cudaHostAlloc(&p, bytes == 0 ? 1 : bytes, cudaHostAllocDefault) != cudaSuccess) {
      (void)cudaGetLastError();
      return allocate_host_storage(bytes);
    }
    std::shared_ptr<void> owner(p, [](void* q) { (void)cudaFreeHost(q); });
    return std::make_shared<Storage>(Device::cpu(), p, bytes, std::move(owner));
  }
  bool memory_info(Device device, size_t* free_bytes, size_t* total_bytes) override {
    if (device.index < 0 || device.index >= device_count()) return false;
    set_device(device.index);
    return cudaMemGetInfo(free_bytes, total_bytes) == cudaSuccess;
  }
  std::unique_ptr<StepGraph> new_step_graph(Device device) override {
    if (device.type != DeviceType::kCuda || device.index < 0 || device.index >= device_count())
      return nullptr;
    return std::make_unique<CudaStepGraph>(device.index);
  }
  void copy_device_to_device(const void* src, void* dst, size_t bytes) override {
    if (bytes > 0) check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice), "device copy");
  }
  void synchronize() override {
    check(cudaDeviceSynchronize(), "synchronize");
    raise_index_errors();
  }

 private:
  static void raise_index_errors() {
    const bool bad = take_device_index_error() | take_device_rows_index_error();
    WICK_CHECK(!bad, ErrorKind::kInvalidArgument,
               "a CUDA index_select/gather/embedding met an index out of range (those outputs "
               "hold zeros)");
    WICK_CHECK(!take_device_attention_index_error(), ErrorKind::kInvalidArgument,
               "a CUDA attention/store_rows met a block-table or row index outside the KV pool "
               "(those keys read block 0; those rows were not stored)");
  }
};

const bool kRegistered = [] {
  static CudaBackend backend;
  register_backend(&backend);
  register_storage_allocator(DeviceType::kCuda, &allocate_cuda_storage);
  return true;
}();

}  // namespace

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

DeviceContext& context(int device) {
  static std::array<DeviceContext, kMaxDevices> contexts;
  static std::mutex mu;
  WICK_CHECK(device >= 0 && device < kMaxDevices && device < device_count(),
             ErrorKind::kInvalidArgument, "cuda:{} does not exist ({} CUDA devices)", device,
             device_count());
  set_device(device);
  DeviceContext& ctx = contexts[static_cast<size_t>(device)];
  if (ctx.stream == nullptr) {
    std::lock_guard<std::mutex> lock(mu);
    if (ctx.stream == nullptr) {
      cudaStream_t stream = nullptr;
      check(cudaStreamCreate(&stream), "cudaStreamCreate");
      check(cublasCreate(&ctx.cublas), "cublasCreate");
      check(cublasSetStream(ctx.cublas, stream), "cublasSetStream");
      ctx.stream = stream;
    }
  }
  return ctx;
}

cudaStream_t stream_for(const Tensor& t) {
  return context(t.device().index).stream;
}

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  (void)cudaGetLastError();
  fail(ErrorKind::kInternal, "cuda {}: {} ({})", what, cudaGetErrorString(err),
       cudaGetErrorName(err));
}

void check(cublasStatus_t status, const char* what) {
  WICK_CHECK(status == CUBLAS_STATUS_SUCCESS, ErrorKind::kInternal, "cublas {}: status {}", what,
             static_cast<int>(status));
}

}  // namespace wick::cuda
