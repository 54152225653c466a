"""``keras.ops.math`` on torch: segment reductions, top-k, log-sum-exp, distances, framing, Fourier
transforms (as (real, imaginary) pairs, Keras's convention) and special functions."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._convert import Tensor, convert_to_tensor, tensors
from ._reduce import logsumexp

__all__ = [
    "cdist", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k", "irfft", "logdet",
    "logsumexp", "rfft", "rsqrt", "segment_max", "segment_min", "segment_prod", "segment_sum", "stft", "top_k",
    "view_as_complex", "view_as_real",
]

_FILL = {"sum": 0.0, "prod": 1.0, "amax": -math.inf, "amin": math.inf}


def _segment(data: Any, segment_ids: Any, num_segments: int | None, reduce: str) -> Tensor:
    data, ids = tensors(data, segment_ids)
    if ids.ndim != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"segment ops need 1-D segment_ids with one id per row of data ({data.shape[0]}); received "
                         f"segment_ids of shape {tuple(ids.shape)}.")
    ids = ids.long()
    count = int(ids.max()) + 1 if num_segments is None else int(num_segments)
    ids = torch.where((ids >= 0) & (ids < count), ids, count)  # out-of-range ids go to a dropped extra row
    index = ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand(data.shape)
    compute = data.double() if data.dtype == torch.float64 else data.float()
    out = torch.full((count + 1,) + tuple(data.shape[1:]), _FILL[reduce], dtype=compute.dtype, device=data.device)
    out = out.scatter_reduce(0, index, compute, reduce, include_self=True)
    return out[:-1].to(data.dtype)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Tensor:
    """The sum of the rows of ``data`` per segment id (ids outside [0, num_segments) are dropped)."""
    return _segment(data, segment_ids, num_segments, "sum")


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Tensor:
    """The maximum of the rows of ``data`` per segment id (-inf for an empty segment)."""
    return _segment(data, segment_ids, num_segments, "amax")


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Tensor:
    """The minimum of the rows of ``data`` per segment id (inf for an empty segment)."""
    return _segment(data, segment_ids, num_segments, "amin")


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Tensor:
    """The product of the rows of ``data`` per segment id (1 for an empty segment)."""
    return _segment(data, segment_ids, num_segments, "prod")


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:
    """The ``k`` largest values along the last axis and their indices, ``(values, indices)``."""
    x = convert_to_tensor(x)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} is out of range for a last axis of length {x.shape[-1]}.")
    values, indices = torch.topk(x, k, dim=-1, sorted=sorted)
    return values, indices


def in_top_k(targets: Any, predictions: Any, k: int) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions of its row (ties count as in)."""
    targets, predictions = tensors(targets, predictions)
    if predictions.ndim != 2 or targets.shape != predictions.shape[:1]:
        raise ValueError(f"in_top_k needs predictions (batch, classes) and targets (batch,); received "
                         f"{tuple(predictions.shape)} and {tuple(targets.shape)}.")
    kth = torch.topk(predictions, k, dim=-1).values[:, -1:]
    target_values = torch.gather(predictions, 1, targets.long()[:, None])
    return (target_values >= kth).squeeze(1)


def cdist(x: Any, y: Any) -> Tensor:
    """The Euclidean distances between the rows of ``x`` (..., P, D) and ``y`` (..., R, D): (..., P, R)."""
    x, y = tensors(x, y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"cdist needs inputs of rank >= 2 with one last axis; received {tuple(x.shape)} and "
                         f"{tuple(y.shape)}.")
    diff = x.unsqueeze(-2) - y.unsqueeze(-3)
    return torch.sqrt((diff * diff).sum(dim=-1))


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> Tensor:
    """Frames of ``sequence_length`` along the last axis every ``sequence_stride`` steps: (..., frames, length)."""
    return convert_to_tensor(x).unfold(-1, sequence_length, sequence_stride)


def _complex(x: Any) -> Tensor:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError("Fourier ops take x as a (real, imaginary) pair of float tensors; received "
                         f"{type(x).__name__}.")
    real, imag = tensors(*x)
    if real.shape != imag.shape or not (real.is_floating_point() and imag.is_floating_point()):
        raise ValueError(f"Fourier ops need real and imaginary float tensors of one shape; received "
                         f"{real.dtype} {tuple(real.shape)} and {imag.dtype} {tuple(imag.shape)}.")
    return torch.complex(real, imag)


def _pair(z: Tensor) -> tuple[Tensor, Tensor]:
    return z.real, z.imag


def fft(x: Any) -> tuple[Tensor, Tensor]:
    """The FFT over the last axis of a (real, imaginary) pair."""
    return _pair(torch.fft.fft(_complex(x)))


def fft2(x: Any) -> tuple[Tensor, Tensor]:
    """The 2-D FFT over the last two axes."""
    return _pair(torch.fft.fft2(_complex(x)))


def ifft2(x: Any) -> tuple[Tensor, Tensor]:
    """The inverse 2-D FFT over the last two axes."""
    return _pair(torch.fft.ifft2(_complex(x)))


def rfft(x: Any, fft_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The FFT of a real signal over its last axis (the non-negative frequencies)."""
    return _pair(torch.fft.rfft(convert_to_tensor(x), n=fft_length, dim=-1))


def irfft(x: Any, fft_length: int | None = None) -> Tensor:
    """The inverse of ``rfft``: a real signal from its non-negative frequencies."""
    return torch.fft.irfft(_complex(x), n=fft_length, dim=-1)


def _window(window: Any, length: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    if window is None:
        return torch.ones(length, dtype=dtype, device=device)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"window must be 'hann', 'hamming', None or an array; received window={window!r}.")
        make = torch.hann_window if window == "hann" else torch.hamming_window
        return make(length, periodic=True, dtype=dtype, device=device)
    win = convert_to_tensor(window, dtype, device=device)
    if win.shape != (length,):
        raise ValueError(f"window must have shape ({length},) (sequence_length); received {tuple(win.shape)}.")
    return win


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> tuple[Tensor, Tensor]:
    """The short-time Fourier transform over the last axis: (..., frames, fft_length // 2 + 1) real and
    imaginary parts."""
    x = convert_to_tensor(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"stft takes float32 or float64 signals; received {str(x.dtype).split('.')[-1]}.")
    if fft_length < sequence_length:
        raise ValueError(f"stft needs fft_length >= sequence_length; received fft_length={fft_length}, "
                         f"sequence_length={sequence_length}.")
    win = _window(window, sequence_length, x.dtype, x.device)
    batch = tuple(x.shape[:-1])
    flat = x.reshape(-1, x.shape[-1])
    z = torch.stft(flat, n_fft=fft_length, hop_length=sequence_stride, win_length=sequence_length, window=win,
                   center=center, return_complex=True)  # (B, bins, frames)
    z = z.reshape(batch + tuple(z.shape[-2:])).transpose(-2, -1)
    return z.real, z.imag


def rsqrt(x: Any) -> Tensor:
    """``1 / sqrt(x)``."""
    return torch.rsqrt(convert_to_tensor(x))


def erf(x: Any) -> Tensor:
    """The error function."""
    return torch.erf(convert_to_tensor(x))


def erfc(x: Any) -> Tensor:
    """The complementary error function ``1 - erf(x)``."""
    return torch.erfc(convert_to_tensor(x))


def erfinv(x: Any) -> Tensor:
    """The inverse error function."""
    return torch.erfinv(convert_to_tensor(x))


def logdet(x: Any) -> Tensor:
    """``log(det(x))`` of (batches of) square matrices."""
    return torch.logdet(convert_to_tensor(x))


def view_as_complex(x: Any) -> Tensor:
    """A (..., 2) float tensor read as complex numbers (..., )."""
    x = convert_to_tensor(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"view_as_complex needs a last axis of length 2 (real, imaginary); received shape "
                         f"{tuple(x.shape)}.")
    return torch.view_as_complex(x.contiguous())


def view_as_real(x: Any) -> Tensor:
    """Complex numbers as a (..., 2) float tensor of real and imaginary parts."""
    x = convert_to_tensor(x)
    if not x.is_complex():
        raise ValueError(f"view_as_real takes a complex tensor; received dtype {str(x.dtype).split('.')[-1]}.")
    return torch.view_as_real(x)
