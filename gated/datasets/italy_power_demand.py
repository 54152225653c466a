"""ItalyPowerDemand (UCR): 24 hourly electricity-demand values per day in Italy; is the day from October to March?

Univariate, 24 timesteps, 2 classes; official split 67 train / 1029 test. Published accuracies (UCR archive):
1-NN Euclidean 0.9553, 1-NN DTW 0.9504, FCN 0.9610, ResNet 0.9630. Source and citation: ``data/ItalyPowerDemand/
SOURCE.txt`` in this package (Dau et al. (2018), "The UCR Time Series Archive").
"""

from __future__ import annotations

from ._resources import load_classification

#: Class k's label as written in the file: '1' (October to March), '2' (April to September).
class_names = ("1", "2")


def load_data():
    """``(x_train, y_train), (x_test, y_test)`` with the official UCR split.

    x: float32 (N, 24, 1) (samples, timesteps, features); y: int64 class ids 0..1, ``class_names[k]`` the file's
    label. N = 67 for train, 1029 for test. Each pair is a ``gated.data.SequenceData`` tuple that also carries
    ``class_names`` and ``lengths``.
    """
    return load_classification("ItalyPowerDemand")
