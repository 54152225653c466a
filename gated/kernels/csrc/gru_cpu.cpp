// A fused GRU for the CPU: the reset-after GRU (torch.nn.GRU, Keras reset_after=True), gates in torch order r, z, n.
//
//   r = sigmoid(x W_ir + b_ir + h W_hr + b_hr)      z = sigmoid(x W_iz + b_iz + h W_hz + b_hz)
//   n = tanh(x W_in + b_in + r * (h W_hn + b_hn))   h' = (1 - z) * n + z * h
//
// forward: the input projection of all steps is one GEMM; each step is one GEMM h @ W_hh^T and ONE elementwise
// pass over (B, 3H) computing the gates and the new state. backward (BPTT): each step is one elementwise pass giving
// the gate gradients and one GEMM for dh_prev; the weight and bias gradients are four GEMMs / sums over all steps.
// Masks follow Keras: a masked step keeps the state and outputs the previous output (zeros before the first valid
// step), or zeros with zero_output_for_mask. stream_step is one step for one row buffer [x, h, 1] of a Streamer.
//
// The elementwise passes are plain loops that gcc -O3 vectorises, with the branch-free exp of cpu_math.h.
// This file also holds the extension's Python bindings, for the LSTM of lstm_cpu.cpp too.
// Shape legend: B batch, T timesteps, F features, H units. Tensors inside are time-major (T, B, ...).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/python.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu_math.h"
#include "lstm_cpu.h"

namespace {

// One forward step for rows [b0, b1). gi: (B, 3H) x @ W_ih^T; bias: (3H) b_ih + [b_hr, b_hz, 0]; gh: (B, 3H)
// h_prev @ W_hh^T; out: row b at out + b * out_stride; gates: (B, 4H) r, z, n, hn (a scratch row in inference,
// so that inference runs the very same loop and gives the same bits as training).
template <typename T>
void forward_rows(int64_t b0, int64_t b1, int64_t H, const T* gi, const T* bias, const T* gh, const T* b_hn,
                  const T* h_prev, T* h_new, T* out, int64_t out_stride, const T* out_prev, const bool* valid,
                  bool zero_output, T* gates) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* hp = h_prev + b * H;
    T* hb = h_new + b * H;
    T* ob = out + b * out_stride;
    if (valid != nullptr && !valid[b]) {  // masked: state carried, output repeated (or zero)
      std::memcpy(hb, hp, H * sizeof(T));
      if (zero_output || out_prev == nullptr) {
        std::memset(ob, 0, H * sizeof(T));
      } else {
        std::memcpy(ob, out_prev + b * out_stride, H * sizeof(T));
      }
      continue;
    }
    const T* xr = gi + b * 3 * H;
    const T* xz = xr + H;
    const T* xn = xz + H;
    const T* hr = gh + b * 3 * H;
    const T* hz = hr + H;
    const T* hnr = hz + H;
    const T* bn = b_hn;
    const T* br = bias;
    const T* bz = bias + H;
    const T* bx = bias + 2 * H;
    T* gr = gates + b * 4 * H;
    T* gz = gr + H;
    T* gn = gz + H;
    T* ghn = gn + H;
#pragma GCC ivdep  // the row's arrays never overlap
    for (int64_t j = 0; j < H; ++j) {
      T hn = hnr[j] + bn[j];
      T r = sigmoid_(xr[j] + br[j] + hr[j]);
      T z = sigmoid_(xz[j] + bz[j] + hz[j]);
      T n = tanh_(xn[j] + bx[j] + r * hn);
      T h = n + z * (hp[j] - n);
      gr[j] = r;
      gz[j] = z;
      gn[j] = n;
      ghn[j] = hn;
      hb[j] = h;
      ob[j] = h;
    }
  }
}

// One backward step for rows [b0, b1). dh: dL/dh_t from later steps; gout: dL/d output_t (row stride out_stride,
// nullptr when the outputs get no gradient); carry: the gradient of a masked step's repeated output, handed to
// the step before. Writes dgi, dgh (B, 3H) and base = the part of dL/dh_{t-1} that does not go through W_hh
// (base may be dh: each element is read before it is written).
template <typename T>
void backward_rows(int64_t b0, int64_t b1, int64_t H, const T* dh, const T* gout, int64_t out_stride, T* carry,
                   const T* gates, const T* h_prev, const bool* valid, bool zero_output, T* dgi, T* dgh, T* base) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* dhb = dh + b * H;
    const T* go = gout == nullptr ? nullptr : gout + b * out_stride;
    T* cb = carry == nullptr ? nullptr : carry + b * H;
    T* gi = dgi + b * 3 * H;
    T* gh = dgh + b * 3 * H;
    T* bb = base + b * H;
    if (valid != nullptr && !valid[b]) {
      #pragma GCC ivdep  // the row's arrays never overlap
      for (int64_t j = 0; j < H; ++j) {
        T g_out = (go == nullptr ? T(0) : go[j]) + cb[j];
        cb[j] = zero_output ? T(0) : g_out;
        bb[j] = dhb[j];
      }
      std::memset(gi, 0, 3 * H * sizeof(T));
      std::memset(gh, 0, 3 * H * sizeof(T));
      continue;
    }
    const T* gr = gates + b * 4 * H;
    const T* gz = gr + H;
    const T* gn = gz + H;
    const T* ghn = gn + H;
    const T* hp = h_prev + b * H;
    #pragma GCC ivdep  // the row's arrays never overlap
    for (int64_t j = 0; j < H; ++j) {
      T g = dhb[j];
      if (go != nullptr) g += go[j];
      if (cb != nullptr) {
        g += cb[j];
        cb[j] = T(0);
      }
      T r = gr[j], z = gz[j], n = gn[j];
      T da_n = g * (T(1) - z) * (T(1) - n * n);
      T da_r = da_n * ghn[j] * r * (T(1) - r);
      T da_z = g * (hp[j] - n) * z * (T(1) - z);
      gi[j] = da_r;
      gi[H + j] = da_z;
      gi[2 * H + j] = da_n;
      gh[j] = da_r;
      gh[H + j] = da_z;
      gh[2 * H + j] = da_n * r;
      bb[j] = g * z;
    }
  }
}

void check_inputs(const at::Tensor& x, const at::Tensor& h0, const at::Tensor& w_ih, const at::Tensor& w_hh,
                  const at::Tensor& b_ih, const at::Tensor& b_hh) {
  TORCH_CHECK(x.dim() == 3 && h0.dim() == 2 && w_ih.dim() == 2 && w_hh.dim() == 2, "gated GRU kernel: bad ranks");
  const int64_t H = w_hh.size(1);
  TORCH_CHECK(w_hh.size(0) == 3 * H && w_ih.size(0) == 3 * H && w_ih.size(1) == x.size(2), "gated GRU kernel: "
              "weight shapes");
  TORCH_CHECK(b_ih.numel() == 3 * H && b_hh.numel() == 3 * H && h0.size(0) == x.size(0) && h0.size(1) == H,
              "gated GRU kernel: bias or state shapes");
  for (const auto& t : {h0, w_ih, w_hh, b_ih, b_hh}) {
    TORCH_CHECK(t.scalar_type() == x.scalar_type() && t.device().is_cpu(), "gated GRU kernel: dtypes or devices "
                "differ");
  }
}

}  // namespace

// Steps per chunk: the input projections and gate gradients of one chunk (about 2 MB) are computed, used and
// reused while they are in cache, instead of (T, B, 3H) arrays that cost a page fault per 4 KB on every call.
int64_t chunk_steps(int64_t T, int64_t B, int64_t H) {
  return std::min<int64_t>(T, std::max<int64_t>(1, (int64_t(1) << 19) / std::max<int64_t>(B * 3 * H, 1)));
}

// Returns (outputs (B, T, H), final state (B, H), states (T + 1, B, H) time-major, gates (T, B, 4H), x (T, B, F)).
// Without `train` the last three are empty tensors and only two state buffers are kept.
std::vector<at::Tensor> gru_forward(const at::Tensor& x_in, const at::Tensor& h0_in, const at::Tensor& w_ih,
                                    const at::Tensor& w_hh, const at::Tensor& b_ih, const at::Tensor& b_hh,
                                    const at::Tensor& mask_in, bool zero_output, bool train) {
  check_inputs(x_in, h0_in, w_ih, w_hh, b_ih, b_hh);
  at::NoGradGuard no_grad;
  const int64_t B = x_in.size(0), T = x_in.size(1), F = x_in.size(2), H = w_hh.size(1);
  const int64_t chunk = chunk_steps(T, B, H);
  at::Tensor x = x_in.transpose(0, 1).contiguous();  // (T, B, F)
  at::Tensor w_ih_t = w_ih.t(), w_hh_t = w_hh.t();  // views: BLAS reads them transposed
  at::Tensor bias = b_ih.contiguous().clone();
  bias.narrow(0, 0, 2 * H).add_(b_hh.narrow(0, 0, 2 * H));
  at::Tensor b_hn = b_hh.narrow(0, 2 * H, H).contiguous();
  at::Tensor mask = mask_in.defined() && mask_in.numel() > 0 ? mask_in.transpose(0, 1).contiguous() : at::Tensor();
  at::Tensor out = at::empty({B, T, H}, x.options());
  at::Tensor states = at::empty({train ? T + 1 : 2, B, H}, x.options());
  at::Tensor gates = at::empty({train ? T : 1, B, 4 * H}, x.options());
  at::Tensor gi = at::empty({chunk * B, 3 * H}, x.options());
  at::Tensor gh = at::empty({B, 3 * H}, x.options());
  states[0].copy_(h0_in);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gated_gru_forward", [&] {
    const int64_t out_stride = T * H;
    scalar_t* outp = out.data_ptr<scalar_t>();
    for (int64_t c0 = 0; c0 < T; c0 += chunk) {
      const int64_t steps = std::min(chunk, T - c0);
      at::Tensor gi_c = gi.narrow(0, 0, steps * B);
      at::mm_out(gi_c, x.narrow(0, c0, steps).view({steps * B, F}), w_ih_t);  // the input projection
      for (int64_t t = c0; t < c0 + steps; ++t) {
        at::Tensor h_prev = train ? states[t] : states[t % 2];
        at::Tensor h_new = train ? states[t + 1] : states[(t + 1) % 2];
        at::mm_out(gh, h_prev, w_hh_t);
        const scalar_t* gi_t = gi.data_ptr<scalar_t>() + (t - c0) * B * 3 * H;
        const bool* valid = mask.defined() ? mask.data_ptr<bool>() + t * B : nullptr;
        scalar_t* gates_t = gates.data_ptr<scalar_t>() + (train ? t : 0) * B * 4 * H;
        const scalar_t* out_prev = t == 0 ? nullptr : outp + (t - 1) * H;
        at::parallel_for(0, B, grain_rows(H), [&](int64_t b0, int64_t b1) {
          forward_rows<scalar_t>(b0, b1, H, gi_t, bias.data_ptr<scalar_t>(), gh.data_ptr<scalar_t>(),
                                 b_hn.data_ptr<scalar_t>(), h_prev.data_ptr<scalar_t>(),
                                 h_new.data_ptr<scalar_t>(), outp + t * H, out_stride, out_prev, valid, zero_output,
                                 gates_t);
        });
      }
    }
  });
  at::Tensor final_state = states[train ? T : T % 2].clone();
  if (!train) return {out, final_state, at::Tensor(), at::Tensor(), at::Tensor()};
  return {out, final_state, states, gates, x};
}

// Returns (dx (B, T, F) or empty, dh0, dW_ih, dW_hh, db_ih, db_hh).
std::vector<at::Tensor> gru_backward(const at::Tensor& grad_out_in, const at::Tensor& grad_final_in,
                                     const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh,
                                     const at::Tensor& states, const at::Tensor& gates, const at::Tensor& mask_in,
                                     bool zero_output, bool need_dx) {
  at::NoGradGuard no_grad;
  const int64_t T = x.size(0), B = x.size(1), F = x.size(2), H = w_hh.size(1);
  const int64_t chunk = chunk_steps(T, B, H);
  at::Tensor grad_out = grad_out_in.defined() ? grad_out_in.contiguous() : at::Tensor();
  at::Tensor dh = grad_final_in.defined() ? grad_final_in.contiguous().clone() : at::zeros({B, H}, x.options());
  at::Tensor mask = mask_in.defined() && mask_in.numel() > 0 ? mask_in.transpose(0, 1).contiguous() : at::Tensor();
  at::Tensor carry = mask.defined() ? at::zeros({B, H}, x.options()) : at::Tensor();
  at::Tensor dgi = at::empty({chunk * B, 3 * H}, x.options());
  at::Tensor dgh = at::empty({chunk * B, 3 * H}, x.options());
  // dW_ih and dx are accumulated transposed: (F, 3H) += x^T dgi and dx^T = W_ih^T dgi^T are GEMMs with long rows;
  // the direct forms (3H, F) and (T B, F), with F columns, take BLAS's slow small-N path (about 8x slower here).
  at::Tensor dw_ih_t = at::zeros({F, 3 * H}, x.options()), dw_hh = at::zeros_like(w_hh);
  at::Tensor db_ih = at::zeros({3 * H}, x.options()), db_hh = at::zeros({3 * H}, x.options());
  at::Tensor dx_t = need_dx ? at::empty({F, T * B}, x.options()) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gated_gru_backward", [&] {
    const int64_t out_stride = T * H;
    const int64_t last_chunk = (T - 1) / chunk * chunk;
    for (int64_t c0 = last_chunk; c0 >= 0; c0 -= chunk) {
      const int64_t steps = std::min(chunk, T - c0);
      for (int64_t t = c0 + steps - 1; t >= c0; --t) {
        const scalar_t* gout = grad_out.defined() ? grad_out.data_ptr<scalar_t>() + t * H : nullptr;
        const bool* valid = mask.defined() ? mask.data_ptr<bool>() + t * B : nullptr;
        const scalar_t* gates_t = gates.data_ptr<scalar_t>() + t * B * 4 * H;
        const scalar_t* h_prev = states.data_ptr<scalar_t>() + t * B * H;
        scalar_t* dgi_t = dgi.data_ptr<scalar_t>() + (t - c0) * B * 3 * H;
        scalar_t* dgh_t = dgh.data_ptr<scalar_t>() + (t - c0) * B * 3 * H;
        at::parallel_for(0, B, grain_rows(H), [&](int64_t b0, int64_t b1) {
          backward_rows<scalar_t>(b0, b1, H, dh.data_ptr<scalar_t>(), gout, out_stride,
                                  carry.defined() ? carry.data_ptr<scalar_t>() : nullptr, gates_t, h_prev, valid,
                                  zero_output, dgi_t, dgh_t, dh.data_ptr<scalar_t>());
        });
        dh.addmm_(dgh.narrow(0, (t - c0) * B, B), w_hh);  // dh_{t-1} = base + dgh_t @ W_hh, in place
      }
      // this chunk's share of the weight and bias gradients, and of dx
      at::Tensor dgi_c = dgi.narrow(0, 0, steps * B), dgh_c = dgh.narrow(0, 0, steps * B);
      dw_ih_t.addmm_(x.narrow(0, c0, steps).view({steps * B, F}).t(), dgi_c);
      dw_hh.addmm_(dgh_c.t(), states.narrow(0, c0, steps).view({steps * B, H}));
      db_ih.add_(dgi_c.sum(0));
      db_hh.add_(dgh_c.sum(0));
      if (need_dx) {
        at::Tensor dx_c = dx_t.narrow(1, c0 * B, steps * B);
        at::mm_out(dx_c, w_ih.t(), dgi_c.t());
      }
    }
  });
  // (F, T, B) -> (B, T, F)
  at::Tensor dx = need_dx ? dx_t.view({F, T, B}).permute({2, 1, 0}).contiguous() : at::Tensor();
  return {dx, dh, dw_ih_t.t().contiguous(), dw_hh, db_ih, db_hh};
}

// One timestep for a Streamer's row buffers v = [x, h, 1] (B, F + H + 1), updated in place; weights are copied.
// A few rows: the products are axpy loops over the inputs into a register-sized block of outputs (a BLAS call
// costs more than the arithmetic of one row). Many rows: two GEMMs on views of the buffer, as in gru_forward.
template <typename T>
class StreamStep {
 public:
  StreamStep(const at::Tensor& w_ih, const at::Tensor& w_hh, const at::Tensor& b_ih, const at::Tensor& b_hh,
             int64_t v_address, int64_t batch)
      : F_(w_ih.size(1)), H_(w_hh.size(1)), batch_(batch), v_(reinterpret_cast<T*>(v_address)) {
    const auto type = at::CppTypeToScalarType<T>();
    wx_ = w_ih.t().contiguous().to(type);  // (F, 3H)
    wh_ = w_hh.t().contiguous().to(type);  // (H, 3H)
    bx_ = b_ih.clone();
    bx_.narrow(0, 0, 2 * H_).add_(b_hh.narrow(0, 0, 2 * H_));
    bx_ = bx_.contiguous().to(type);  // b_ih + [b_hr, b_hz, 0]
    bh_ = at::zeros({3 * H_}, bx_.options());
    bh_.narrow(0, 2 * H_, H_).copy_(b_hh.narrow(0, 2 * H_, H_));  // [0, 0, b_hn]
    ax_ = at::empty({batch, 3 * H_}, bx_.options());
    ah_ = at::empty({batch, 3 * H_}, bx_.options());
    const int64_t stride = F_ + H_ + 1;
    at::Tensor v = at::from_blob(v_, {batch, stride}, bx_.options());
    x_view_ = v.narrow(1, 0, F_);
    h_view_ = v.narrow(1, F_, H_);
  }

  void run() {
    at::NoGradGuard no_grad;
    const int64_t stride = F_ + H_ + 1, H = H_;
    const bool blas = batch_ >= kBlasRows;
    if (blas) {
      at::addmm_out(ax_, bx_, x_view_, wx_);
      at::addmm_out(ah_, bh_, h_view_, wh_);
    }
    for (int64_t b = 0; b < batch_; ++b) {
      T* x = v_ + b * stride;
      T* h = x + F_;
      T* ax = ax_.data_ptr<T>() + b * 3 * H;
      T* ah = ah_.data_ptr<T>() + b * 3 * H;
      if (!blas) {
        project(x, F_, wx_.data_ptr<T>(), bx_.data_ptr<T>(), ax);
        project(h, H_, wh_.data_ptr<T>(), bh_.data_ptr<T>(), ah);
      }
      #pragma GCC ivdep  // the row's arrays never overlap
      for (int64_t j = 0; j < H; ++j) {
        T r = sigmoid_(ax[j] + ah[j]);
        T z = sigmoid_(ax[H + j] + ah[H + j]);
        T n = tanh_(ax[2 * H + j] + r * ah[2 * H + j]);
        h[j] = n + z * (h[j] - n);
      }
    }
  }

 private:
  static constexpr int64_t kBlock = 64 / sizeof(T) * 4;  // outputs kept in registers: 64 floats, 32 doubles
  static constexpr int64_t kBlasRows = 8;

  // out (N) = bias + v (K) @ w (K, N), N = 3H
  void project(const T* v, int64_t K, const T* w, const T* bias, T* out) const {
    const int64_t N = 3 * H_;
    int64_t j0 = 0;
    for (; j0 + kBlock <= N; j0 += kBlock) {
      T acc[kBlock];
      for (int64_t j = 0; j < kBlock; ++j) acc[j] = bias[j0 + j];
      for (int64_t k = 0; k < K; ++k) {
        const T vk = v[k];
        const T* wk = w + k * N + j0;
        for (int64_t j = 0; j < kBlock; ++j) acc[j] += vk * wk[j];
      }
      for (int64_t j = 0; j < kBlock; ++j) out[j0 + j] = acc[j];
    }
    for (int64_t j = j0; j < N; ++j) out[j] = bias[j];
    for (int64_t k = 0; k < K; ++k) {
      const T vk = v[k];
      const T* wk = w + k * N;
      for (int64_t j = j0; j < N; ++j) out[j] += vk * wk[j];
    }
  }

  int64_t F_, H_, batch_;
  T* v_;
  at::Tensor wx_, wh_, bx_, bh_, ax_, ah_, x_view_, h_view_;
};

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("gru_forward", &gru_forward, "GRU forward over a whole sequence");
  m.def("gru_backward", &gru_backward, "GRU backward through time");
  m.def("lstm_forward", &lstm_forward, "LSTM forward over a whole sequence");
  m.def("lstm_backward", &lstm_backward, "LSTM backward through time");
  pybind11::class_<StreamStep<float>>(m, "StreamStepFloat")
      .def(pybind11::init<const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t,
                          int64_t>())
      .def("run", &StreamStep<float>::run);
  pybind11::class_<StreamStep<double>>(m, "StreamStepDouble")
      .def(pybind11::init<const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t,
                          int64_t>())
      .def("run", &StreamStep<double>::run);
}
