"""Turning drawn columns into bytes: CSV quoting, encoding and the output stream."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

Array = np.ndarray


def quote(value: str, delimiter: str) -> str:
    """RFC 4180 minimal quoting."""
    if delimiter in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def encoded(texts: list[str], encoding: str) -> Array:
    """Object array of the texts encoded once (tables are encoded up front, never per line)."""
    out = np.empty(len(texts), dtype=object)
    out[:] = [t.encode(encoding) for t in texts]
    return out


def ascii_pieces(texts: list[str]) -> Array:
    """Encode many short ASCII strings at once (one join, one encode, one split)."""
    out = np.empty(len(texts), dtype=object)
    if texts:
        out[:] = "\n".join(texts).encode("ascii").split(b"\n")
    return out


def assemble(columns: list[Array]) -> bytes:
    """Interleave per-line byte pieces column by column and join them.

    ``bytes.join`` keeps a buffer descriptor per item while it runs, so the
    pieces are joined in blocks of rows to keep that overhead small.
    """
    grid = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, column in enumerate(columns):
        grid[:, j] = column
    pieces = grid.ravel().tolist()
    step = 4096 * len(columns)
    return b"".join([b"".join(pieces[i : i + step]) for i in range(0, len(pieces), step)])


@contextmanager
def open_output(path: Path) -> Iterator[BinaryIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw:
        if path.name.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz:
                yield gz  # type: ignore[misc]
        else:
            yield raw
