"""Arrays saved with ``numpy.savez``: x and y by key."""

from __future__ import annotations

import os
import zipfile
from typing import Sequence

import numpy as np

from ._containers import SequenceData
from ._files import FileFormatError, display_name
from ._labels import encode_labels


_PARTS = ("train", "test")


def _split_keys(part: str, keys: tuple[str, ...], labeled: bool) -> tuple[str, str | None] | None:
    """The ``(x, y)`` keys of ``part`` in a file that stores both splits, or None when it does not."""
    for x_key in (f"X_{part}", f"x_{part}"):  # tslearn's UCR cache, then Keras-style names
        if x_key in keys and (not labeled or f"y_{part}" in keys):
            return x_key, f"y_{part}" if labeled else None
    return None


def read_npz(path: str | os.PathLike, *, x_key: str = "x", y_key: str | None = "y", lengths_key: str | None = None,
             class_names: Sequence[str] | None = None, part: str | None = None) -> SequenceData:
    """Read ``(x, y)`` from a ``.npz`` archive (``numpy.savez``/``savez_compressed``) by key.

    ``x`` comes back exactly as stored (dtype and shape). ``y`` integer or float arrays come back as stored;
    string labels become int64 class ids 0..K-1, classes in sorted order or in the order of ``class_names``.
    ``y_key=None`` reads unlabeled data. ``lengths_key`` names an array of real lengths for padded x (default: the
    full length x.shape[1] for every sample). Pickled (object) arrays are refused: they could run code.
    Files that hold both splits are read one split at a time. ``part='train'`` or ``part='test'`` picks that
    split's pair when the file has it: ``X_train``/``y_train`` and ``X_test``/``y_test`` (the keys of tslearn's UCR
    cache), or Keras-style ``x_train``/``y_train``/``x_test``/``y_test``; a file without them is read by
    ``x_key``/``y_key`` as before. Without ``part``, name the keys: ``read_npz(path, x_key='X_train',
    y_key='y_train')``.
    """
    if part is not None and part not in _PARTS:
        raise ValueError(f"read_npz: part must be None, 'train' or 'test'; received {part!r}.")
    name = display_name(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except ValueError:  # numpy's last guess, a pickle, which allow_pickle=False refuses
        raise FileFormatError(name, None, "not a readable .npz archive: neither a zip archive of arrays nor a "
                                          ".npy array; write it with numpy.savez(path, x=x, y=y)") from None
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise FileFormatError(name, None, f"not a readable .npz archive ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise FileFormatError(name, None, "holds a single array (a .npy file), not a .npz archive of named arrays; "
                                          "save x and y with numpy.savez(path, x=x, y=y)")
    with archive:
        keys = tuple(archive.files)
        split = None if part is None else _split_keys(part, keys, y_key is not None)
        if split is not None:
            x_key, y_key = split
        elif part is not None and x_key not in keys:
            expected = f"'X_{part}' and 'y_{part}' (tslearn's UCR cache)" if y_key is not None else f"'X_{part}'"
            raise FileFormatError(name, None, f"has neither {expected} nor {x_key!r} (x_key) for the {part} split; "
                                              f"its arrays are {keys}. Save the splits with numpy.savez(path, "
                                              f"X_train=..., y_train=..., X_test=..., y_test=...)")

        def get(key: str, argument: str) -> np.ndarray:
            if key not in keys:
                raise FileFormatError(name, None, f"has no array {key!r} ({argument}={key!r}); its arrays are "
                                                  f"{keys}")
            try:
                return archive[key]
            except ValueError as error:  # object arrays with allow_pickle=False
                raise FileFormatError(name, None, f"array {key!r} cannot be read without pickle ({error}); "
                                                  f"store numbers or fixed-width strings") from None
            except (zipfile.BadZipFile, EOFError, OSError) as error:
                raise FileFormatError(name, None, f"array {key!r} is damaged ({error})") from None

        x = get(x_key, "x_key")
        y = None if y_key is None else get(y_key, "y_key")
        lengths = None if lengths_key is None else get(lengths_key, "lengths_key")
    if x.ndim < 2:
        raise FileFormatError(name, None, f"x ({x_key!r}) has shape {x.shape}; expected (samples, timesteps) or "
                                          f"(samples, timesteps, features)")
    found_names = None
    if y is not None:
        if len(y) != len(x):
            raise FileFormatError(name, None, f"x ({x_key!r}) has {len(x)} samples but y ({y_key!r}) has {len(y)}")
        if y.dtype.kind in "US":
            labels = [str(label) for label in y.astype(str)]
            y, found_names = encode_labels(labels, [None] * len(labels), name, class_names)
        elif class_names is not None:
            raise ValueError(f"read_npz: class_names applies to string labels; {name} stores y as {y.dtype}.")
    if lengths is None:
        lengths = np.full(len(x), x.shape[1], dtype=np.int64)
    else:
        lengths = lengths.astype(np.int64)
        if lengths.shape != (len(x),) or lengths.min(initial=1) < 1 or lengths.max(initial=0) > x.shape[1]:
            raise FileFormatError(name, None, f"lengths ({lengths_key!r}) must be {len(x)} values in 1.."
                                              f"{x.shape[1]}; found shape {lengths.shape}")
    return SequenceData(x, y, lengths=lengths, class_names=found_names, name=os.path.basename(name), source=name)
