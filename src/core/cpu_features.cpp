// CPUID/XGETBV based feature detection. A feature counts only when the OS also saves the register
// state it needs (XCR0: YMM for AVX2, ZMM+opmask for AVX-512, tile data for AMX).
#include "core/cpu_features.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace wick {
namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

#if defined(__x86_64__) || defined(__i386__)
unsigned long long read_xcr0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

void detect_x86(CpuFeatures& f) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return;
  __cpuid(0, eax, ebx, ecx, edx);
  f.vendor_amd = ebx == 0x68747541u && edx == 0x69746e65u && ecx == 0x444d4163u;  // "AuthenticAMD"
  __cpuid_count(1, 0, eax, ebx, ecx, edx);
  const bool osxsave = (ecx >> 27) & 1u;
  const bool avx = (ecx >> 28) & 1u;
  const bool fma = (ecx >> 12) & 1u;
  const bool f16c = (ecx >> 29) & 1u;
  if (!osxsave || !avx) return;
  const unsigned long long xcr0 = read_xcr0();
  const bool ymm_os = (xcr0 & 0x6u) == 0x6u;          // SSE + AVX state
  const bool zmm_os = (xcr0 & 0xe6u) == 0xe6u;        // + opmask, ZMM_Hi256, Hi16_ZMM
  const bool amx_os = (xcr0 & 0x60000u) == 0x60000u;  // XTILECFG + XTILEDATA
  if (!ymm_os) return;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const unsigned leaf7_ebx = ebx, leaf7_ecx = ecx, leaf7_edx = edx;
  f.avx2 = (leaf7_ebx >> 5) & 1u;
  f.fma = fma;
  f.f16c = f16c;
  if (zmm_os) {
    f.avx512f = (leaf7_ebx >> 16) & 1u;
    f.avx512dq = (leaf7_ebx >> 17) & 1u;
    f.avx512bw = (leaf7_ebx >> 30) & 1u;
    f.avx512vl = (leaf7_ebx >> 31) & 1u;
    f.avx512vnni = (leaf7_ecx >> 11) & 1u;
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    f.avx512bf16 = (eax >> 5) & 1u;
  }
  if (amx_os) {
    f.amx_bf16 = (leaf7_edx >> 22) & 1u;
    f.amx_tile = (leaf7_edx >> 24) & 1u;
    f.amx_int8 = (leaf7_edx >> 25) & 1u;
  }
}
#endif

void clear_avx512(CpuFeatures& f) {
  f.avx512f = f.avx512bw = f.avx512dq = f.avx512vl = f.avx512vnni = f.avx512bf16 = false;
  f.amx_tile = f.amx_bf16 = f.amx_int8 = false;
}

}  // namespace

CpuFeatures detect_cpu_features(bool mask_env) {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  detect_x86(f);
#endif
  if (!mask_env) return f;
  if (env_set("WICK_DISABLE_AMX")) f.amx_tile = f.amx_bf16 = f.amx_int8 = false;
  if (env_set("WICK_DISABLE_AVX512")) clear_avx512(f);
  if (env_set("WICK_DISABLE_AVX2")) {
    clear_avx512(f);
    f.avx2 = f.fma = f.f16c = false;
  }
  return f;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect_cpu_features(true);
  return features;
}

std::string CpuFeatures::str() const {
  std::string s;
  const auto add = [&s](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512dq, "avx512dq");
  add(avx512vl, "avx512vl");
  add(avx512vnni, "avx512vnni");
  add(avx512bf16, "avx512bf16");
  add(amx_tile, "amx_tile");
  add(amx_bf16, "amx_bf16");
  add(amx_int8, "amx_int8");
  return s.empty() ? "none" : s;
}

}  // namespace wick
