"""Real datasets shipped inside the package, Keras style: ``(x_train, y_train), (x_test, y_test) = load_data()``.

Classification (official train/test splits; y holds int64 class ids 0..K-1, the module's ``class_names[k]`` is
class k's label in the file):

- ``italy_power_demand``: univariate, 24 steps, 2 classes, 67 / 1029.
- ``japanese_vowels``: 12 channels, variable length 7..29 (padded at the end with 0.0; ``lengths`` given), 9
  classes, 270 / 370.
- ``basic_motions``: 6 channels, 100 steps, 4 classes, 40 / 40.

Forecasting (``load_data()`` -> ``(timestamps, values)``): ``sunspots`` (yearly, 1700..2008) and ``co2``
(weekly Mauna Loa CO2, 1958..2001, missing weeks as NaN). Many series: ``classic_panel`` (``load_data()`` ->
``{series_id: (timestamps, values)}``, 23 classic monthly, quarterly and yearly series).

Sequence to sequence: ``cmudict`` (word -> pronunciations, with a fixed md5 split by word).

Every file's origin, checksum and licence is in ``gated/datasets/data/<name>/SOURCE.txt``.
"""

from . import basic_motions, classic_panel, cmudict, co2, italy_power_demand, japanese_vowels, sunspots

__all__ = ["basic_motions", "classic_panel", "cmudict", "co2", "italy_power_demand", "japanese_vowels", "sunspots"]
