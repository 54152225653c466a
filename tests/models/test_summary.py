"""``model.summary()``'s Keras arguments (positions, expand_nested, show_trainable, layer_range) against real Keras."""

from __future__ import annotations

import re

import pytest

import gated
from gated import layers as L


def _rows(text: str) -> list[list[str]]:
    """The cells of each table row (not the header), stripped."""
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in text.splitlines()
            if line.startswith("│")]


def _text(model, **kwargs) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, line_break=True: lines.append(line), **kwargs)
    return "\n".join(lines)


def _build(lib):
    """The same functional model in gated or Keras: a frozen GRU, Dropout, a nested Sequential."""
    inner = lib.Sequential([lib.layers.Dense(3, name="d1"), lib.layers.Dense(2, name="d2")], name="inner")
    x = lib.layers.Input((5, 3), name="series")
    y = inner(lib.layers.Dropout(0.1, name="drop")(lib.layers.GRU(4, name="gru")(x)))
    model = lib.Model(x, y, name="model")
    model.get_layer("gru").trainable = False
    return model


@pytest.mark.parametrize("kwargs", [
    {}, {"show_trainable": True}, {"expand_nested": True}, {"show_trainable": True, "expand_nested": True},
    {"layer_range": ["gru", "inner"]}, {"layer_range": ["g.*", "d.*"], "show_trainable": True},
])
def test_summary_rows_equal_keras(keras, kwargs):
    ours, theirs = _build(gated), _build(keras)
    expected = _rows(_text(theirs, **kwargs))
    found = _rows(_text(ours, **kwargs))
    if "show_trainable" in kwargs:
        # Keras's header cell is cut to 'Trai…' by its own width rule; compare the cells
        expected = [row[:3] + [row[3]] for row in expected]
    assert found == expected


def test_show_trainable_adds_the_column_and_marks_frozen_layers():
    model = _build(gated)
    text = _text(model, show_trainable=True)
    assert "Trainable" in text.splitlines()[2]
    flags = {row[0]: row[3] for row in _rows(text)}
    assert flags == {"series (InputLayer)": "-", "gru (GRU)": "N", "drop (Dropout)": "-", "inner (Sequential)": "Y"}
    assert "Trainable" not in _text(model).splitlines()[2]


def test_positions_place_the_column_borders_on_the_line():
    model = gated.Sequential([L.Input((5, 3)), L.GRU(4), L.Dense(2)])
    for positions, length in (([0.5, 0.8, 1.0], 60), ([30, 50, 70], None)):
        lines = _text(model, positions=positions, line_length=length).splitlines()
        top = lines[1]
        total = length or 70
        assert len(top) == total
        ends = [round(p * total) if length else p for p in positions]
        assert [i + 1 for i, ch in enumerate(top) if ch in "┳┓"] == ends


def test_bad_positions_and_layer_ranges_are_refused_with_what_was_received():
    model = gated.Sequential([L.Input((5, 3)), L.GRU(4, name="gru"), L.Dense(2, name="dense")])
    with pytest.raises(ValueError, match=r"positions=\.\.\.\) takes 3 increasing positive numbers.*\[0\.5, 1\.0\]"):
        model.summary(positions=[0.5, 1.0])
    with pytest.raises(ValueError, match=r"narrower than 3 characters"):
        model.summary(positions=[0.9, 0.5, 1.0], line_length=60)
    with pytest.raises(ValueError, match=r"no layer of model 'sequential.*' matches 'lstm'\. Its layers are "
                                         r"\['gru', 'dense'\]"):
        model.summary(layer_range=["lstm", "dense"])
    with pytest.raises(ValueError, match=r"the last layer \('gru'\) comes before the first \('dense'\)"):
        model.summary(layer_range=["dense", "gru"])
    with pytest.raises(ValueError, match=re.escape("takes a list of 2 layer names")):
        model.summary(layer_range="gru")
