// Reference codecs of the 32-value block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (weights) and
// Q8_1 (activations for Q4_1/Q5_1 dot products). Quantization is a single pass from the block's
// max (no search), bit-exact with gguf.quants.quantize and ggml's *_ref functions; float values
// that would not convert to a code (NaN, overflow) are clamped rather than left to UB.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/quant/internal.h"
#include "core/quant/quant.h"

namespace wick::quant {
namespace {

using detail::clamp_int;

// Truncates v toward zero into [0, hi]: ggml's (int8_t)(v) followed by MIN(hi, .), with NaN -> 0.
inline int trunc_code(float v, int hi) {
  if (!(v > 0.0f)) return 0;
  if (v >= static_cast<float>(hi)) return hi;
  return static_cast<int>(v);
}

// Round half away from zero into [-127, 127] (roundf, as ggml and gguf's np_roundf).
inline int8_t round_q8(float v) {
  if (!(std::fabs(v) < 127.0f)) return static_cast<int8_t>(v > 0.0f ? 127 : (v < 0.0f ? -127 : 0));
  return static_cast<int8_t>(std::round(v));
}

// The value of largest magnitude in x[0..n), keeping its sign: the first one on ties, x[0] when
// all are zero (numpy's argmax, so an all -0.0 block stores the same sign of zero as gguf).
float signed_max(const float* x, int n) {
  float amax = std::fabs(x[0]);
  float max = x[0];
  for (int j = 1; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* min, float* max) {
  float lo = x[0];
  float hi = x[0];
  for (int j = 1; j < n; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  *min = lo;
  *max = hi;
}

float abs_max(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  return amax;
}

inline float inverse_or_zero(float d) {
  return d != 0.0f ? 1.0f / d : 0.0f;
}

// Packs 32 5-bit codes: low nibbles into qs (value j low, j+16 high), bit 4 into qh bit j.
void pack_q5(const uint8_t* q, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + kQK / 2] & 0x0f) << 4));
    qh |= static_cast<uint32_t>((q[j] >> 4) & 1u) << j;
    qh |= static_cast<uint32_t>((q[j + kQK / 2] >> 4) & 1u) << (j + kQK / 2);
  }
  for (int b = 0; b < 4; ++b) qh_bytes[b] = static_cast<uint8_t>(qh >> (8 * b));
}

// Unpacks the 5-bit codes packed by pack_q5.
void unpack_q5(const uint8_t* qs, const uint8_t* qh_bytes, uint8_t* q) {
  uint32_t qh = 0;
  for (int b = 0; b < 4; ++b) qh |= static_cast<uint32_t>(qh_bytes[b]) << (8 * b);
  for (int j = 0; j < kQK; ++j) {
    const uint8_t nibble = j < kQK / 2 ? (qs[j] & 0x0f) : (qs[j - kQK / 2] >> 4);
    q[j] = static_cast<uint8_t>(nibble | (((qh >> j) & 1u) << 4));
  }
}

int64_t checked_blocks(DType type, int64_t n_values) {
  return quant_row_blocks(type, n_values);
}

}  // namespace

void dequantize_row_q4_0(const BlockQ4_0* blocks, float* out, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ4_0, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK) {
    const float d = f16_to_f32(blocks[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      out[j] = static_cast<float>((blocks[i].qs[j] & 0x0f) - 8) * d;
      out[j + kQK / 2] = static_cast<float>((blocks[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1(const BlockQ4_1* blocks, float* out, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ4_1, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK) {
    const float d = f16_to_f32(blocks[i].d);
    const float m = f16_to_f32(blocks[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      out[j] = static_cast<float>(blocks[i].qs[j] & 0x0f) * d + m;
      out[j + kQK / 2] = static_cast<float>(blocks[i].qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_row_q5_0(const BlockQ5_0* blocks, float* out, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ5_0, n_values);
  uint8_t q[kQK];
  for (int64_t i = 0; i < nb; ++i, out += kQK) {
    const float d = f16_to_f32(blocks[i].d);
    unpack_q5(blocks[i].qs, blocks[i].qh, q);
    for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(q[j] - 16) * d;
  }
}

void dequantize_row_q5_1(const BlockQ5_1* blocks, float* out, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ5_1, n_values);
  uint8_t q[kQK];
  for (int64_t i = 0; i < nb; ++i, out += kQK) {
    const float d = f16_to_f32(blocks[i].d);
    const float m = f16_to_f32(blocks[i].m);
    unpack_q5(blocks[i].qs, blocks[i].qh, q);
    for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(q[j]) * d + m;
  }
}

void dequantize_row_q8_0(const BlockQ8_0* blocks, float* out, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ8_0, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK) {
    const float d = f16_to_f32(blocks[i].d);
    for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(blocks[i].qs[j]) * d;
  }
}

void dequantize_row_q8_1(const BlockQ8_1* blocks, float* out, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ8_1, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK) {
    const float d = f16_to_f32(blocks[i].d);
    for (int j = 0; j < kQK; ++j) out[j] = static_cast<float>(blocks[i].qs[j]) * d;
  }
}

// x ~ d * (q - 8) with d = max / -8, so the extreme value lands exactly on code 0.
void quantize_row_q4_0(const float* in, BlockQ4_0* blocks, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ4_0, n_values);
  for (int64_t i = 0; i < nb; ++i, in += kQK) {
    const float d = signed_max(in, kQK) / -8.0f;
    const float id = inverse_or_zero(d);
    blocks[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = trunc_code(in[j] * id + 8.5f, 15);
      const int q1 = trunc_code(in[j + kQK / 2] * id + 8.5f, 15);
      blocks[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q4_1(const float* in, BlockQ4_1* blocks, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ4_1, n_values);
  for (int64_t i = 0; i < nb; ++i, in += kQK) {
    float min = 0.0f;
    float max = 0.0f;
    min_max(in, kQK, &min, &max);
    const float d = (max - min) / 15.0f;
    const float id = inverse_or_zero(d);
    blocks[i].d = f32_to_f16(d);
    blocks[i].m = f32_to_f16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = trunc_code((in[j] - min) * id + 0.5f, 15);
      const int q1 = trunc_code((in[j + kQK / 2] - min) * id + 0.5f, 15);
      blocks[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q5_0(const float* in, BlockQ5_0* blocks, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ5_0, n_values);
  uint8_t q[kQK];
  for (int64_t i = 0; i < nb; ++i, in += kQK) {
    const float d = signed_max(in, kQK) / -16.0f;
    const float id = inverse_or_zero(d);
    blocks[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK; ++j) q[j] = static_cast<uint8_t>(trunc_code(in[j] * id + 16.5f, 31));
    pack_q5(q, blocks[i].qs, blocks[i].qh);
  }
}

void quantize_row_q5_1(const float* in, BlockQ5_1* blocks, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ5_1, n_values);
  uint8_t q[kQK];
  for (int64_t i = 0; i < nb; ++i, in += kQK) {
    float min = 0.0f;
    float max = 0.0f;
    min_max(in, kQK, &min, &max);
    const float d = (max - min) / 31.0f;
    const float id = inverse_or_zero(d);
    blocks[i].d = f32_to_f16(d);
    blocks[i].m = f32_to_f16(min);
    for (int j = 0; j < kQK; ++j) {
      q[j] = static_cast<uint8_t>(trunc_code((in[j] - min) * id + 0.5f, 31));
    }
    pack_q5(q, blocks[i].qs, blocks[i].qh);
  }
}

void quantize_row_q8_0(const float* in, BlockQ8_0* blocks, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ8_0, n_values);
  for (int64_t i = 0; i < nb; ++i, in += kQK) {
    const float d = abs_max(in, kQK) / 127.0f;
    const float id = inverse_or_zero(d);
    blocks[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK; ++j) blocks[i].qs[j] = round_q8(in[j] * id);
  }
}

// As Q8_0, plus s = d * sum(q) (f32 d, before rounding to f16) for the Q4_1/Q5_1 min terms.
void quantize_row_q8_1(const float* in, BlockQ8_1* blocks, int64_t n_values) {
  const int64_t nb = checked_blocks(DType::kQ8_1, n_values);
  for (int64_t i = 0; i < nb; ++i, in += kQK) {
    const float d = abs_max(in, kQK) / 127.0f;
    const float id = inverse_or_zero(d);
    blocks[i].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      blocks[i].qs[j] = round_q8(in[j] * id);
      sum += blocks[i].qs[j];
    }
    blocks[i].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

}  // namespace wick::quant
