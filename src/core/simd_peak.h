// The SIMD multiply-add peak of this CPU, measured: the yardstick for prefill (compute-bound)
// kernels. A loop of independent 512-bit vpdpbusd (64 int8 products each) or vfmadd231ps (16 f32
// products) kept in registers, run on `threads` threads of the global pool at once.
#pragma once

namespace wick {

enum class SimdPeakKind { kInt8Vnni, kF32Fma };

// Multiply-adds per second (x 1e9) summed over `threads` threads (the global pool is resized to
// it), best of a few passes of ~0.1 s. 0 when the CPU lacks AVX-512 (+ VNNI for int8).
double measure_simd_peak_gmacs(SimdPeakKind kind, int threads);

namespace avx512 {
// `iters` x 16 independent 512-bit ops; returns a value that depends on every result.
long long simd_peak_loop_int8(long long iters);
long long simd_peak_loop_f32(long long iters);
}  // namespace avx512

}  // namespace wick
