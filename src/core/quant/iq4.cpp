// Reference codecs of the non-linear 4-bit types: IQ4_NL (blocks of 32, one f16 scale) and
// IQ4_XS (super-blocks of 256: f16 scale and 6-bit sub-scales per 32). Codes index kIQ4Values.
// The quantizer is ggml's IQ4 search (quantize_iq4_nl / quantize_iq4_xs without an importance
// matrix, 7 scale tries each side, weights x^2); ggml's quantize_row_iq4_nl_ref skips that
// search (ntry = -1), so IQ4_NL here is at least as accurate as the ggml reference.
#include <cmath>
#include <cstring>

#include "core/quant/internal.h"
#include "core/quant/quant.h"

namespace wick::quant {
namespace {

using detail::clamp_int;
using detail::nearest_codebook_index;
using detail::nearest_int;

constexpr int kIQ4Tries = 7;

inline int iq4_code(const uint8_t* qs, int j) {  // j in [0, 32): low nibbles, then high
  return j < 16 ? (qs[j] & 0x0f) : (qs[j - 16] >> 4);
}

// Codebook fit of x * id: returns sum(w q x) and sum(w q^2), optionally storing the codes.
void codebook_fit(const float* x, const float* w, float id, uint8_t* L, float* sum_qx,
                  float* sum_q2) {
  float qx = 0.0f;
  float q2 = 0.0f;
  for (int j = 0; j < 32; ++j) {
    const int l = nearest_codebook_index(16, kIQ4Values, id * x[j]);
    if (L != nullptr) L[j] = static_cast<uint8_t>(l);
    const float q = kIQ4Values[l];
    qx += w[j] * q * x[j];
    q2 += w[j] * q * q;
  }
  *sum_qx = qx;
  *sum_q2 = q2;
}

// Best scale for one group of 32 (0 for an all-zero group); L gets the codes of the first fit.
float search_scale_iq4(const float* x, uint8_t* L) {
  float weights[32];
  for (int j = 0; j < 32; ++j) weights[j] = x[j] * x[j];
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < 32; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (amax < detail::kGroupMaxEps) return 0.0f;
  float sum_qx = 0.0f;
  float sum_q2 = 0.0f;
  codebook_fit(x, weights, 1.0f / (-max / static_cast<float>(kIQ4Values[0])), L, &sum_qx, &sum_q2);
  float d = sum_q2 > 0.0f ? sum_qx / sum_q2 : 0.0f;
  float best = d * sum_qx;
  for (int step = -kIQ4Tries; step <= kIQ4Tries; ++step) {
    // Map the extreme value onto codebook entries near the negative end, one unit apart.
    const float id = static_cast<float>(step + kIQ4Values[0]) / max;
    codebook_fit(x, weights, id, nullptr, &sum_qx, &sum_q2);
    if (sum_q2 > 0.0f && sum_qx * sum_qx > best * sum_q2) {
      d = sum_qx / sum_q2;
      best = d * sum_qx;
    }
  }
  return d;
}

void requantize_iq4(const float* x, float d, uint8_t* L) {
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < 32; ++j)
    L[j] = static_cast<uint8_t>(nearest_codebook_index(16, kIQ4Values, id * x[j]));
}

void pack_iq4(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
}

void quantize_block_iq4_nl(const float* x, BlockIQ4_NL* y) {
  uint8_t L[32];
  const float d = search_scale_iq4(x, L);
  y->d = f32_to_f16(d);
  requantize_iq4(x, d, L);
  pack_iq4(L, y->qs);
}

void quantize_block_iq4_xs(const float* x, BlockIQ4_XS* y) {
  uint8_t L[32];
  float scales[kQK_K / 32];
  float max_scale = 0.0f;
  float amax_scale = 0.0f;
  for (int g = 0; g < kQK_K / 32; ++g) {
    scales[g] = search_scale_iq4(x + 32 * g, L);
    if (std::fabs(scales[g]) > amax_scale) {
      amax_scale = std::fabs(scales[g]);
      max_scale = scales[g];
    }
  }
  // Sub-scales are 6-bit signed multiples of d, the largest one landing on -32.
  const float d = -max_scale / 32.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y->d = f32_to_f16(d);
  y->scales_h = 0;
  std::memset(y->scales_l, 0, sizeof(y->scales_l));
  for (int g = 0; g < kQK_K / 32; ++g) {
    const int l = clamp_int(nearest_int(id * scales[g]), -32, 31);
    requantize_iq4(x + 32 * g, d * static_cast<float>(l), L);
    pack_iq4(L, y->qs + 16 * g);
    const int biased = l + 32;
    y->scales_l[g / 2] =
        static_cast<uint8_t>(y->scales_l[g / 2] | ((biased & 0x0f) << (4 * (g % 2))));
    y->scales_h = static_cast<uint16_t>(y->scales_h | ((biased >> 4) << (2 * g)));
  }
}

}  // namespace

void dequantize_row_iq4_nl(const BlockIQ4_NL* blocks, float* out, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kIQ4_NL, n_values);
  for (int64_t i = 0; i < nb; ++i, out += kQK) {
    const float d = f16_to_f32(blocks[i].d);
    for (int j = 0; j < kQK; ++j)
      out[j] = d * static_cast<float>(kIQ4Values[iq4_code(blocks[i].qs, j)]);
  }
}

void dequantize_row_iq4_xs(const BlockIQ4_XS* blocks, float* out, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kIQ4_XS, n_values);
  for (int64_t i = 0; i < nb; ++i) {
    const BlockIQ4_XS& b = blocks[i];
    const float d = f16_to_f32(b.d);
    for (int g = 0; g < kQK_K / 32; ++g, out += 32) {
      const int ls =
          ((b.scales_l[g / 2] >> (4 * (g % 2))) & 0x0f) | (((b.scales_h >> (2 * g)) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      for (int j = 0; j < 32; ++j)
        out[j] = dl * static_cast<float>(kIQ4Values[iq4_code(b.qs + 16 * g, j)]);
    }
  }
}

void quantize_row_iq4_nl(const float* in, BlockIQ4_NL* blocks, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kIQ4_NL, n_values);
  for (int64_t i = 0; i < nb; ++i) quantize_block_iq4_nl(in + i * kQK, blocks + i);
}

void quantize_row_iq4_xs(const float* in, BlockIQ4_XS* blocks, int64_t n_values) {
  const int64_t nb = quant_row_blocks(DType::kIQ4_XS, n_values);
  for (int64_t i = 0; i < nb; ++i) quantize_block_iq4_xs(in + i * kQK_K, blocks + i);
}

}  // namespace wick::quant
