// Host-side plumbing of the CUDA backend shared by its kernel-registration files: the per-device
// context (one stream and one cuBLAS handle per device), CUDA error -> wick::Error, and the
// conversion of Tensors into the plain Dims/View structs the device code takes (kernels.h).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "backend/op.h"
#include "backends/cuda/kernels.h"
#include "core/tensor.h"

namespace wick::cuda {

struct DeviceContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
};

// Number of CUDA devices; 0 when there is no driver or no GPU (never throws).
int device_count();
// Makes `device` current and returns its context (created on first use).
DeviceContext& context(int device);
// The stream of the device that `t` lives on (and makes that device current).
cudaStream_t stream_for(const Tensor& t);

// Throws wick::Error (kInternal) naming `what` and CUDA's message when err is not success.
void check(cudaError_t err, const char* what);
void check(cublasStatus_t status, const char* what);

Elem elem_of(DType dtype);
QType qtype_of(DType dtype);  // throws kUnsupported for a dtype without a device decoder
Dims dims_of(const Shape& shape);
// The tensor's storage pointer, element offset and strides (empty View for an undefined tensor).
View view_of(const Tensor& t);
// Drops size-1 dims and merges dims that are contiguous in every view, so kernels do less index
// arithmetic. Row-major order of the index space is preserved.
void coalesce(Dims& dims, View* views, int n_views);

// Runs a kernel body, turning device-side std::runtime_error into wick::Error naming the op.
template <class Fn>
void guarded(Op op, Fn&& fn) {
  try {
    fn();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(ErrorKind::kInternal, "cuda {}: {}", op_name(op), e.what());
  }
}

}  // namespace wick::cuda
