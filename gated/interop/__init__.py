"""Moving models between Keras 3 and gated: ``from_keras``, ``load_keras_weights``, ``to_keras``.

Importing reads ``.keras`` / ``.weights.h5`` files without keras (h5py is needed for the weights:
``pip install 'gated[keras-import]'``); ``to_keras`` needs keras itself.
"""

from ._keras import from_keras, load_keras_weights
from ._to_keras import to_keras

__all__ = ["from_keras", "load_keras_weights", "to_keras"]
