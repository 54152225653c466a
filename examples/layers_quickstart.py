"""A tour of gated's recurrent layers: Keras's arguments, Keras's weights, torch's kernels.

Run: python examples/layers_quickstart.py
"""

import numpy as np
import torch

from gated.layers import GRU, LSTM, Bidirectional, Embedding

rng = np.random.default_rng(0)

# A GRU exactly as in Keras: 128 units over univariate sequences of any length.
gru = GRU(128, input_shape=(None, 1), return_sequences=True)
x = rng.normal(size=(32, 10, 1)).astype("float32")
y = gru(x)
print(f"GRU(128) on {x.shape} -> {tuple(y.shape)}; parameters {gru.count_params():,} (Keras: 50,304)")
print(f"  path: {gru.last_path}")

# Variable-length token sequences, left-padded as keras.utils.pad_sequences does by default.
ids = np.array([[0, 0, 5, 3, 9], [0, 7, 1, 4, 2], [8, 6, 2, 2, 1]])
embed = Embedding(10, 8, mask_zero=True)
encoder = Bidirectional(LSTM(16, return_state=True))
output, h_fwd, c_fwd, h_bwd, c_bwd = encoder(embed(ids))
print(f"Bidirectional(LSTM(16)) over a left-padded batch -> {tuple(output.shape)}")
print(f"  paths: {[str(p) for p in encoder.last_path]}")

# Weights move between Keras and torch layouts unchanged.
reference = torch.nn.GRU(1, 128, batch_first=True)
imported = GRU.from_torch(reference, return_sequences=True)
with torch.no_grad():
    gap = (imported(x) - reference(torch.as_tensor(x))[0]).abs().max().item()
print(f"GRU.from_torch(nn.GRU) matches torch within {gap:.1e}; Keras-layout kernel {imported.get_weights()[0].shape}")
