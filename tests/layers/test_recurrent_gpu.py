"""On CUDA the fused path is cuDNN: it must agree with the CPU reference loop, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated.layers as L
from gated.kernels._dispatch import Kernel

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("ieee_fp32")]

MASK = torch.tensor([[1] * 9, [1] * 6 + [0] * 3, [0] * 3 + [1] * 6, [0] * 9, [0, 0] + [1] * 4 + [0] * 3], dtype=torch.bool)


def _run(layer, x, mask):
    x = x.clone().requires_grad_(True)
    out = layer(x, mask=mask)
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    loss = sum((o * torch.linspace(-1, 1, o.numel(), device=o.device).reshape(o.shape)).sum() for o in outputs)
    loss.backward()
    grads = [x.grad] + [p.grad for p in layer.parameters()]
    return [o.detach().cpu().double() for o in outputs], [g.detach().cpu().double() for g in grads]


@pytest.mark.parametrize("name", ["GRU", "LSTM", "SimpleRNN"])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_cudnn_path_matches_cpu_loop(name, masked, go_backwards):
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    cpu = getattr(L, name)(16, use_cudnn=False, **kwargs)
    cpu.build((None, None, 8))
    gpu = getattr(L, name)(16, **kwargs)
    gpu.build((None, None, 8))
    gpu.to("cuda")
    gpu.set_weights(cpu.get_weights())
    x = torch.randn(5, 9, 8)
    mask = MASK if masked else None
    ref_out, ref_grads = _run(cpu, x, mask)
    out, grads = _run(gpu, x.cuda(), None if mask is None else mask.cuda())
    assert gpu.last_path.kernel is Kernel.CUDNN and "cuDNN" in gpu.last_path.detail
    for a, b in zip(out, ref_out):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=2e-5, rtol=0)
    for a, b in zip(grads, ref_grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4, rtol=1e-4)  # fp32 sums in another order


def test_weights_stay_in_one_cudnn_buffer_after_set_weights():
    layer = L.LSTM(32, input_shape=(None, 4)).to("cuda")
    layer.set_weights([w * 0.5 for w in layer.get_weights()])
    weights = layer.cell.fused_weights()
    storages = {w.untyped_storage().data_ptr() for w in weights}
    assert len(storages) == 1
    layer(torch.randn(3, 5, 4, device="cuda"))  # no "not part of single contiguous chunk" warning (warnings are errors)


def test_bidirectional_gru_on_cuda_matches_cpu():
    cpu = L.Bidirectional(L.GRU(12, return_sequences=True), input_shape=(None, 6))
    gpu = L.Bidirectional(L.GRU(12, return_sequences=True), input_shape=(None, 6)).to("cuda")
    gpu.set_weights(cpu.get_weights())
    x = torch.randn(5, 9, 6)
    np.testing.assert_allclose(gpu(x.cuda(), mask=MASK.cuda()).cpu().detach().numpy(),
                               cpu(x, mask=MASK).detach().numpy(), atol=2e-5)
