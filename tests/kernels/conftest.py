"""The kernel tests share the layer tests' fixtures: one torch thread, and spies on the compiled and fused kernels."""

from ..layers.conftest import _one_thread, kernel_spy, vf_calls  # noqa: F401 - fixtures, registered by import
