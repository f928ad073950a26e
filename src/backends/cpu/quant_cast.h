// Casts between float dtypes and GGUF block dtypes on the CPU (quant_cast_ref.cpp). The
// plain-dtype cast kernel (layout_ref.cpp) hands float -> quantized calls here, because the
// kernel table keys kCast by the source dtype and the float sources are registered there.
#pragma once

#include "backend/op.h"

namespace wick::cpu {

// in: (.., D) f32/f16/bf16, any strides; out: the same shape, a contiguous block dtype with D a
// multiple of its block size. Quantizes each row with the core/quant reference codec.
void cast_float_to_quantized_ref(const OpCall& call);

}  // namespace wick::cpu
