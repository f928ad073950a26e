// The op-parity runner: one parameterised test per (case, device). On the CPU it checks the
// reference kernel against the case's double-precision values, that forcing reference kernels
// reproduces the reference bit for bit, and every registered fast kernel (called directly and
// through run_kernel) against the reference. On another device (CUDA) it runs that backend's
// kernels on the same views and compares them with the CPU reference; those tests exist only
// when the build and machine have the backend (OpParityDevices.Cuda skips visibly otherwise).
// Tolerances scale with the output dtype (see tolerance()).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "backend/backend.h"
#include "backend/kernel_table.h"
#include "op_parity.h"

namespace wick::parity {
namespace {

// Relative tolerance by output dtype: a few rounding steps of the dtype (f32 math, then one
// rounding to f16/bf16). Integer and bool outputs must be exact.
double tolerance(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 2e-5;
    case DType::kF16:
      return 2e-3;
    case DType::kBF16:
      return 1.6e-2;
    default:
      return 0.0;
  }
}
// Absolute tolerance per unit of Case::scale: kernels compute in f32 (or better) whatever the
// output dtype, so cancellation costs f32 precision; the output rounding is relative.
constexpr double kComputeTolerance = 2e-5;

std::vector<Tensor> materialise_inputs(const Case& c, Device device) {
  std::vector<Tensor> inputs;
  for (const Input& in : c.inputs) inputs.push_back(in.base.defined() ? in.on(device) : Tensor());
  return inputs;
}

// Outputs start as all-ones bytes (NaN for floats, -1 for ints) so unwritten elements show.
std::vector<Tensor> fresh_outputs(const Case& c, Device device) {
  std::vector<Tensor> outputs;
  for (const Output& o : c.outputs) {
    Tensor t = Tensor::empty(o.shape, o.dtype, device);
    if (device.is_cpu()) std::memset(t.raw_data(), 0xff, static_cast<size_t>(t.nbytes()));
    outputs.push_back(t);
  }
  return outputs;
}

enum class Which { kReference, kDispatch, kFast };

// Runs the case's kernel on `device`. Returns false only when kFast declined.
bool run_case(const Case& c, Device device, Which which, std::vector<Tensor>& outputs) {
  const std::vector<Tensor> inputs = materialise_inputs(c, device);
  outputs = fresh_outputs(c, device);
  const OpCall call{c.op, inputs, outputs, c.attrs};
  switch (which) {
    case Which::kReference:
      run_reference_kernel(c.op, device.type, c.key, call);
      return true;
    case Which::kDispatch:
      run_kernel(c.op, device.type, c.key, call);
      return true;
    case Which::kFast:
      return find_kernel(c.op, device.type, c.key).fast(call);
  }
  return false;
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  const Tensor host = contiguous(to_device(t, Device::cpu()));
  const auto* p = static_cast<const uint8_t*>(host.raw_data());
  return std::vector<uint8_t>(p, p + host.nbytes());
}

bool close(double got, double want, double rtol, double atol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want) || rtol == 0.0) return got == want;
  return std::fabs(got - want) <= rtol * std::fabs(want) + atol;
}

// got vs want element by element; lists the first few mismatches.
::testing::AssertionResult values_match(const Tensor& got_tensor, const std::vector<double>& want,
                                        double rtol, double atol, const char* what) {
  const std::vector<double> got = values_of(to_device(got_tensor, Device::cpu()));
  if (got.size() != want.size())
    return ::testing::AssertionFailure()
           << what << ": " << got.size() << " values, expected " << want.size();
  int bad = 0;
  auto failure = ::testing::AssertionFailure();
  failure << what << " (" << dtype_name(got_tensor.dtype()) << ", rtol " << rtol << ", atol "
          << atol << "):";
  for (size_t i = 0; i < got.size(); ++i) {
    if (close(got[i], want[i], rtol, atol)) continue;
    if (++bad <= 8) failure << "\n  [" << i << "] got " << got[i] << ", want " << want[i];
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return failure << "\n  " << bad << " of " << got.size() << " elements differ";
}

// Compares a kernel's outputs with `want` (the reference's outputs, or the case's values).
void expect_outputs(const Case& c, const std::vector<Tensor>& got,
                    const std::vector<Tensor>* reference, double extra_tol, const char* what) {
  ASSERT_EQ(got.size(), c.outputs.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const Output& o = c.outputs[i];
    SCOPED_TRACE(testing::Message() << what << ", output " << i);
    if (dtype_is_quantized(o.dtype)) {
      const std::vector<uint8_t> want = reference ? bytes_of((*reference)[i]) : o.expected_bytes;
      EXPECT_EQ(bytes_of(got[i]), want) << what << ": encoded blocks differ";
      continue;
    }
    const double rtol = c.exact ? 0.0 : std::max(tolerance(o.dtype), extra_tol);
    const double atol = std::max(kComputeTolerance, extra_tol) * c.scale;
    const std::vector<double> want = reference ? values_of((*reference)[i]) : o.expected;
    EXPECT_TRUE(values_match(got[i], want, rtol, atol, what));
  }
}

// Restores the force-reference flag however the test exits.
struct ForceReference {
  explicit ForceReference(bool on) : previous(force_reference_kernels()) {
    set_force_reference_kernels(on);
  }
  ~ForceReference() { set_force_reference_kernels(previous); }
  bool previous;
};

void check_on_cpu(const Case& c) {
  const KernelEntry& entry = find_kernel(c.op, DeviceType::kCpu, c.key);
  if (entry.reference == nullptr)
    GTEST_SKIP() << "no cpu reference kernel for " << op_name(c.op) << " " << dtype_name(c.key);
  std::vector<Tensor> reference;
  ASSERT_TRUE(run_case(c, Device::cpu(), Which::kReference, reference));
  expect_outputs(c, reference, nullptr, 0.0, "reference vs expected");
  {
    ForceReference force(true);
    std::vector<Tensor> forced;
    run_case(c, Device::cpu(), Which::kDispatch, forced);
    for (size_t i = 0; i < forced.size(); ++i)
      EXPECT_EQ(bytes_of(forced[i]), bytes_of(reference[i])) << "forced run differs from reference";
  }
  if (entry.fast == nullptr) return;
  std::vector<Tensor> fast;
  if (run_case(c, Device::cpu(), Which::kFast, fast)) {
    expect_outputs(c, fast, &reference, c.fast_tol, "fast vs reference");
  } else {
    ::testing::Test::RecordProperty("fast", "declined");
  }
  ForceReference unforced(false);
  std::vector<Tensor> dispatched;
  run_case(c, Device::cpu(), Which::kDispatch, dispatched);
  expect_outputs(c, dispatched, &reference, c.fast_tol, "run_kernel vs reference");
}

void check_on_device(const Case& c, DeviceType type) {
  Backend* backend = find_backend(type);
  if (backend == nullptr || backend->device_count() == 0)
    GTEST_SKIP() << "no device backend in this build or machine";
  const Device device{type, 0};
  const KernelEntry& entry = find_kernel(c.op, type, c.key);
  if (entry.reference == nullptr && entry.fast == nullptr)
    GTEST_SKIP() << "no " << device.str() << " kernel for " << op_name(c.op) << " "
                 << dtype_name(c.key);
  std::vector<Tensor> reference;
  ASSERT_TRUE(run_case(c, Device::cpu(), Which::kReference, reference));
  std::vector<Tensor> got;
  run_case(c, device, Which::kDispatch, got);
  backend->synchronize();
  expect_outputs(c, got, &reference, c.fast_tol, "device vs cpu reference");
  if (entry.reference != nullptr && entry.fast != nullptr) {
    run_case(c, device, Which::kReference, got);
    backend->synchronize();
    expect_outputs(c, got, &reference, c.fast_tol, "device reference vs cpu reference");
  }
}

using Param = std::tuple<CaseSpec, DeviceType>;

class OpParity : public ::testing::TestWithParam<Param> {};

TEST_P(OpParity, MatchesReference) {
  const auto& [spec, device] = GetParam();
  const Case c = spec.make();
  ASSERT_EQ(c.inputs.size() + c.outputs.size() > 0, true);
  if (device == DeviceType::kCpu) {
    check_on_cpu(c);
  } else {
    check_on_device(c, device);
  }
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  const auto& [spec, device] = info.param;
  return spec.name + (device == DeviceType::kCpu ? "_cpu" : "_cuda");
}

// Names must be unique for gtest; a repeated name gets a numeric suffix.
std::vector<CaseSpec> unique_cases() {
  std::vector<CaseSpec> cases = registry();
  std::set<std::string> seen;
  for (CaseSpec& c : cases) {
    std::string name = c.name;
    for (int i = 2; seen.count(name) != 0; ++i) name = c.name + "_" + std::to_string(i);
    c.name = name;
    seen.insert(name);
  }
  return cases;
}

bool has_device(DeviceType type) {
  const Backend* backend = find_backend(type);
  return backend != nullptr && backend->device_count() > 0;
}

// The CPU always; CUDA when this build and machine have it (evaluated when tests register, after
// backends have registered themselves), so CPU-only runs do not list a thousand skipped tests.
std::vector<DeviceType> parity_devices() {
  std::vector<DeviceType> devices = {DeviceType::kCpu};
  if (has_device(DeviceType::kCuda)) devices.push_back(DeviceType::kCuda);
  return devices;
}

INSTANTIATE_TEST_SUITE_P(Ops, OpParity,
                         ::testing::Combine(::testing::ValuesIn(unique_cases()),
                                            ::testing::ValuesIn(parity_devices())),
                         param_name);

// Says visibly that the device half of the harness did not run.
TEST(OpParityDevices, Cuda) {
  if (!has_device(DeviceType::kCuda))
    GTEST_SKIP() << "no CUDA backend in this build or machine: parity cases ran on the CPU only";
  SUCCEED() << "parity cases run on cuda:0 (Ops/OpParity.*_cuda)";
}

// Every op in the table has at least one parity case (matmul/linear once their kernels exist).
TEST(OpParityCoverage, EveryRegisteredOpHasCases) {
  std::set<Op> covered;
  for (const CaseSpec& c : registry()) covered.insert(c.op);
  for (int i = 0; i < kOpCount; ++i) {
    const auto op = static_cast<Op>(i);
    bool registered = false;
    for (int d = 0; d < kDTypeCount; ++d)
      registered = registered || find_kernel(op, DeviceType::kCpu, static_cast<DType>(d)).reference;
    if (registered) {
      EXPECT_EQ(covered.count(op), 1u) << "no parity cases for " << op_name(op);
    }
  }
}

// Every kernel registered on the CPU, reference or fast, is exercised: some case calls it with
// its dtype key. Registering a kernel for a new dtype therefore asks for parity cases.
TEST(OpParityCoverage, EveryRegisteredKernelHasCases) {
  std::set<std::pair<Op, DType>> keys;
  for (const CaseSpec& spec : registry()) {
    const Case c = spec.make();
    keys.insert({c.op, c.key});
  }
  for (int i = 0; i < kOpCount; ++i)
    for (int d = 0; d < kDTypeCount; ++d) {
      const auto op = static_cast<Op>(i);
      const auto dtype = static_cast<DType>(d);
      const KernelEntry& entry = find_kernel(op, DeviceType::kCpu, dtype);
      if (entry.reference == nullptr && entry.fast == nullptr) continue;
      EXPECT_EQ(keys.count({op, dtype}), 1u)
          << "cpu kernel for " << op_name(op) << " " << dtype_name(dtype) << " has no case";
    }
}

}  // namespace
}  // namespace wick::parity
