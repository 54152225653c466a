"""BasicMotions (UEA): a smart watch's 3D accelerometer and 3D gyroscope at 10 Hz for 10 s; which activity?

Multivariate, 6 channels, 100 timesteps, 4 classes; official split 40 train / 40 test (10 per class in each).
Deep models reach accuracy 1.0. Source and citation: ``data/BasicMotions/SOURCE.txt`` in this package.
"""

from __future__ import annotations

from ._resources import load_classification

#: Class k's label as the file's @classLabel header lists them.
class_names = ("Standing", "Running", "Walking", "Badminton")


def load_data():
    """``(x_train, y_train), (x_test, y_test)`` with the official UEA split.

    x: float32 (40, 100, 6) (samples, timesteps, channels: the file's dimensions in order); y: int64 class ids
    0..3 in the header's order, ``class_names[k]`` the activity. Each pair is a ``gated.data.SequenceData`` tuple
    that also carries ``class_names`` and ``lengths``.
    """
    return load_classification("BasicMotions")
