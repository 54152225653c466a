"""``keras.ops`` on torch: ``from gated import ops`` gives Keras's ops with Keras's names, arguments, defaults
and dtype rules, computed with torch (gradients flow through every differentiable op).

The namespaces mirror Keras: ``ops.numpy`` (numpy's array API), ``ops.nn`` (activations, losses, convolutions,
CTC, attention), ``ops.linalg``, ``ops.image`` (resizing, colour spaces, warps), ``ops.math`` and ``ops.core``
(conversion and control flow); the top level holds them all but ``image``, as ``keras.ops`` does.
``result_type`` is Keras's type promotion.
"""

from . import core, image, linalg, math, nn, numpy
from ._dtypes import result_type, standardize_dtype
from .core import *  # noqa: F403 - the namespace re-exports its submodules, as keras.ops does
from .linalg import (cholesky, cholesky_inverse, det, eig, eigh, inv, jvp, lstsq, lu_factor, matrix_rank, norm,
                     pinv, qr, solve, solve_triangular, svd)
from .math import *  # noqa: F403
from .nn import *  # noqa: F403
from .numpy import *  # noqa: F403

__all__ = sorted(
    set(core.__all__) | set(math.__all__) | set(nn.__all__) | set(numpy.__all__)
    | {"cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor", "matrix_rank",
       "norm", "pinv", "qr", "solve", "solve_triangular", "svd", "result_type", "standardize_dtype", "core",
       "image", "linalg", "math", "nn", "numpy"}
)
