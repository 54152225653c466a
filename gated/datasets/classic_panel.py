"""23 classic real series for forecasting many series with one model: 11 monthly, 8 quarterly and 4 yearly, 60 to
1080 values each (5559 in all), from R's datasets, MASS, boot and ggplot2 packages (via pydataset), pmdarima,
statsmodels and sktime.

Levels differ by orders of magnitude (J&J earnings per share near 1, Australian residents near 17,000), some series
are strongly seasonal, some trend only, one is intermittent counts: the kind of panel a global forecaster has to
handle. Source and licences: ``data/classic_panel/SOURCE.txt`` in this package.
"""

from __future__ import annotations

import functools

from ..data import read_panel
from ..data._panel import Panel
from ._resources import read_shipped


@functools.lru_cache(maxsize=None)
def _panel() -> Panel:
    return read_shipped("classic_panel", "panel.csv.xz", read_panel, id_column="series_id",
                        time_column="timestamp", value_column="value")


def load_data(frequency: str | None = None) -> dict:
    """``{series_id: (timestamps, values)}`` in file order: datetime64[D] period starts and float64 values.

    ``frequency``: 'monthly', 'quarterly' or 'yearly' keeps the series of that frequency only.
    """
    panel = _panel()
    known = sorted(set(panel.frequency))
    if frequency is not None and frequency not in known:
        raise ValueError(f"classic_panel holds {', '.join(known)} series; received frequency={frequency!r}.")
    return {name: (panel.timestamps[i].copy(), panel.values[i].copy()) for i, name in enumerate(panel.names)
            if frequency is None or panel.frequency[i] == frequency}
