// Reference codecs of the K super-block types (256 values): Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and the
// Q8_K activation format. Each quantizer finds a scale (and min) per group with the searches in
// scale_search.cpp, quantizes those scales to 4/6/8 bits against one f16 super-scale, then
// re-rounds every value against the scale a reader will actually see. This is ggml's reference
// (quantize_row_*_K_ref, no importance matrix); gguf-py has no K quantizer to compare with.
#include <cmath>
#include <cstring>

#include "core/quant/internal.h"
#include "core/quant/quant.h"

namespace wick::quant {
namespace {

using detail::clamp_int;
using detail::nearest_int;

// Q4_K/Q5_K: 8 six-bit scales and mins in 12 bytes. Bytes 0-3 hold scales 0-3 (low 6 bits) and
// the top 2 bits of scales 4-7; bytes 4-7 the same for mins; bytes 8-11 the low nibbles of
// scales 4-7 (low half) and mins 4-7 (high half).
void unpack_scale_min_k4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void pack_scale_min_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = ls[j];
    q[j + 4] = lm[j];
  }
  for (int j = 4; j < 8; ++j) {
    q[j + 4] = static_cast<uint8_t>((ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4));
    q[j - 4] = static_cast<uint8_t>(q[j - 4] | ((ls[j] >> 4) << 6));
    q[j] = static_cast<uint8_t>(q[j] | ((lm[j] >> 4) << 6));
  }
}

// Q3_K: 16 six-bit scales in 12 bytes. Low nibbles: bytes 0-7 (scales 0-7 low half, 8-15 high
// half); top 2 bits: byte 8 + j % 4, at bit 2 * (j / 4).
int unpack_scale_q3(int j, const uint8_t* q) {
  const int low = j < 8 ? (q[j] & 0x0f) : (q[j - 8] >> 4);
  return low | (((q[8 + j % 4] >> (2 * (j / 4))) & 3) << 4);
}

void pack_scales_q3(const int* l, uint8_t* q) {
  std::memset(q, 0, 12);
  for (int j = 0; j < 16; ++j) {
    if (j < 8) {
      q[j] = static_cast<uint8_t>(l[j] & 0x0f);
    } else {
      q[j - 8] = static_cast<uint8_t>(q[j - 8] | ((l[j] & 0x0f) << 4));
    }
    q[8 + j % 4] = static_cast<uint8_t>(q[8 + j % 4] | ((l[j] >> 4) << (2 * (j / 4))));
  }
}

// Q2_K/Q3_K low bits: 2-bit code p goes to qs[(p / 128) * 32 + p % 32], bits 2 * ((p % 128) / 32).
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int n = 0; n < kQK_K; n += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[n / 4 + l] = static_cast<uint8_t>(L[n + l] | (L[n + l + 32] << 2) | (L[n + l + 64] << 4) |
                                           (L[n + l + 96] << 6));
    }
  }
}

inline int code_2bit(const uint8_t* qs, int p) {
  return (qs[(p / 128) * 32 + p % 32] >> (2 * ((p % 128) / 32))) & 3;
}

// Q4_K/Q5_K low nibbles: value p of chunk c = p / 64 sits in qs[32c + p % 32], high nibble
// for the second 32 of the chunk.
inline int code_nibble_k(const uint8_t* qs, int p) {
  const uint8_t byte = qs[(p / 64) * 32 + p % 32];
  return (p % 64) < 32 ? (byte & 0x0f) : (byte >> 4);
}

}  // namespace

// ---------------------------------------------------------------------------------- dequantize

void dequantize_row_q2_k(const BlockQ2_K* blocks, float* out, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kQ2_K, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK_K) {
    const BlockQ2_K& b = blocks[i];
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    for (int g = 0; g < kQK_K / 16; ++g) {
      const float dl = d * static_cast<float>(b.scales[g] & 0x0f);
      const float ml = dmin * static_cast<float>(b.scales[g] >> 4);
      for (int p = 16 * g; p < 16 * g + 16; ++p) {
        out[p] = dl * static_cast<float>(code_2bit(b.qs, p)) - ml;
      }
    }
  }
}

void dequantize_row_q3_k(const BlockQ3_K* blocks, float* out, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kQ3_K, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK_K) {
    const BlockQ3_K& b = blocks[i];
    const float d = f16_to_f32(b.d);
    for (int g = 0; g < kQK_K / 16; ++g) {
      const float dl = d * static_cast<float>(unpack_scale_q3(g, b.scales) - 32);
      for (int p = 16 * g; p < 16 * g + 16; ++p) {
        const bool high = (b.hmask[p % 32] >> (p / 32)) & 1;
        out[p] = dl * static_cast<float>(code_2bit(b.qs, p) - (high ? 0 : 4));
      }
    }
  }
}

void dequantize_row_q4_k(const BlockQ4_K* blocks, float* out, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kQ4_K, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK_K) {
    const BlockQ4_K& b = blocks[i];
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    for (int g = 0; g < kQK_K / 32; ++g) {
      uint8_t sc = 0;
      uint8_t m = 0;
      unpack_scale_min_k4(g, b.scales, &sc, &m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      for (int p = 32 * g; p < 32 * g + 32; ++p) {
        out[p] = dl * static_cast<float>(code_nibble_k(b.qs, p)) - ml;
      }
    }
  }
}

void dequantize_row_q5_k(const BlockQ5_K* blocks, float* out, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kQ5_K, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK_K) {
    const BlockQ5_K& b = blocks[i];
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    for (int g = 0; g < kQK_K / 32; ++g) {
      uint8_t sc = 0;
      uint8_t m = 0;
      unpack_scale_min_k4(g, b.scales, &sc, &m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      for (int p = 32 * g; p < 32 * g + 32; ++p) {
        const int high = (b.qh[p % 32] >> g) & 1;  // group g's fifth bits live in bit g
        out[p] = dl * static_cast<float>(code_nibble_k(b.qs, p) | (high << 4)) - ml;
      }
    }
  }
}

void dequantize_row_q6_k(const BlockQ6_K* blocks, float* out, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kQ6_K, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK_K) {
    const BlockQ6_K& b = blocks[i];
    const float d = f16_to_f32(b.d);
    // Per 128-value half h: ql[64h + l] holds values l (low) and l + 64 (high), ql[64h + 32 + l]
    // values l + 32 and l + 96; qh[32h + l] holds their top 2 bits at bits 0, 2, 4, 6.
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        const int q[4] = {(ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4),
                          (ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4),
                          (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4),
                          (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)};
        for (int k = 0; k < 4; ++k) {
          const int p = 128 * h + 32 * k + l;
          const float dl = d * static_cast<float>(b.scales[p / 16]);
          out[p] = dl * static_cast<float>(q[k] - 32);
        }
      }
    }
  }
}

void dequantize_row_q8_k(const BlockQ8_K* blocks, float* out, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kQ8_K, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK_K) {
    for (int p = 0; p < kQK_K; ++p) out[p] = blocks[i].d * static_cast<float>(blocks[i].qs[p]);
  }
}

// ------------------------------------------------------------------------------------ quantize

namespace {

// Groups of 16 with a 4-bit scale and 4-bit min each, both against f16 super-scales.
void quantize_block_q2_k(const float* x, BlockQ2_K* y) {
  uint8_t L[kQK_K];
  float weights[16];
  float scales[kQK_K / 16];
  float mins[kQK_K / 16];
  float max_scale = 0.0f;  // scales and mins are never negative
  float max_min = 0.0f;
  for (int g = 0; g < kQK_K / 16; ++g) {
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * g + l]);
    scales[g] = detail::search_scale_min(16, 3, x + 16 * g, weights, L + 16 * g, &mins[g], -0.5f,
                                         0.1f, 15, true);
    if (scales[g] > max_scale) max_scale = scales[g];
    if (mins[g] > max_min) max_min = mins[g];
  }
  std::memset(y->scales, 0, sizeof(y->scales));
  y->d = f32_to_f16(0.0f);
  y->dmin = f32_to_f16(0.0f);
  if (max_scale > 0.0f) {
    const float iscale = 15.0f / max_scale;
    for (int g = 0; g < kQK_K / 16; ++g) {
      y->scales[g] = static_cast<uint8_t>(nearest_int(iscale * scales[g]));
    }
    y->d = f32_to_f16(max_scale / 15.0f);
  }
  if (max_min > 0.0f) {
    const float iscale = 15.0f / max_min;
    for (int g = 0; g < kQK_K / 16; ++g) {
      y->scales[g] = static_cast<uint8_t>(y->scales[g] | (nearest_int(iscale * mins[g]) << 4));
    }
    y->dmin = f32_to_f16(max_min / 15.0f);
  }
  const float d = f16_to_f32(y->d);
  const float dmin = f16_to_f32(y->dmin);
  for (int g = 0; g < kQK_K / 16; ++g) {
    const float dl = d * static_cast<float>(y->scales[g] & 0x0f);
    if (dl == 0.0f) continue;
    const float ml = dmin * static_cast<float>(y->scales[g] >> 4);
    for (int p = 16 * g; p < 16 * g + 16; ++p) {
      L[p] = static_cast<uint8_t>(clamp_int(nearest_int((x[p] + ml) / dl), 0, 3));
    }
  }
  pack_2bit(L, y->qs);
}

// Symmetric groups of 16 with signed 6-bit scales; codes -4..3 split into 2 low bits + hmask.
void quantize_block_q3_k(const float* x, BlockQ3_K* y) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  float max_scale = 0.0f;
  float amax = 0.0f;
  for (int g = 0; g < kQK_K / 16; ++g) {
    scales[g] = detail::search_scale_q3(16, 4, x + 16 * g, L + 16 * g);
    if (std::fabs(scales[g]) > amax) {
      amax = std::fabs(scales[g]);
      max_scale = scales[g];
    }
  }
  int ls[kQK_K / 16] = {};
  y->d = f32_to_f16(0.0f);
  if (max_scale != 0.0f) {
    const float iscale = -32.0f / max_scale;
    for (int g = 0; g < kQK_K / 16; ++g) {
      const auto l = static_cast<int8_t>(nearest_int(iscale * scales[g]));
      ls[g] = clamp_int(l, -32, 31) + 32;
    }
    y->d = f32_to_f16(1.0f / iscale);
  }
  pack_scales_q3(ls, y->scales);
  const float d = f16_to_f32(y->d);
  for (int g = 0; g < kQK_K / 16; ++g) {
    const float dl = d * static_cast<float>(unpack_scale_q3(g, y->scales) - 32);
    if (dl == 0.0f) continue;
    for (int p = 16 * g; p < 16 * g + 16; ++p) {
      L[p] = static_cast<int8_t>(clamp_int(nearest_int(x[p] / dl), -4, 3) + 4);
    }
  }
  uint8_t low[kQK_K];
  std::memset(y->hmask, 0, sizeof(y->hmask));
  for (int p = 0; p < kQK_K; ++p) {
    const bool high = L[p] > 3;
    if (high) y->hmask[p % 32] = static_cast<uint8_t>(y->hmask[p % 32] | (1u << (p / 32)));
    low[p] = static_cast<uint8_t>(high ? L[p] - 4 : L[p]);
  }
  pack_2bit(low, y->qs);
}

// Q4_K and Q5_K share everything but the code width (nmax 15 or 31) and the search grid.
struct Kx4Params {
  int nmax;
  float rmin;
  float rdelta;
  int nstep;
};

// Fills the 12 scale bytes, d, dmin and the codes L[0..256) of one Q4_K/Q5_K super-block.
void quantize_scales_min_k4(const float* x, const Kx4Params& params, uint8_t* L,
                            uint8_t* scale_bytes, uint16_t* d_out, uint16_t* dmin_out) {
  float weights[32];
  float scales[kQK_K / 32];
  float mins[kQK_K / 32];
  float max_scale = 0.0f;
  float max_min = 0.0f;
  for (int g = 0; g < kQK_K / 32; ++g) {
    const float* xg = x + 32 * g;
    float sum_x2 = 0.0f;
    for (int l = 0; l < 32; ++l) sum_x2 += xg[l] * xg[l];
    const float av_x = std::sqrt(sum_x2 / 32.0f);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xg[l]);
    scales[g] = detail::search_scale_min(32, params.nmax, xg, weights, L + 32 * g, &mins[g],
                                         params.rmin, params.rdelta, params.nstep, false);
    if (scales[g] > max_scale) max_scale = scales[g];
    if (mins[g] > max_min) max_min = mins[g];
  }
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  uint8_t ls[kQK_K / 32];
  uint8_t lm[kQK_K / 32];
  for (int g = 0; g < kQK_K / 32; ++g) {
    // ggml stores the rounded value in a uint8_t before clamping; keep that wrap-around.
    ls[g] = static_cast<uint8_t>(nearest_int(inv_scale * scales[g]));
    lm[g] = static_cast<uint8_t>(nearest_int(inv_min * mins[g]));
    if (ls[g] > 63) ls[g] = 63;
    if (lm[g] > 63) lm[g] = 63;
  }
  pack_scale_min_k4(ls, lm, scale_bytes);
  *d_out = f32_to_f16(max_scale / 63.0f);
  *dmin_out = f32_to_f16(max_min / 63.0f);
  const float d = f16_to_f32(*d_out);
  const float dmin = f16_to_f32(*dmin_out);
  for (int g = 0; g < kQK_K / 32; ++g) {
    uint8_t sc = 0;
    uint8_t m = 0;
    unpack_scale_min_k4(g, scale_bytes, &sc, &m);
    const float dl = d * static_cast<float>(sc);
    if (dl == 0.0f) continue;
    const float ml = dmin * static_cast<float>(m);
    for (int p = 32 * g; p < 32 * g + 32; ++p) {
      L[p] = static_cast<uint8_t>(clamp_int(nearest_int((x[p] + ml) / dl), 0, params.nmax));
    }
  }
}

void quantize_block_q4_k(const float* x, BlockQ4_K* y) {
  uint8_t L[kQK_K];
  quantize_scales_min_k4(x, Kx4Params{15, -1.0f, 0.1f, 20}, L, y->scales, &y->d, &y->dmin);
  for (int c = 0; c < kQK_K / 64; ++c) {
    for (int l = 0; l < 32; ++l) {
      y->qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
  }
}

void quantize_block_q5_k(const float* x, BlockQ5_K* y) {
  uint8_t L[kQK_K];
  quantize_scales_min_k4(x, Kx4Params{31, -0.5f, 0.1f, 15}, L, y->scales, &y->d, &y->dmin);
  std::memset(y->qh, 0, sizeof(y->qh));
  for (int c = 0; c < kQK_K / 64; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int lo = L[64 * c + l];
      const int hi = L[64 * c + 32 + l];
      y->qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
      y->qh[l] =
          static_cast<uint8_t>(y->qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
    }
  }
}

// Symmetric groups of 16 with int8 scales; 6-bit codes split into ql nibbles + qh pairs.
void quantize_block_q6_k(const float* x, BlockQ6_K* y) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  float max_scale = 0.0f;
  float max_abs_scale = 0.0f;
  for (int g = 0; g < kQK_K / 16; ++g) {
    scales[g] = detail::search_scale_symmetric(16, 32, x + 16 * g, L + 16 * g);
    if (std::fabs(scales[g]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[g]);
      max_scale = scales[g];
    }
  }
  std::memset(y, 0, sizeof(*y));
  if (max_abs_scale < detail::kGroupMaxEps) return;  // all-zero block: d = 0, codes 0
  const float iscale = -128.0f / max_scale;
  y->d = f32_to_f16(1.0f / iscale);
  for (int g = 0; g < kQK_K / 16; ++g) {
    const int s = nearest_int(iscale * scales[g]);
    y->scales[g] = static_cast<int8_t>(s < 127 ? s : 127);
  }
  const float d = f16_to_f32(y->d);
  for (int g = 0; g < kQK_K / 16; ++g) {
    const float dl = d * static_cast<float>(y->scales[g]);
    if (dl == 0.0f) continue;
    for (int p = 16 * g; p < 16 * g + 16; ++p) {
      L[p] = static_cast<int8_t>(clamp_int(nearest_int(x[p] / dl), -32, 31) + 32);
    }
  }
  for (int h = 0; h < 2; ++h) {
    const int8_t* Lh = L + 128 * h;
    uint8_t* ql = y->ql + 64 * h;
    uint8_t* qh = y->qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
      ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
      qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                   ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
    }
  }
}

// One f32 scale for 256 int8 codes, the extreme value on -127 (ggml keeps 127 symmetric for its
// SIMD dot products); bsums let Q2_K..Q5_K dot products fold their mins in cheaply.
void quantize_block_q8_k(const float* x, BlockQ8_K* y) {
  float max = 0.0f;
  float amax = 0.0f;
  for (int p = 0; p < kQK_K; ++p) {
    if (std::fabs(x[p]) > amax) {
      amax = std::fabs(x[p]);
      max = x[p];
    }
  }
  std::memset(y, 0, sizeof(*y));
  if (amax == 0.0f) return;
  const float iscale = -127.0f / max;
  for (int p = 0; p < kQK_K; ++p) {
    const int v = nearest_int(iscale * x[p]);
    y->qs[p] = static_cast<int8_t>(clamp_int(v, -128, 127));
  }
  for (int g = 0; g < kQK_K / 16; ++g) {
    int sum = 0;
    for (int l = 0; l < 16; ++l) sum += y->qs[16 * g + l];
    y->bsums[g] = static_cast<int16_t>(sum);
  }
  y->d = 1.0f / iscale;
}

template <class Block>
void quantize_blocks(DType type, const float* in, Block* blocks, int64_t n_values,
                     void (*quantize_block)(const float*, Block*)) {
  const int64_t nb = quant_row_blocks(type, n_values);
  for (int64_t i = 0; i < nb; ++i) quantize_block(in + i * kQK_K, blocks + i);
}

}  // namespace

void quantize_row_q2_k(const float* in, BlockQ2_K* blocks, int64_t n_values) {
  quantize_blocks(DType::kQ2_K, in, blocks, n_values, quantize_block_q2_k);
}
void quantize_row_q3_k(const float* in, BlockQ3_K* blocks, int64_t n_values) {
  quantize_blocks(DType::kQ3_K, in, blocks, n_values, quantize_block_q3_k);
}
void quantize_row_q4_k(const float* in, BlockQ4_K* blocks, int64_t n_values) {
  quantize_blocks(DType::kQ4_K, in, blocks, n_values, quantize_block_q4_k);
}
void quantize_row_q5_k(const float* in, BlockQ5_K* blocks, int64_t n_values) {
  quantize_blocks(DType::kQ5_K, in, blocks, n_values, quantize_block_q5_k);
}
void quantize_row_q6_k(const float* in, BlockQ6_K* blocks, int64_t n_values) {
  quantize_blocks(DType::kQ6_K, in, blocks, n_values, quantize_block_q6_k);
}
void quantize_row_q8_k(const float* in, BlockQ8_K* blocks, int64_t n_values) {
  quantize_blocks(DType::kQ8_K, in, blocks, n_values, quantize_block_q8_k);
}

}  // namespace wick::quant
