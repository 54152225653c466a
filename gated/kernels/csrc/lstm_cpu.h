// The fused CPU LSTM of lstm_cpu.cpp, bound to Python in gru_cpu.cpp (one extension).
#pragma once

#include <ATen/ATen.h>

#include <vector>

std::vector<at::Tensor> lstm_forward(const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0,
                                     const at::Tensor& w_ih, const at::Tensor& w_hh, const at::Tensor& b_ih,
                                     const at::Tensor& b_hh, const at::Tensor& mask, bool zero_output, bool train);

std::vector<at::Tensor> lstm_backward(const at::Tensor& grad_out, const at::Tensor& grad_h, const at::Tensor& grad_c,
                                      const at::Tensor& x, const at::Tensor& w_ih, const at::Tensor& w_hh,
                                      const at::Tensor& h_states, const at::Tensor& c_states,
                                      const at::Tensor& gates, const at::Tensor& mask, bool zero_output,
                                      bool need_dx);
