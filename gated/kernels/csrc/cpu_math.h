// Shared by the fused CPU kernels (gru_cpu.cpp, lstm_cpu.cpp): branch-free float32/float64 exp, sigmoid and tanh
// that gcc -O3 vectorises inside the elementwise gate loops. exp is a Cody-Waite range reduction and a Cephes
// polynomial (about 1 ulp); the clamps keep the result finite, so the loops carry no branches.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace {

template <typename To, typename From>
inline To bits(From v) {
  To out;
  std::memcpy(&out, &v, sizeof(To));
  return out;
}

inline float exp_(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  float k = x * 1.44269504088896341f + 12582912.0f;  // 1.5 * 2^23: round(x / ln 2) lands in the mantissa
  int32_t n = bits<int32_t>(k) - 0x4B400000;
  k -= 12582912.0f;
  float r = x - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  return y * bits<float>((n + 127) << 23);
}

inline double exp_(double x) {
  x = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
  double k = x * 1.4426950408889634 + 6755399441055744.0;  // 1.5 * 2^52
  int64_t n = bits<int64_t>(k) - 0x4338000000000000LL;
  k -= 6755399441055744.0;
  double r = x - k * 6.93145751953125e-1;
  r = r - k * 1.42860682030941723212e-6;
  double rr = r * r;
  double p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 9.99999999999999999910e-1);
  double q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr + 2.27265548208155028766e-1) * rr
             + 2.00000000000000000009e0;
  double y = 1.0 + 2.0 * p / (q - p);
  return y * bits<double>((n + 1023) << 52);
}

template <typename T>
inline T sigmoid_(T x) {
  return T(1) / (T(1) + exp_(-x));
}

template <typename T>
inline T tanh_(T x) {
  T e = exp_(T(-2) * std::abs(x));
  return std::copysign((T(1) - e) / (T(1) + e), x);
}

// Rows per parallel task: about 16K elements of work.
inline int64_t grain_rows(int64_t H) { return H > 0 && H < 16384 ? 16384 / H : 1; }

}  // namespace
