"""What the layer tests share: shapes, the mask layouts every recurrent path must handle, a tolerance check,
layers with random weights, and a spy on gated's compiled C++ module."""

from __future__ import annotations

import torch

B, T, F, H = 3, 5, 4, 6
MASKS = {  # (B, T) = (3, 5); one contiguous block of valid steps per row
    "none": None,
    "right": [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]],
    "left": [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 1]],
    "empty_row": [[1, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]],
    "mid_block": [[0, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 1, 0]],
}


def as_mask(rows) -> torch.Tensor | None:
    return None if rows is None else torch.tensor(rows, dtype=torch.bool)


def close(actual: torch.Tensor, expected: torch.Tensor, what: str, atol: float) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    if actual.numel() == 0:
        return
    diff = (actual.detach() - expected.detach()).abs().max().item()
    assert diff <= atol, f"{what}: max abs difference {diff:.3e} > {atol:.0e}"


def random_layer(cls, dtype=torch.float64, features=F, units=H, **kwargs):
    """A built ``cls`` (GRU or LSTM) with weights drawn from N(0, 0.5²)."""
    layer = cls(units, dtype=dtype, **kwargs)
    layer(torch.zeros(1, 1, features, dtype=dtype))
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    return layer


class ModuleSpy:
    """Stands in for the compiled module; records (entry point, train flag) of each call (the flag: the last
    argument of the ``*_forward`` entry points, None for the others)."""

    def __init__(self, real):
        self._real = real
        self.calls: list[tuple[str, bool | None]] = []

    def __getattr__(self, name):
        fn = getattr(self._real, name)

        def counted(*args):
            self.calls.append((name, args[-1] if name.endswith("_forward") else None))
            return fn(*args)

        return counted
