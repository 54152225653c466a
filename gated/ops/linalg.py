"""``keras.ops.linalg`` on torch: factorizations, solves, inverses, determinants and norms of (batches of)
matrices in the last two axes."""

from __future__ import annotations

from typing import Any, Callable

import torch

from ._convert import Tensor, convert_to_tensor, tensors

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor", "matrix_rank", "norm",
    "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd",
]


def _float(x: Any) -> Tensor:
    x = convert_to_tensor(x)
    return x if x.is_floating_point() or x.is_complex() else x.float()


def _square(x: Tensor, op: str) -> Tensor:
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{op} takes (batches of) square matrices; received shape {tuple(x.shape)}.")
    return x


def cholesky(x: Any, upper: bool = False) -> Tensor:
    """The Cholesky factor of a symmetric positive-definite matrix (lower, or upper when ``upper``)."""
    x = _square(_float(x), "cholesky")
    factor, info = torch.linalg.cholesky_ex(x, upper=upper)
    if bool((info != 0).any()):
        raise ValueError("cholesky: the matrix is not positive definite.")
    return factor


def cholesky_inverse(x: Any, upper: bool = False) -> Tensor:
    """The inverse of ``A`` from its Cholesky factor ``x``."""
    return torch.cholesky_inverse(_square(_float(x), "cholesky_inverse"), upper=upper)


def det(x: Any) -> Tensor:
    """The determinant."""
    return torch.linalg.det(_square(_float(x), "det"))


def slogdet(x: Any) -> tuple[Tensor, Tensor]:
    """The sign and the log of the absolute value of the determinant."""
    sign, logabs = torch.linalg.slogdet(_square(_float(x), "slogdet"))
    return sign, logabs


def eig(x: Any) -> tuple[Tensor, Tensor]:
    """Eigenvalues and right eigenvectors of a general square matrix (complex)."""
    return tuple(torch.linalg.eig(_square(_float(x), "eig")))


def eigh(x: Any) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric (Hermitian) matrix."""
    return tuple(torch.linalg.eigh(_square(_float(x), "eigh")))


def inv(x: Any) -> Tensor:
    """The inverse."""
    return torch.linalg.inv(_square(_float(x), "inv"))


def lu_factor(x: Any) -> tuple[Tensor, Tensor]:
    """The packed LU factorization and the 0-based pivot indices (scipy's ``lu_factor``)."""
    lu, pivots = torch.linalg.lu_factor(_square(_float(x), "lu_factor"))
    return lu, pivots - 1


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The vector norm (``axis`` an int, or None for a 1-D ``x`` or all axes with ord None) or matrix norm (two
    axes, ord 'fro', 'nuc', inf, -inf, 1, -1, 2, -2), numpy's ``linalg.norm``."""
    x = _float(x)
    if axis is None:
        if ord is None:
            return torch.linalg.vector_norm(x, 2, keepdim=keepdims)
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"norm: ord={ord!r} is a matrix norm; pass two axes for it.")
        return torch.linalg.vector_norm(x, 2 if ord is None else ord, dim=axes, keepdim=keepdims)
    if len(axes) == 2:
        return torch.linalg.matrix_norm(x, "fro" if ord is None else ord, dim=axes, keepdim=keepdims)
    raise ValueError(f"norm takes one axis (vector norm) or two (matrix norm); received axis={axis!r}.")


def qr(x: Any, mode: str = "reduced") -> tuple[Tensor, Tensor]:
    """The QR factorization ``(q, r)``; mode 'reduced' or 'complete'."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr takes mode 'reduced' or 'complete'; received mode={mode!r}.")
    x = _float(x)
    if x.ndim < 2:
        raise ValueError(f"qr takes (batches of) matrices; received shape {tuple(x.shape)}.")
    q, r = torch.linalg.qr(x, mode=mode)
    return q, r


def _check_solve(a: Tensor, b: Tensor, op: str) -> None:
    _square(a, op)
    rows = b.shape[-2] if b.ndim == a.ndim else b.shape[-1]
    if rows != a.shape[-1]:
        raise ValueError(f"{op}: b {tuple(b.shape)} does not match a {tuple(a.shape)} (it needs {a.shape[-1]} rows).")


def solve(a: Any, b: Any) -> Tensor:
    """``x`` with ``a @ x = b``."""
    a, b = (_float(v) for v in tensors(a, b))
    _check_solve(a, b, "solve")
    return torch.linalg.solve(a, b.to(a.dtype))


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Tensor:
    """``x`` with ``a @ x = b`` for a triangular ``a`` (upper unless ``lower``)."""
    a, b = (_float(v) for v in tensors(a, b))
    _check_solve(a, b, "solve_triangular")
    vector = b.ndim == a.ndim - 1
    out = torch.linalg.solve_triangular(a, (b.unsqueeze(-1) if vector else b).to(a.dtype), upper=not lower)
    return out.squeeze(-1) if vector else out


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """The singular value decomposition ``(u, s, vh)`` (only ``s`` without ``compute_uv``)."""
    x = _float(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    u, s, vh = torch.linalg.svd(x, full_matrices=full_matrices)
    return u, s, vh


def lstsq(a: Any, b: Any, rcond: float | None = None) -> Tensor:
    """The least-squares solution of ``a @ x = b`` (via the pseudo-inverse, as numpy's ``lstsq``)."""
    a, b = (_float(v) for v in tensors(a, b))
    if a.ndim != 2:
        raise ValueError(f"lstsq takes a 2-D a; received shape {tuple(a.shape)}.")
    if rcond is None:
        rcond = torch.finfo(a.dtype).eps * max(a.shape)
    vector = b.ndim == 1
    out = torch.linalg.pinv(a, rtol=rcond) @ (b.unsqueeze(-1) if vector else b).to(a.dtype)
    return out.squeeze(-1) if vector else out


def matrix_rank(x: Any, tol: float | None = None) -> Tensor:
    """The number of singular values above ``tol`` (default: numpy's ``max(shape) * eps * s.max()``)."""
    x = _float(x)
    return torch.linalg.matrix_rank(x, atol=tol, rtol=None if tol is None else 0.0).int()


def pinv(x: Any, rcond: float = 1e-15) -> Tensor:
    """The Moore-Penrose pseudo-inverse (singular values below ``rcond * s.max()`` are dropped)."""
    return torch.linalg.pinv(_float(x), rtol=rcond)


def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> Any:
    """The forward-mode product of ``fun``'s Jacobian at ``primals`` with ``tangents``: ``(outputs, jvp)`` (and
    the auxiliary output when ``has_aux``)."""
    primals = tuple(convert_to_tensor(p) for p in primals)
    tangents = tuple(convert_to_tensor(t, p.dtype, device=p.device) for t, p in zip(tangents, primals))
    return torch.func.jvp(fun, primals, tangents, has_aux=has_aux)
