// A fused LSTM for the CPU (torch.nn.LSTM, Keras LSTM), gates in torch's and Keras's order i, f, g (cell), o.
//
//   [i, f, g, o] = x W_ih^T + h W_hh^T + b_ih + b_hh      i, f, o through sigmoid, g through tanh
//   c' = f * c + i * g                                    h' = o * tanh(c')
//
// forward: the input projection of a chunk of steps is one GEMM; each step is one GEMM h @ W_hh^T and ONE
// elementwise pass over (B, 4H) computing the gates, both new states and the output. backward (BPTT): each step is
// one elementwise pass giving the gate gradients (the same for the input and the recurrent products) and dc_{t-1},
// and one GEMM for dh_{t-1}; the weight and bias gradients and dx are a few GEMMs / sums per chunk of steps.
// Masks follow Keras: a masked step carries h and c and outputs the previous output (zeros before the first valid
// step), or zeros with zero_output_for_mask.
// Shape legend: B batch, T timesteps, F features, H units. Tensors inside are time-major (T, B, ...).
#include "lstm_cpu.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu_math.h"

namespace {

// One forward step for rows [b0, b1). gi: (B, 4H) x @ W_ih^T; bias: (4H) b_ih + b_hh; gh: (B, 4H) h_prev @ W_hh^T;
// out: row b at out + b * out_stride; gates: (B, 4H) i, f, g, o (a scratch row in inference, so that inference runs
// the very same loop and gives the same bits as training).
template <typename T>
void forward_rows(int64_t b0, int64_t b1, int64_t H, const T* gi, const T* bias, const T* gh, const T* h_prev,
                  const T* c_prev, T* h_new, T* c_new, T* out, int64_t out_stride, const T* out_prev,
                  const bool* valid, bool zero_output, T* gates) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* hp = h_prev + b * H;
    const T* cp = c_prev + b * H;
    T* hb = h_new + b * H;
    T* cb = c_new + b * H;
    T* ob = out + b * out_stride;
    if (valid != nullptr && !valid[b]) {  // masked: states carried, output repeated (or zero)
      std::memcpy(hb, hp, H * sizeof(T));
      std::memcpy(cb, cp, H * sizeof(T));
      if (zero_output || out_prev == nullptr) {
        std::memset(ob, 0, H * sizeof(T));
      } else {
        std::memcpy(ob, out_prev + b * out_stride, H * sizeof(T));
      }
      continue;
    }
    const T* xi = gi + b * 4 * H;
    const T* hi = gh + b * 4 * H;
    T* g_i = gates + b * 4 * H;
    T* g_f = g_i + H;
    T* g_g = g_f + H;
    T* g_o = g_g + H;
#pragma GCC ivdep  // the row's arrays never overlap
    for (int64_t j = 0; j < H; ++j) {
      T input_gate = sigmoid_(xi[j] + bias[j] + hi[j]);
      T forget_gate = sigmoid_(xi[H + j] + bias[H + j] + hi[H + j]);
      T cell = tanh_(xi[2 * H + j] + bias[2 * H + j] + hi[2 * H + j]);
      T output_gate = sigmoid_(xi[3 * H + j] + bias[3 * H + j] + hi[3 * H + j]);
      T c = forget_gate * cp[j] + input_gate * cell;
      T h = output_gate * tanh_(c);
      g_i[j] = input_gate;
      g_f[j] = forget_gate;
      g_g[j] = cell;
      g_o[j] = output_gate;
      cb[j] = c;
      hb[j] = h;
      ob[j] = h;
    }
  }
}

// One backward step for rows [b0, b1). dh, dc: dL/dh_t, dL/dc_t from later steps, replaced in place by the part of
// dL/dh_{t-1} that does not go through W_hh (zero for a valid row, dh for a masked one) and by dL/dc_{t-1}.
// gout: dL/d output_t (row stride out_stride, nullptr when the outputs get no gradient); carry: the gradient of a
// masked step's repeated output, handed to the step before. Writes dg (B, 4H): the gate pre-activation gradients.
// tanh(c_t) is recomputed from c_t (the same function, the same bits) rather than saved: a smaller saved array.
template <typename T>
void backward_rows(int64_t b0, int64_t b1, int64_t H, T* dh, T* dc, const T* gout, int64_t out_stride, T* carry,
                   const T* gates, const T* c_prev, const T* c_new, const bool* valid, bool zero_output, T* dg) {
  for (int64_t b = b0; b < b1; ++b) {
    T* dhb = dh + b * H;
    T* dcb = dc + b * H;
    const T* go = gout == nullptr ? nullptr : gout + b * out_stride;
    T* cb = carry == nullptr ? nullptr : carry + b * H;
    T* d_i = dg + b * 4 * H;
    if (valid != nullptr && !valid[b]) {
      #pragma GCC ivdep  // the row's arrays never overlap
      for (int64_t j = 0; j < H; ++j) {
        T g_out = (go == nullptr ? T(0) : go[j]) + cb[j];
        cb[j] = zero_output ? T(0) : g_out;
      }
      std::memset(d_i, 0, 4 * H * sizeof(T));
      continue;
    }
    T* d_f = d_i + H;
    T* d_g = d_f + H;
    T* d_o = d_g + H;
    const T* g_i = gates + b * 4 * H;
    const T* g_f = g_i + H;
    const T* g_g = g_f + H;
    const T* g_o = g_g + H;
    const T* cp = c_prev + b * H;
    const T* cn = c_new + b * H;
    #pragma GCC ivdep  // the row's arrays never overlap
    for (int64_t j = 0; j < H; ++j) {
      T g = dhb[j];
      if (go != nullptr) g += go[j];
      if (cb != nullptr) {
        g += cb[j];
        cb[j] = T(0);
      }
      T i = g_i[j], f = g_f[j], cell = g_g[j], o = g_o[j], tc = tanh_(cn[j]);
      T d_c = dcb[j] + g * o * (T(1) - tc * tc);
      d_i[j] = d_c * cell * i * (T(1) - i);
      d_f[j] = d_c * cp[j] * f * (T(1) - f);
      d_g[j] = d_c * i * (T(1) - cell * cell);
      d_o[j] = g * tc * o * (T(1) - o);
      dcb[j] = d_c * f;
      dhb[j] = T(0);
    }
  }
}

// A buffer of `shape` whose memory is reused from an earlier call once nothing else holds it. The saved gates and
// states of a training forward are tens of MB: fresh from the system on every call they cost a page fault per 4 KB
// (about a quarter of the forward here). At most kPoolSize buffers of up to 256 MB are kept, for the process's life.
// Under torch.inference_mode nothing is pooled: its tensors could not be written to outside it later.
at::Tensor pooled_empty(at::IntArrayRef shape, const at::TensorOptions& options) {
  constexpr size_t kPoolSize = 8;
  if (c10::InferenceMode::is_enabled()) return at::empty(shape, options);
  static auto* pool = new std::vector<at::Tensor>();  // never destroyed: no tensor outlives torch at exit
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  at::Tensor* spare = nullptr;
  for (auto& buffer : *pool) {
    if (buffer.storage().use_count() != 1 || buffer.scalar_type() != options.dtype()) continue;
    if (buffer.numel() >= numel) return buffer.narrow(0, 0, numel).view(shape);
    spare = &buffer;
  }
  at::Tensor fresh = at::empty({numel}, options);
  if (numel * fresh.element_size() <= (int64_t(1) << 28)) {
    if (spare != nullptr) {
      *spare = fresh;
    } else if (pool->size() < kPoolSize) {
      pool->push_back(fresh);
    }
  }
  return fresh.view(shape);
}

// Steps per chunk: the input projections and gate gradients of one chunk (about 2 MB) stay in cache.
int64_t lstm_chunk_steps(int64_t T, int64_t B, int64_t H) {
  return std::min<int64_t>(T, std::max<int64_t>(1, (int64_t(1) << 19) / std::max<int64_t>(B * 4 * H, 1)));
}

void check_lstm_inputs(const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0, const at::Tensor& w_ih,
                       const at::Tensor& w_hh, const at::Tensor& b_ih, const at::Tensor& b_hh) {
  TORCH_CHECK(x.dim() == 3 && h0.dim() == 2 && c0.dim() == 2 && w_ih.dim() == 2 && w_hh.dim() == 2,
              "gated LSTM kernel: bad ranks");
  const int64_t H = w_hh.size(1);
  TORCH_CHECK(w_hh.size(0) == 4 * H && w_ih.size(0) == 4 * H && w_ih.size(1) == x.size(2),
              "gated LSTM kernel: weight shapes");
  TORCH_CHECK(b_ih.numel() == 4 * H && b_hh.numel() == 4 * H && h0.size(0) == x.size(0) && h0.size(1) == H &&
              c0.sizes() == h0.sizes(), "gated LSTM kernel: bias or state shapes");
  for (const auto& t : {h0, c0, w_ih, w_hh, b_ih, b_hh}) {
    TORCH_CHECK(t.scalar_type() == x.scalar_type() && t.device().is_cpu(), "gated LSTM kernel: dtypes or devices "
                "differ");
  }
}

}  // namespace

// Returns (outputs (B, T, H), final h (B, H), final c (B, H), h states (T + 1, B, H), c states (T + 1, B, H),
// gates (T, B, 4H), x (T, B, F)), time-major. Without `train` the last four are empty and two state buffers are kept.
std::vector<at::Tensor> lstm_forward(const at::Tensor& x_in, const at::Tensor& h0_in, const at::Tensor& c0_in,
                                     const at::Tensor& w_ih, const at::Tensor& w_hh, const at::Tensor& b_ih,
                                     const at::Tensor& b_hh, const at::Tensor& mask_in, bool zero_output,
                                     bool train) {
  check_lstm_inputs(x_in, h0_in, c0_in, w_ih, w_hh, b_ih, b_hh);
  at::NoGradGuard no_grad;
  const int64_t B = x_in.size(0), T = x_in.size(1), F = x_in.size(2), H = w_hh.size(1);
  const int64_t chunk = lstm_chunk_steps(T, B, H);
  at::Tensor x = x_in.transpose(0, 1).contiguous();  // (T, B, F)
  at::Tensor w_ih_t = w_ih.t(), w_hh_t = w_hh.t();  // views: BLAS reads them transposed
  at::Tensor bias = (b_ih + b_hh).contiguous();
  at::Tensor mask = mask_in.defined() && mask_in.numel() > 0 ? mask_in.transpose(0, 1).contiguous() : at::Tensor();
  at::Tensor out = at::empty({B, T, H}, x.options());
  const auto buffer = train ? pooled_empty : [](at::IntArrayRef shape, const at::TensorOptions& options) {
    return at::empty(shape, options);
  };
  at::Tensor h_states = buffer({train ? T + 1 : 2, B, H}, x.options());
  at::Tensor c_states = buffer({train ? T + 1 : 2, B, H}, x.options());
  at::Tensor gates = buffer({train ? T : 1, B, 4 * H}, x.options());
  at::Tensor gi = at::empty({chunk * B, 4 * H}, x.options());
  at::Tensor gh = at::empty({B, 4 * H}, x.options());
  h_states[0].copy_(h0_in);
  c_states[0].copy_(c0_in);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gated_lstm_forward", [&] {
    const int64_t out_stride = T * H;
    scalar_t* outp = out.data_ptr<scalar_t>();
    for (int64_t c0 = 0; c0 < T; c0 += chunk) {
      const int64_t steps = std::min(chunk, T - c0);
      at::Tensor gi_c = gi.narrow(0, 0, steps * B);
      at::mm_out(gi_c, x.narrow(0, c0, steps).view({steps * B, F}), w_ih_t);  // the input projection
      for (int64_t t = c0; t < c0 + steps; ++t) {
        const int64_t prev = train ? t : t % 2, next = train ? t + 1 : (t + 1) % 2;
        at::Tensor h_prev = h_states[prev], c_prev = c_states[prev], h_new = h_states[next], c_new = c_states[next];
        at::mm_out(gh, h_prev, w_hh_t);
        const scalar_t* gi_t = gi.data_ptr<scalar_t>() + (t - c0) * B * 4 * H;
        const bool* valid = mask.defined() ? mask.data_ptr<bool>() + t * B : nullptr;
        scalar_t* gates_t = gates.data_ptr<scalar_t>() + (train ? t : 0) * B * 4 * H;
        const scalar_t* out_prev = t == 0 ? nullptr : outp + (t - 1) * H;
        at::parallel_for(0, B, grain_rows(H), [&](int64_t b0, int64_t b1) {
          forward_rows<scalar_t>(b0, b1, H, gi_t, bias.data_ptr<scalar_t>(), gh.data_ptr<scalar_t>(),
                                 h_prev.data_ptr<scalar_t>(), c_prev.data_ptr<scalar_t>(),
                                 h_new.data_ptr<scalar_t>(), c_new.data_ptr<scalar_t>(),
                                 outp + t * H, out_stride, out_prev, valid, zero_output, gates_t);
        });
      }
    }
  });
  const int64_t last = train ? T : T % 2;
  at::Tensor h_final = h_states[last].clone(), c_final = c_states[last].clone();
  if (!train) return {out, h_final, c_final, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  return {out, h_final, c_final, h_states, c_states, gates, x};
}

// Returns (dx (B, T, F) or empty, dh0, dc0, dW_ih, dW_hh, db) - db is the gradient of b_ih and of b_hh alike.
std::vector<at::Tensor> lstm_backward(const at::Tensor& grad_out_in, const at::Tensor& grad_h_in,
                                      const at::Tensor& grad_c_in, const at::Tensor& x, const at::Tensor& w_ih,
                                      const at::Tensor& w_hh, const at::Tensor& h_states,
                                      const at::Tensor& c_states, const at::Tensor& gates, const at::Tensor& mask_in,
                                      bool zero_output, bool need_dx) {
  at::NoGradGuard no_grad;
  const int64_t T = x.size(0), B = x.size(1), F = x.size(2), H = w_hh.size(1);
  const int64_t chunk = lstm_chunk_steps(T, B, H);
  at::Tensor grad_out = grad_out_in.defined() ? grad_out_in.contiguous() : at::Tensor();
  at::Tensor dh = grad_h_in.defined() ? grad_h_in.contiguous().clone() : at::zeros({B, H}, x.options());
  at::Tensor dc = grad_c_in.defined() ? grad_c_in.contiguous().clone() : at::zeros({B, H}, x.options());
  at::Tensor mask = mask_in.defined() && mask_in.numel() > 0 ? mask_in.transpose(0, 1).contiguous() : at::Tensor();
  at::Tensor carry = mask.defined() ? at::zeros({B, H}, x.options()) : at::Tensor();
  at::Tensor dg = at::empty({chunk * B, 4 * H}, x.options());
  // dW_ih and dx are accumulated transposed: (F, 4H) += x^T dg and dx^T = W_ih^T dg^T are GEMMs with long rows;
  // the direct forms (4H, F) and (T B, F), with F columns, take BLAS's slow small-N path (about 8x slower here).
  at::Tensor dw_ih_t = at::zeros({F, 4 * H}, x.options()), dw_hh = at::zeros_like(w_hh);
  at::Tensor db = at::zeros({4 * H}, x.options());
  at::Tensor dx_t = need_dx ? at::empty({F, T * B}, x.options()) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gated_lstm_backward", [&] {
    const int64_t out_stride = T * H;
    const int64_t last_chunk = (T - 1) / chunk * chunk;
    for (int64_t c0 = last_chunk; c0 >= 0; c0 -= chunk) {
      const int64_t steps = std::min(chunk, T - c0);
      for (int64_t t = c0 + steps - 1; t >= c0; --t) {
        const scalar_t* gout = grad_out.defined() ? grad_out.data_ptr<scalar_t>() + t * H : nullptr;
        const bool* valid = mask.defined() ? mask.data_ptr<bool>() + t * B : nullptr;
        const scalar_t* gates_t = gates.data_ptr<scalar_t>() + t * B * 4 * H;
        const scalar_t* c_prev = c_states.data_ptr<scalar_t>() + t * B * H;
        scalar_t* dg_t = dg.data_ptr<scalar_t>() + (t - c0) * B * 4 * H;
        at::parallel_for(0, B, grain_rows(H), [&](int64_t b0, int64_t b1) {
          backward_rows<scalar_t>(b0, b1, H, dh.data_ptr<scalar_t>(), dc.data_ptr<scalar_t>(), gout, out_stride,
                                  carry.defined() ? carry.data_ptr<scalar_t>() : nullptr, gates_t, c_prev,
                                  c_prev + B * H, valid, zero_output, dg_t);
        });
        dh.addmm_(dg.narrow(0, (t - c0) * B, B), w_hh);  // dh_{t-1} = base + dg_t @ W_hh, in place
      }
      // this chunk's share of the weight and bias gradients, and of dx
      at::Tensor dg_c = dg.narrow(0, 0, steps * B);
      dw_ih_t.addmm_(x.narrow(0, c0, steps).view({steps * B, F}).t(), dg_c);
      dw_hh.addmm_(dg_c.t(), h_states.narrow(0, c0, steps).view({steps * B, H}));
      db.add_(dg_c.sum(0));
      if (need_dx) {
        at::Tensor dx_c = dx_t.narrow(1, c0 * B, steps * B);
        at::mm_out(dx_c, w_ih.t(), dg_c.t());
      }
    }
  });
  // (F, T, B) -> (B, T, F)
  at::Tensor dx = need_dx ? dx_t.view({F, T, B}).permute({2, 1, 0}).contiguous() : at::Tensor();
  return {dx, dh, dc, dw_ih_t.t().contiguous(), dw_hh, db};
}
