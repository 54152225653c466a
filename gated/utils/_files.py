"""``get_file`` with Keras's arguments, for files already on this machine: gated never downloads.

A Keras program that calls ``get_file(fname, origin=url)`` keeps working when the file is where Keras would
have cached it (``$KERAS_HOME`` or ``~/.keras``, then ``cache_subdir``, then ``fname``), or when ``origin`` is a
local ``file://`` path or a plain existing path. Anything else raises an error that says where to put the file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.parse
from typing import Any


def _cache_root(cache_dir: Any) -> str:
    if cache_dir is not None:
        return os.path.expanduser(os.fspath(cache_dir))
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def _local_origin(origin: str) -> str | None:
    """The path an origin names on this machine (``file://...`` or a plain path), or None for a remote URL."""
    parsed = urllib.parse.urlparse(origin)
    if parsed.scheme == "file":
        return urllib.parse.unquote(parsed.netloc + parsed.path)
    if not parsed.scheme:
        return os.path.expanduser(origin)
    return None


def file_digest(path: str, algorithm: str = "sha256") -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def _check_hash(path: str, file_hash: str | None, hash_algorithm: str) -> None:
    if not file_hash:
        return
    algorithm = hash_algorithm.lower()
    if algorithm == "auto":
        algorithm = "sha256" if len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5'; received {hash_algorithm!r}.")
    actual = file_digest(path, algorithm)
    if actual != file_hash.lower():
        raise ValueError(f"get_file: {path} has {algorithm} {actual}, not the expected {file_hash}. The file is "
                         "damaged or a different version: replace it with the right one, or drop file_hash.")


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False, md5_hash: str | None = None,
             file_hash: str | None = None, cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: str = "auto", cache_dir: Any = None,
             force_download: bool = False) -> str:
    """The local path of ``fname``: the cached copy Keras would use, or the local file ``origin`` names.

    ``file_hash`` (or ``md5_hash``) is checked when given. With ``extract`` (or ``untar``) an archive is unpacked
    once into ``<path>_extracted`` (``archive_format``: 'auto', 'tar', 'zip' or a list of them) and that folder is
    returned. gated does not download: a remote ``origin`` that is not cached raises, saying where to put the file.
    """
    if origin is None:
        raise ValueError('get_file needs origin= (where the file comes from: a URL, or "file:///path/to/file" for '
                         "a local file).")
    if fname is None:
        fname = os.path.basename(urllib.parse.urlparse(origin).path)
        if not fname:
            raise ValueError(f"get_file cannot tell a file name from origin={origin!r}; pass fname=.")
    fname = os.fspath(fname)
    datadir = os.path.join(_cache_root(cache_dir), cache_subdir)
    if untar:
        extract = True
        fname = fname if fname.endswith((".tar.gz", ".tgz", ".tar")) else fname + ".tar.gz"
    cached = fname if os.path.isabs(fname) else os.path.join(datadir, fname)
    local = _local_origin(origin)
    if local is not None and os.path.isfile(local):
        path = local
    elif os.path.isfile(cached) and not force_download:
        path = cached
    else:
        where = "force_download=True asks for a fresh download, and " if force_download else ""
        raise FileNotFoundError(
            f"get_file: gated does not download files ({where}{origin!r} is not on this machine). Download it "
            f"yourself and either save it as {cached} (where Keras caches it; cache_dir= and cache_subdir= change "
            f'the folder) or pass origin="file:///path/to/{os.path.basename(fname)}".'
        )
    _check_hash(path, file_hash or md5_hash, "md5" if md5_hash and not file_hash else hash_algorithm)
    if not extract:
        return path
    target = (cached if path == cached else os.path.join(datadir, os.path.basename(path))) + "_extracted"
    if not os.path.isdir(target):
        formats = {"auto": ["tar", "zip"], "tar": ["tar"], "zip": ["zip"]}
        wanted = formats.get(archive_format, archive_format) if isinstance(archive_format, str) else archive_format
        if archive_format is None or not wanted:
            return path
        os.makedirs(target, exist_ok=True)
        for kind in wanted:
            try:
                if kind == "zip":
                    shutil.unpack_archive(path, target, format="zip")
                else:  # members that would land outside the folder are refused
                    shutil.unpack_archive(path, target, format="tar", filter="data")
                break
            except (shutil.ReadError, ValueError):
                continue
        else:
            shutil.rmtree(target, ignore_errors=True)
            raise ValueError(f"get_file: {path} is not a {' or '.join(wanted)} archive, so extract=True cannot "
                             "unpack it. Pass extract=False for the file itself, or archive_format= its format.")
    return target
