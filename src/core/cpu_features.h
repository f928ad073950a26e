// Runtime CPU feature detection (x86 CPUID + XGETBV), read once. Fast kernels compiled for an ISA
// (*_avx2.cpp, *_avx512.cpp) run only after checking these flags. For testing slower paths the
// environment can mask features: WICK_DISABLE_AVX512=1 clears every AVX-512 flag (and AMX),
// WICK_DISABLE_AVX2=1 clears AVX2/FMA/F16C and everything above them, WICK_DISABLE_AMX=1 clears
// AMX.
#pragma once

#include <string>

namespace wick {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool amx_tile = false;
  bool amx_bf16 = false;
  bool amx_int8 = false;
  bool vendor_amd =
      false;  // "AuthenticAMD": tuning choices that differ between AMD and Intel cores

  // The sets our ISA files are compiled for (see cmake/WickCommon.cmake).
  bool has_avx2_set() const { return avx2 && fma && f16c; }
  bool has_avx512_set() const {
    return has_avx2_set() && avx512f && avx512bw && avx512dq && avx512vl;
  }
  std::string str() const;  // "avx2 fma f16c avx512f ..."
};

// Detected once (thread-safe) with the environment masks applied.
const CpuFeatures& cpu_features();

// Raw detection without environment masks; `mask_env` applies them. Exposed for tests.
CpuFeatures detect_cpu_features(bool mask_env);

}  // namespace wick
