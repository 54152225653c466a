"""Small and fast inference: streaming one timestep at a time, and int8 dynamic quantization for CPU.

``Streamer(model)`` runs a trained model online (``step(x_t)``, states carried between calls);
``quantize(model)`` gives an inference-only copy with int8 weights (``predict(x)``). See docs/DEPLOYMENT.md.
"""

from ._quantize import InferenceModel, quantize
from ._streaming import KernelChoice, Streamer

__all__ = ["InferenceModel", "KernelChoice", "Streamer", "quantize"]
