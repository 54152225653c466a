"""Elementwise ops with Keras's names and dtype rules: arithmetic, comparisons, logic, bits and unary math.

Inputs are converted by ``convert_to_tensor`` (python scalars become 0-d tensors, which torch promotes as Keras's
weak types: ``int32 array + 1.5`` is float32, ``float16 array + 2`` stays float16). Ops that Keras computes in
floating point (``exp``, ``arctan2``, ``divide_no_nan``, ...) give float32 for integer and boolean inputs.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ._convert import Tensor, convert_to_tensor, tensors
from ._dtypes import promote, standardize_dtype, to_torch

_SMALL_INTS = ("int8", "int16", "int32", "uint8", "uint16", "uint32")


def _floatx() -> torch.dtype:
    return to_torch(None)


def _to_float(x: Tensor) -> Tensor:
    return x if x.is_floating_point() or x.is_complex() else x.to(_floatx())


def _unary(name: str, fn: Callable[[Tensor], Tensor], doc: str, floats: bool = False) -> Callable[[Any], Tensor]:
    """An op ``name(x)`` that converts ``x`` (to floatx first when it is integer or boolean and ``floats``)."""

    def op(x: Any) -> Tensor:
        x = convert_to_tensor(x)
        return fn(_to_float(x) if floats else x)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(name: str, fn: Callable[[Tensor, Tensor], Tensor], doc: str) -> Callable[[Any, Any], Tensor]:
    """An op ``name(x1, x2)`` on the converted, broadcast inputs with torch's promotion."""

    def op(x1: Any, x2: Any) -> Tensor:
        return fn(*tensors(x1, x2))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _scalar_dtype(x: Any) -> Any:
    return x.dtype if isinstance(x, Tensor) else type(x) if isinstance(x, (bool, int, float)) else \
        convert_to_tensor(x).dtype


def _promoted(x1: Any, x2: Any, *extra: Any) -> tuple[Tensor, Tensor, str]:
    """Both inputs cast to Keras's ``result_type`` of them (python scalars weak) and ``extra``."""
    dtype = promote(_scalar_dtype(x1), _scalar_dtype(x2), *extra)
    a, b = tensors(x1, x2)
    return a.to(to_torch(dtype)), b.to(to_torch(dtype)), dtype


# ------------------------------------------------------------------------------------------------ arithmetic
add = _binary("add", torch.add, "``x1 + x2``, broadcast.")
multiply = _binary("multiply", torch.multiply, "``x1 * x2``, broadcast.")
power = _binary("power", torch.pow, "``x1 ** x2``, broadcast.")
logical_and = _binary("logical_and", torch.logical_and, "Elementwise logical and (boolean result).")
logical_or = _binary("logical_or", torch.logical_or, "Elementwise logical or (boolean result).")
logical_xor = _binary("logical_xor", torch.logical_xor, "Elementwise logical xor (boolean result).")
equal = _binary("equal", torch.eq, "``x1 == x2`` (boolean).")
not_equal = _binary("not_equal", torch.ne, "``x1 != x2`` (boolean).")
greater = _binary("greater", torch.gt, "``x1 > x2`` (boolean).")
greater_equal = _binary("greater_equal", torch.ge, "``x1 >= x2`` (boolean).")
less = _binary("less", torch.lt, "``x1 < x2`` (boolean).")
less_equal = _binary("less_equal", torch.le, "``x1 <= x2`` (boolean).")
gcd = _binary("gcd", torch.gcd, "Greatest common divisor of integer inputs.")
lcm = _binary("lcm", torch.lcm, "Least common multiple of integer inputs.")
kron = _binary("kron", torch.kron, "Kronecker product.")


def subtract(x1: Any, x2: Any) -> Tensor:
    """``x1 - x2``, broadcast (a boolean side takes the other side's dtype)."""
    x1, x2 = tensors(x1, x2)
    if x1.dtype == torch.bool:
        x1 = x1.to(x2.dtype)
    if x2.dtype == torch.bool:
        x2 = x2.to(x1.dtype)
    return torch.subtract(x1, x2)


def divide(x1: Any, x2: Any) -> Tensor:
    """True division ``x1 / x2`` (integers divide to floatx)."""
    return torch.divide(*tensors(x1, x2))


true_divide = divide


def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """``x1 / x2`` with 0 where ``x2 == 0``, in floating point."""
    x1, x2, _ = _promoted(x1, x2, float)
    zero = x2 == 0
    return torch.where(zero, torch.zeros((), dtype=x1.dtype, device=x1.device),
                       x1 / torch.where(zero, torch.ones_like(x2), x2))


def floor_divide(x1: Any, x2: Any) -> Tensor:
    """``x1 // x2`` (rounded towards minus infinity), in Keras's promoted dtype."""
    dtype = promote(_scalar_dtype(x1), _scalar_dtype(x2))
    return torch.floor_divide(*tensors(x1, x2)).to(to_torch(dtype))


def _int_if_bool(x1: Any, x2: Any) -> tuple[Tensor, Tensor]:
    x1, x2 = tensors(x1, x2)
    if x1.dtype == torch.bool and x2.dtype == torch.bool:
        return x1.int(), x2.int()
    return x1, x2


def mod(x1: Any, x2: Any) -> Tensor:
    """``x1 % x2`` with the sign of ``x2`` (numpy's ``mod``)."""
    return torch.remainder(*_int_if_bool(x1, x2))


def fmod(x1: Any, x2: Any) -> Tensor:
    """The remainder with the sign of ``x1`` (C's ``fmod``)."""
    return torch.fmod(*_int_if_bool(x1, x2))


def _promoted_binary(name: str, fn: Callable[[Tensor, Tensor], Tensor], doc: str, *extra: Any):
    def op(x1: Any, x2: Any) -> Tensor:
        a, b, _ = _promoted(x1, x2, *extra)
        return fn(a, b)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


maximum = _promoted_binary("maximum", torch.maximum, "Elementwise maximum (NaN wins), in Keras's promoted dtype.")
minimum = _promoted_binary("minimum", torch.minimum, "Elementwise minimum (NaN wins), in Keras's promoted dtype.")
fmax = _promoted_binary("fmax", torch.fmax, "Elementwise maximum that ignores NaN.")
fmin = _promoted_binary("fmin", torch.fmin, "Elementwise minimum that ignores NaN.")
arctan2 = _promoted_binary("arctan2", torch.arctan2, "The angle of the point (x2, x1), in floating point.", float)
logaddexp = _promoted_binary("logaddexp", torch.logaddexp, "``log(exp(x1) + exp(x2))`` without overflow.", float)
logaddexp2 = _promoted_binary("logaddexp2", torch.logaddexp2, "``log2(2**x1 + 2**x2)`` without overflow.", float)


def _float_for(dtype: str) -> str:
    """Keras's float dtype for ``hypot``/``heaviside`` results: 32-bit ints give floatx, int64 float64."""
    if dtype in _SMALL_INTS or dtype == "bool":
        return standardize_dtype(None)
    return "float64" if dtype == "int64" else dtype


def hypot(x1: Any, x2: Any) -> Tensor:
    """``sqrt(x1**2 + x2**2)`` without overflow."""
    x1, x2 = tensors(x1, x2)
    dtype = to_torch(_float_for(promote(x1.dtype, x2.dtype)))
    return torch.hypot(x1.to(dtype), x2.to(dtype))


def heaviside(x1: Any, x2: Any) -> Tensor:
    """0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``."""
    x1, x2 = tensors(x1, x2)
    dtype = to_torch(_float_for(promote(x1.dtype, x2.dtype)))
    return torch.heaviside(x1.to(dtype), x2.to(dtype))


def ldexp(x1: Any, x2: Any) -> Tensor:
    """``x1 * 2**x2`` for an integer exponent ``x2``."""
    x1, x2 = tensors(x1, x2)
    if x2.is_floating_point() or x2.is_complex() or x2.dtype == torch.bool:
        raise TypeError(f"ldexp takes an integer exponent x2; received dtype {standardize_dtype(x2.dtype)}. "
                        "Cast it with ops.cast(x2, 'int32').")
    dtype = promote(x1.dtype, x2.dtype, float)
    return torch.ldexp(x1, x2).to(to_torch(dtype))


def nextafter(x1: Any, x2: Any) -> Tensor:
    """The next representable float after ``x1`` towards ``x2`` (computed in float64, as Keras does)."""
    x1, x2 = tensors(x1, x2)
    dtype = promote(x1.dtype, x2.dtype, float)
    return torch.nextafter(x1.double(), x2.double()).to(to_torch(dtype))


# ------------------------------------------------------------------------------------------------ bits
bitwise_and = _binary("bitwise_and", torch.bitwise_and, "Elementwise bitwise and of integer or boolean inputs.")
bitwise_or = _binary("bitwise_or", torch.bitwise_or, "Elementwise bitwise or of integer or boolean inputs.")
bitwise_xor = _binary("bitwise_xor", torch.bitwise_xor, "Elementwise bitwise xor of integer or boolean inputs.")
bitwise_invert = _unary("bitwise_invert", torch.bitwise_not, "Elementwise bitwise not (``~x``).")
bitwise_not = bitwise_invert


def _shift_amount(x: Tensor, y: Any) -> Any:
    return y if isinstance(y, int) else convert_to_tensor(y, device=x.device)


def bitwise_left_shift(x: Any, y: Any) -> Tensor:
    """``x << y``."""
    x = convert_to_tensor(x)
    return torch.bitwise_left_shift(x, _shift_amount(x, y))


def bitwise_right_shift(x: Any, y: Any) -> Tensor:
    """``x >> y`` (arithmetic for signed integers)."""
    x = convert_to_tensor(x)
    return torch.bitwise_right_shift(x, _shift_amount(x, y))


left_shift = bitwise_left_shift
right_shift = bitwise_right_shift

# ------------------------------------------------------------------------------------------------ unary
negative = _unary("negative", torch.negative, "``-x``.")
sign = _unary("sign", torch.sign, "-1, 0 or 1 by the sign of each element.")
signbit = _unary("signbit", torch.signbit, "Whether the sign bit is set (true for -0.0).")
reciprocal = _unary("reciprocal", torch.reciprocal, "``1 / x``.")
sin = _unary("sin", torch.sin, "Sine.")
cos = _unary("cos", torch.cos, "Cosine.")
tan = _unary("tan", torch.tan, "Tangent.")
sinh = _unary("sinh", torch.sinh, "Hyperbolic sine.")
cosh = _unary("cosh", torch.cosh, "Hyperbolic cosine.")
tanh = _unary("tanh", torch.tanh, "Hyperbolic tangent.")
arcsin = _unary("arcsin", torch.arcsin, "Inverse sine.")
arccos = _unary("arccos", torch.arccos, "Inverse cosine.")
arctan = _unary("arctan", torch.arctan, "Inverse tangent.")
arcsinh = _unary("arcsinh", torch.arcsinh, "Inverse hyperbolic sine.")
arccosh = _unary("arccosh", torch.arccosh, "Inverse hyperbolic cosine.")
arctanh = _unary("arctanh", torch.arctanh, "Inverse hyperbolic tangent.")
exp = _unary("exp", torch.exp, "``e ** x`` (integers give floatx).", floats=True)
exp2 = _unary("exp2", torch.exp2, "``2 ** x`` (integers give floatx).", floats=True)
expm1 = _unary("expm1", torch.expm1, "``exp(x) - 1``, accurate near 0.", floats=True)
log = _unary("log", torch.log, "Natural logarithm.")
log2 = _unary("log2", torch.log2, "Base-2 logarithm.")
log10 = _unary("log10", torch.log10, "Base-10 logarithm.")
log1p = _unary("log1p", torch.log1p, "``log(1 + x)``, accurate near 0.")
sqrt = _unary("sqrt", torch.sqrt, "Square root (integers give floatx).", floats=True)
sinc = _unary("sinc", torch.sinc, "``sin(pi x) / (pi x)``.")
isfinite = _unary("isfinite", torch.isfinite, "Whether each element is finite (boolean).")
isinf = _unary("isinf", torch.isinf, "Whether each element is infinite (boolean).")
isnan = _unary("isnan", torch.isnan, "Whether each element is NaN (boolean).")
isneginf = _unary("isneginf", torch.isneginf, "Whether each element is minus infinity (boolean).")
isposinf = _unary("isposinf", torch.isposinf, "Whether each element is plus infinity (boolean).")
isreal = _unary("isreal", torch.isreal, "Whether each element has no imaginary part (boolean).")
logical_not = _unary("logical_not", torch.logical_not, "Elementwise logical not (boolean).")
fabs = _unary("fabs", torch.abs, "Absolute value in floating point (integers give floatx).", floats=True)


def absolute(x: Any) -> Tensor:
    """``|x|`` (booleans unchanged)."""
    x = convert_to_tensor(x)
    return x if x.dtype == torch.bool else torch.abs(x)


abs = absolute


def square(x: Any) -> Tensor:
    """``x * x`` (booleans as int32)."""
    x = convert_to_tensor(x)
    return torch.square(x.int() if x.dtype == torch.bool else x)


def _rounding(name: str, fn: Callable[[Tensor], Tensor], doc: str):
    def op(x: Any) -> Tensor:
        x = convert_to_tensor(x)
        dtype = standardize_dtype(None) if x.dtype == torch.int64 else promote(x.dtype, float)
        if x.dtype == torch.bool:
            x = x.to(torch.uint8)
        return fn(x.to(to_torch(dtype)))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


floor = _rounding("floor", torch.floor, "Round down (integers give floats, as in Keras).")
ceil = _rounding("ceil", torch.ceil, "Round up (integers give floats, as in Keras).")


def trunc(x: Any) -> Tensor:
    """Round towards zero (dtype kept)."""
    x = convert_to_tensor(x)
    return x if x.dtype == torch.bool else torch.trunc(x)


def round(x: Any, decimals: int = 0) -> Tensor:
    """Round half to even at ``decimals`` digits (integers keep their dtype)."""
    x = convert_to_tensor(x)
    if x.is_floating_point():
        return torch.round(x, decimals=decimals)
    return torch.round(x.to(_floatx()), decimals=decimals).to(x.dtype)


def cbrt(x: Any) -> Tensor:
    """The real cube root."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.int()
    elif x.dtype == torch.int64:
        x = x.double()
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


def _int64_to_float64(name: str, fn: Callable[[Tensor], Tensor], doc: str):
    def op(x: Any) -> Tensor:
        x = convert_to_tensor(x)
        out = fn(x)
        return out.double() if x.dtype == torch.int64 else out

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


deg2rad = _int64_to_float64("deg2rad", torch.deg2rad, "Degrees to radians.")
rad2deg = _int64_to_float64("rad2deg", torch.rad2deg, "Radians to degrees.")


def i0(x: Any) -> Tensor:
    """The modified Bessel function of the first kind, order 0."""
    x = convert_to_tensor(x)
    name = standardize_dtype(x.dtype)
    dtype = "float64" if name in ("int64", "float64") else name if name in ("float16", "bfloat16") else \
        standardize_dtype(None)
    return torch.i0(x.to(to_torch(dtype)))


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """``x`` limited to ``[x_min, x_max]`` (booleans as int32)."""
    x = convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.int()
    low, high = (convert_to_tensor(v, device=x.device) for v in (x_min, x_max))
    return torch.clip(x, low, high)


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """``x`` with NaN and infinities replaced (by default 0 and the dtype's largest finite values)."""
    return torch.nan_to_num(convert_to_tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def isclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Elementwise ``|x1 - x2| <= atol + rtol * |x2|`` (exact equality for integers)."""
    x1, x2 = tensors(x1, x2)
    dtype = to_torch(promote(x1.dtype, x2.dtype))
    x1, x2 = x1.to(dtype), x2.to(dtype)
    if dtype.is_floating_point:
        return torch.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return torch.eq(x1, x2)


def allclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Whether ``isclose`` holds everywhere (a boolean scalar tensor)."""
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def conjugate(x: Any) -> Tensor:
    """The complex conjugate."""
    return torch.conj(convert_to_tensor(x)).resolve_conj()


conj = conjugate


def real(x: Any) -> Tensor:
    """The real part."""
    x = convert_to_tensor(x)
    return torch.real(x)


def imag(x: Any) -> Tensor:
    """The imaginary part (zeros for real inputs)."""
    x = convert_to_tensor(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def angle(x: Any) -> Tensor:
    """The argument of complex numbers (0 or pi for reals)."""
    return torch.angle(convert_to_tensor(x))


def where(condition: Any, x1: Any = None, x2: Any = None) -> Tensor:
    """``x1`` where ``condition`` holds, else ``x2``; with only ``condition``, the indices where it holds."""
    if (x1 is None) != (x2 is None):
        raise ValueError("where needs both x1 and x2, or neither (then it returns the indices where condition "
                         f"holds); received x1={'None' if x1 is None else '...'}, "
                         f"x2={'None' if x2 is None else '...'}.")
    if x1 is None:
        return torch.stack(torch.where(convert_to_tensor(condition).bool()), dim=0)
    condition, x1, x2 = tensors(condition, x1, x2)
    return torch.where(condition.bool(), x1, x2)


def select(condlist: Any, choicelist: Any, default: Any = 0) -> Tensor:
    """For each element, the choice of the first condition that holds (else ``default``)."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select needs one choice per condition; received {len(condlist)} conditions and "
                         f"{len(choicelist)} choices.")
    out = convert_to_tensor(default)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        condition, choice, out = tensors(condition, choice, out)
        out = torch.where(condition.bool(), choice, out)
    return out


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of ``x1`` occurs in ``x2`` (boolean, the shape of ``x1``)."""
    x1, x2 = tensors(x1, x2)
    if x1.dtype == torch.bool or x2.dtype == torch.bool:
        x1, x2 = x1.int(), x2.int()
    dtype = torch.promote_types(x1.dtype, x2.dtype)
    return torch.isin(x1.to(dtype), x2.to(dtype), assume_unique=assume_unique, invert=invert)
