"""JapaneseVowels (UEA, from UCI): 9 male speakers saying /ae/; which speaker?

Multivariate (12 LPC cepstrum coefficients per frame), variable length 7 to 29 frames, 9 classes; official split
270 train (30 per speaker) / 370 test. Published accuracies: FCN 0.993, ResNet 0.9916.
Source and citation: ``data/JapaneseVowels/SOURCE.txt`` in this package.

Padding: ``load_data()`` pads every utterance at the END ('post') with 0.0 up to ``maxlen`` = 29 frames (the
longest in either split), so train and test share one shape. No real frame of this data is all zeros, so
``gated.layers.Masking(mask_value=0.0)`` as the first layer skips exactly the padding; ``data.lengths`` gives the
real lengths too (e.g. for a boolean mask ``np.arange(29) < lengths[:, None]``).
"""

from __future__ import annotations

from ._resources import load_classification

#: Class k's label as written in the file: the speaker number '1'..'9'.
class_names = tuple(str(k) for k in range(1, 10))

#: The longest utterance in either split; ``load_data()`` pads both splits to this many frames.
maxlen = 29


def load_data(*, padded: bool = True):
    """``(x_train, y_train), (x_test, y_test)`` with the official split.

    ``padded=True``: x is float32 (N, 29, 12), utterances padded at the end with 0.0 (see the module docstring
    for masking). ``padded=False``: x is a list of N float32 arrays (T_i, 12). y: int64 speaker ids 0..8
    (``class_names[k]`` is the file's label). N = 270 for train, 370 for test. Each pair is a
    ``gated.data.SequenceData`` tuple that also carries ``lengths`` (N,) and ``class_names``::

        train, test = japanese_vowels.load_data()
        x_train, y_train = train
        train.lengths      # real number of frames of each utterance
    """
    return load_classification("JapaneseVowels", padded=padded, maxlen=maxlen if padded else None)
