"""Opening an export: compression, encoding, delimiter, format, then records with line numbers.

Everything streams and nothing is held in memory. A new file is read once:
its SHA-256 is computed from the same bytes the load reads (``Hasher``); only a
file that may be a re-send (a landed file of the same size exists) is hashed
in a pass of its own before loading, so that a duplicate costs no load.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from loaders.errors import LoaderError
from loaders.formats import ALL_FORMATS, Format, describe_expected, file_phrase, kind_of, normalise_header

SNIFF_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t")
ENCODINGS = ("utf-8", "cp1251")
MAX_FIELD_CHARS = 1 << 20
_BAD_CHARS_RE = re.compile("[\x00\udc80-\udcff]")
# what reading a damaged .gz raises: cut short (EOFError), bad header or CRC
# (gzip.BadGzipFile, an OSError), bad deflate data (zlib.error)
DAMAGED_GZIP = (EOFError, OSError, zlib.error)

csv.field_size_limit(MAX_FIELD_CHARS)


class FileProblem(LoaderError):
    """A whole file cannot be used; nothing of it lands."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int  # bytes of content (after decompression)


@dataclass(frozen=True)
class Layout:
    fmt: Format
    encoding: str
    delimiter: str
    header: list[str]
    positions: list[int | None]  # header position of each format field (None: an optional one absent)
    kind: str = "csv"  # "csv" or "xlsx"
    header_line: int = 1  # the header's line (an XLSX sheet's row) number
    sheet: str | None = None  # XLSX: the sheet that holds the rows


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def open_bytes(path: Path) -> IO[bytes]:
    """The file's content, decompressed when it is gzip (recognised by its magic bytes)."""
    try:
        if _is_gzip(path):
            return gzip.open(path, "rb")
        return path.open("rb")
    except FileNotFoundError:
        raise FileProblem(path, None, "file not found") from None
    except IsADirectoryError:
        raise FileProblem(path, None, "is a directory, not a file") from None
    except PermissionError:
        raise FileProblem(path, None, "permission denied") from None


def _readable_gzip_prefix(path: Path) -> tuple[int, int]:
    """(bytes, complete lines) that decompress before the damage in a gzip file."""
    size = lines = 0
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(block: bytes) -> None:
        nonlocal size, lines, inflater
        while block:
            data = inflater.decompress(block)
            size += len(data)
            lines += data.count(b"\n")
            block = b""
            if inflater.eof:  # a file may hold several gzip members
                block = inflater.unused_data
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    with path.open("rb") as raw:
        while block := raw.read(1 << 16):
            saved = (inflater.copy(), size, lines)
            try:
                feed(block)
            except zlib.error:
                # once more byte by byte, to keep what decompresses before the damage
                inflater, size, lines = saved
                try:
                    for i in range(len(block)):
                        feed(block[i : i + 1])
                except zlib.error:
                    pass
                break
    return size, lines


def unreadable(path: Path, exc: BaseException) -> FileProblem:
    """The problem to report when reading the content failed part way (``exc``, one of DAMAGED_GZIP)."""
    if not _is_gzip(path):
        return FileProblem(path, None, f"cannot be read ({exc})")
    size, lines = _readable_gzip_prefix(path)
    detail = str(exc) or type(exc).__name__
    return FileProblem(path, lines + 1, f"compressed data is damaged or cut short after {size:,} bytes ({detail})")


def fingerprint(path: Path) -> Fingerprint:
    digest = hashlib.sha256()
    size = 0
    with open_bytes(path) as stream:
        try:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        except DAMAGED_GZIP as exc:
            raise unreadable(path, exc) from None
    return Fingerprint(digest.hexdigest(), size)


def content_size_hint(path: Path) -> int | None:
    """The content's size without reading it: the file size, or a .gz trailer's ISIZE (size mod 2**32).

    Only a hint (a .gz of several members records the last member's size):
    it decides whether to hash a file before loading it, never whether to skip it.
    """
    try:
        with path.open("rb") as raw:
            if raw.read(2) != b"\x1f\x8b":
                return path.stat().st_size
            raw.seek(-4, io.SEEK_END)
            return int.from_bytes(raw.read(4), "little")
    except OSError:
        return None


class Hasher:
    """SHA-256 and size of every byte read through ``wrap``; complete once a read hit the end."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self.size = 0
        self.complete = False

    def update(self, data: bytes) -> bytes:
        if data:
            self._digest.update(data)
            self.size += len(data)
        else:
            self.complete = True
        return data

    def wrap(self, stream: IO[bytes]) -> IO[bytes]:
        return _HashedStream(stream, self)

    def result(self) -> Fingerprint | None:
        return Fingerprint(self._digest.hexdigest(), self.size) if self.complete else None


class _HashedStream(io.BufferedIOBase):
    """A read-only binary stream that feeds what it reads to a Hasher (TextIOWrapper can read it)."""

    def __init__(self, inner: IO[bytes], hasher: Hasher) -> None:
        super().__init__()
        self._inner = inner
        self._hasher = hasher

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._hasher.update(self._inner.read(-1 if size is None else size))

    def read1(self, size: int = -1) -> bytes:
        return self._hasher.update(self._inner.read1(size))

    def close(self) -> None:
        self._inner.close()
        super().close()


def detect_encoding(sample: bytes, forced: str | None) -> str:
    if forced:
        try:
            codecs.lookup(forced)
        except LookupError:
            raise LoaderError(f"unknown encoding {forced!r}") from None
        return forced
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the end of the sample is still UTF-8
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    # Some lines are not UTF-8. cp1251 text next to never reads as UTF-8, so
    # when most lines with non-ASCII bytes do, it is a UTF-8 file with a few
    # foreign lines (those are quarantined), not a cp1251 file.
    utf8 = other = 0
    for line in sample.split(b"\n")[:-1]:  # the last line may be cut short
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            other += 1
    return "utf-8" if utf8 > other else "cp1251"


def _workbook_kind(path: Path, sample: bytes) -> str | None:
    """ "xlsx" or "xls" for a spreadsheet workbook (by its magic bytes, or an .xls name), else None."""
    from loaders.xlsx import OLE_MAGIC, ZIP_MAGIC

    if sample.startswith(ZIP_MAGIC):
        return "xlsx"
    if sample.startswith(OLE_MAGIC) or path.name.lower().endswith(".xls"):
        return "xls"
    return None


def detect_layout(
    path: Path,
    formats: tuple[Format, ...],
    *,
    forced_format: Format | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Layout:
    with open_bytes(path) as stream:
        try:
            sample = stream.read(SNIFF_BYTES)
        except DAMAGED_GZIP as exc:
            raise unreadable(path, exc) from None
    workbook = _workbook_kind(path, sample)
    if workbook is not None:
        from loaders import xlsx

        if workbook == "xls":
            raise xlsx.old_excel_problem(path)
        return xlsx.detect_layout(path, formats, forced_format=forced_format)
    if not sample.strip():
        raise FileProblem(path, 1, "the file is empty: no header, no rows")
    chosen_encoding = detect_encoding(sample, encoding)
    first_line = sample.split(b"\n", 1)[0].rstrip(b"\r")
    header_text = first_line.decode(chosen_encoding, errors="replace")
    if "\x00" in header_text or "\ufffd" in header_text:
        raise FileProblem(
            path,
            1,
            "the first line is not text in UTF-8 or cp1251 (binary data?); expected a CSV header. "
            + describe_expected(formats),
        )
    check_delimiter(delimiter)
    candidates = [forced_format] if forced_format else list(formats)
    for sep in [delimiter] if delimiter else list(DELIMITERS):
        layout = _match(header_text, sep, candidates, chosen_encoding)
        if layout is not None:
            return layout
    raise FileProblem(
        path, 1, header_problem(header_text, chosen_encoding, delimiter, candidates, forced=forced_format is not None)
    )


def check_delimiter(delimiter: str | None) -> None:
    """A delimiter given by the user must be one character that CSV can split on."""
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise LoaderError(
            f"delimiter {delimiter!r} is not one character: use ',', ';', 'tab' or another single character"
        )


def _split(header_text: str, sep: str) -> list[str]:
    return next(csv.reader([header_text], delimiter=sep), [])


def _match(header_text: str, sep: str, candidates: list[Format], encoding: str) -> Layout | None:
    header = _split(header_text, sep)
    names = [normalise_header(name) for name in header]
    if len(set(names)) != len(names):
        return None
    for fmt in candidates:
        positions = fmt.locate(names)
        if positions is not None:
            return Layout(fmt, encoding, sep, header, positions)
    return None


def _shown_delimiter(sep: str) -> str:
    return "tab" if sep == "\t" else sep


def header_problem(
    header_text: str, encoding: str, delimiter: str | None, candidates: list[Format], *, forced: bool = False
) -> str:
    """Why a header matches no format: the closest format's missing and unknown columns, and the way out.

    Names the delimiter and encoding the header was read with, and suggests the
    flag that makes it load when one does (another delimiter, another format,
    the other kind of export).
    """
    shown = header_text if len(header_text) <= 200 else header_text[:200] + "…"
    tried = [delimiter] if delimiter else list(DELIMITERS)
    # the closest (format, delimiter): fewest expected columns missing, then fewest unknown
    scored = []
    for sep in tried:
        header = [name for name in _split(header_text, sep)]
        names = [normalise_header(name) for name in header]
        for fmt in candidates:
            missing = fmt.missing(names)
            unknown = [h for h, n in zip(header, names, strict=True) if fmt.field_named(n) is None]
            doubled = sorted({h for h, n in zip(header, names, strict=True) if names.count(n) > 1})
            scored.append((len(missing), len(unknown), sep, fmt, missing, unknown, doubled, len(header)))
    # fewest missing, then the delimiter that splits the header into most columns, then fewest unknown
    _, _, sep, fmt, missing, unknown, doubled, width = min(scored, key=lambda item: (item[0], -item[7], item[1]))
    read_as = f"read as {encoding}, delimiter {_shown_delimiter(sep)!r}" if width > 1 or delimiter else ""
    if width <= 1 and not delimiter:
        read_as = (
            f"read as {encoding}; none of the delimiters {', '.join(map(repr, map(_shown_delimiter, tried)))} splits it"
        )
    parts = [f"unrecognised header {shown!r} ({read_as})"]
    if len(unknown) == width:
        parts.append("none of its columns belongs to a known export")
    elif width > 1 or delimiter:
        detail = f"closest is {fmt.description} ({fmt.name})"
        if missing:
            detail += f": missing {', '.join(missing)}"
        if unknown:
            detail += f"{';' if missing else ':'} unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
        if doubled:
            detail += f"; repeated column {', '.join(doubled)}"
        parts.append(detail)
    hint = _suggestion(header_text, encoding, delimiter, candidates, forced=forced)
    if hint:
        parts.append(hint)
    else:
        parts.append("expected one of — " + describe_expected(tuple(candidates)))
    return "; ".join(parts)


def _suggestion(
    header_text: str, encoding: str, delimiter: str | None, candidates: list[Format], *, forced: bool
) -> str | None:
    """The flag (or command) with which this header would load, if there is one."""
    others = sorted({ch for ch in header_text if not ch.isalnum() and ch not in ' _-"\ufeff'} - {delimiter})
    for sep in [*DELIMITERS, *others]:
        if sep == delimiter:
            continue
        if _match(header_text, sep, candidates, encoding) is not None:
            return f"it loads with --delimiter {_shown_delimiter(sep)!r}"
    every = list(ALL_FORMATS.values())
    for sep in [delimiter] if delimiter else [*DELIMITERS, *others]:
        layout = _match(header_text, sep, every, encoding)
        if layout is None:
            continue
        fmt = layout.fmt
        with_sep = f" --delimiter {_shown_delimiter(sep)!r}" if sep not in DELIMITERS and not delimiter else ""
        kind = kind_of(fmt)
        if forced and any(fmt.target == c.target for c in candidates):
            return f"it is a {fmt.description}: it loads with --format {fmt.name}{with_sep} (or without --format)"
        return (
            f"it is {file_phrase(fmt)}: load it with `python3 run.py {kind}{with_sep} FILE` "
            f"or put it into data/inbox/{kind}/"
        )
    return None


@dataclass
class Record:
    line_number: int  # physical line where the record starts (the header is line 1)
    fields: list[str] | None  # None when the record could not be split
    raw: str
    problem: str | None = None


class _LineTap:
    """Feeds lines to csv.reader and remembers them, to know raw text and line numbers."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.consumed: list[str] = []
        self.line_number = 0

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.line_number += 1
        self.consumed.append(line)
        return line


def records(path: Path, layout: Layout, hasher: Hasher | None = None) -> Iterator[Record]:
    """Every record after the header. Blank lines come out as records with no fields."""
    if layout.kind == "xlsx":
        from loaders import xlsx

        yield from xlsx.records(path, layout)
        return
    stream = open_bytes(path)
    if hasher is not None:
        stream = hasher.wrap(stream)
    # undecodable bytes become lone surrogates, so the row holding them is
    # quarantined instead of failing the whole file
    text = io.TextIOWrapper(stream, encoding=layout.encoding, errors="surrogateescape", newline="")
    tap = _LineTap(iter(text))
    reader = csv.reader(tap, delimiter=layout.delimiter, strict=False)
    try:
        header_seen = False
        while True:
            start = tap.line_number + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raw = "".join(tap.consumed)
                tap.consumed.clear()
                yield Record(start, None, raw, f"cannot split into fields: {exc}")
                continue
            raw = "".join(tap.consumed)
            tap.consumed.clear()
            if not header_seen:
                header_seen = True
                continue
            bad = _BAD_CHARS_RE.search(raw)
            if bad is not None:
                kind = "a NUL byte" if bad.group() == "\x00" else f"bytes that are not {layout.encoding}"
                yield Record(start, None, raw, f"contains {kind} (binary data or mixed encodings)")
                continue
            yield Record(start, fields, raw)
    except DAMAGED_GZIP as exc:
        raise unreadable(path, exc) from None
    finally:
        stream.close()


def display_name(path: Path) -> str:
    """The file name as text that can be stored (bytes that are not UTF-8 shown as \\xNN)."""
    return printable_raw(path.name)


def printable_raw(raw: str) -> str:
    """Raw text safe to store: undecodable bytes shown as \\xNN, NUL removed."""
    return (
        raw.encode("utf-8", errors="surrogateescape")
        .decode("utf-8", errors="backslashreplace")
        .replace("\x00", "\\x00")
    )
