"""Writing a zip member by member, hashing and counting each file as it streams.

Nothing here holds a whole file in memory: CSV rows and JSON lines go straight into
the zip's deflate stream, and the SHA-256 and size are taken on the way.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

# Cells an office suite would run as a formula (OWASP "CSV injection"): prefixed with
# a quote. A verifier strips the quote back before comparing (``audit/verify.py``).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class BuildError(Exception):
    """The package cannot be built; the message says why (kept on the report)."""


_FORMULA = frozenset(FORMULA_STARTS)


def cell(value: Any) -> str:
    kind = value.__class__
    if kind is str:
        return "'" + value if value[:1] in _FORMULA else value
    if value is None:
        return ""
    if kind is bool:
        return "yes" if value else "no"
    text = str(value)
    if text[:1] in _FORMULA:
        return "'" + text
    return text


class Member:
    """One file being written into the zip."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self._hash = hashlib.sha256()
        self.size = 0
        self.rows: int | None = None

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        self._stream.write(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class CsvWriter:
    """RFC 4180 rows (CRLF line ends, fields quoted when they hold a comma, quote or
    break), gathered a thousand at a time before they go into the member."""

    BATCH = 1000

    def __init__(self, member: Member, header: Sequence[str]):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._writer.writerow(header)
        self._pending = 0
        self.member = member
        member.rows = 0
        self.flush()

    def row(self, values: Sequence[Any]) -> None:
        self._writer.writerow([cell(v) for v in values])
        self._pending += 1
        if self._pending >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        text = self._buffer.getvalue()
        if text:
            self.member.write(text.encode("utf-8"))
            self._buffer.seek(0)
            self._buffer.truncate()
        assert self.member.rows is not None
        self.member.rows += self._pending
        self._pending = 0


class Spooled:
    """A CSV written to a temporary file (hashed as it is written) while another member
    of the zip streams; ``Package.add`` copies it in afterwards. One pass over the log
    fills several populations at once this way, and nothing is held in memory."""

    def __init__(self, header: Sequence[str]):
        # Closed by Package.add, once copied in (or with the process, on a failed build).
        self.file = tempfile.TemporaryFile()  # noqa: SIM115
        self.member = Member(self.file)
        self.writer = CsvWriter(self.member, header)

    def row(self, values: Sequence[Any]) -> None:
        self.writer.row(values)


class Package:
    """A zip being written; ``files`` lists every member with its hash and size."""

    def __init__(self, path: str):
        # Level 1: the package is mostly hashes and JSON, and deflate's higher levels
        # cost several times the time for a few per cent.
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.files: list[dict[str, Any]] = []

    @contextmanager
    def member(self, name: str, *, note: str | None = None) -> Iterator[Member]:
        with self.zip.open(name, "w", force_zip64=True) as stream:
            member = Member(stream)
            yield member
        entry: dict[str, Any] = {"name": name, "sha256": member.sha256, "bytes": member.size}
        if member.rows is not None:
            entry["rows"] = member.rows
        if note:
            entry["note"] = note
        self.files.append(entry)

    @contextmanager
    def csv(
        self, name: str, header: Sequence[str], *, note: str | None = None
    ) -> Iterator[CsvWriter]:
        with self.member(name, note=note) as member:
            writer = CsvWriter(member, header)
            yield writer
            writer.flush()

    def write(self, name: str, data: bytes, *, note: str | None = None) -> None:
        with self.member(name, note=note) as member:
            member.write(data)

    def add(self, name: str, spooled: Spooled, *, note: str | None = None) -> None:
        """Copy a spooled CSV in as ``name``; its hash and size were taken as it was written."""
        spooled.writer.flush()
        spooled.file.seek(0)
        with self.zip.open(name, "w", force_zip64=True) as stream:
            shutil.copyfileobj(spooled.file, stream, 1 << 20)
        spooled.file.close()
        member = spooled.member
        entry: dict[str, Any] = {"name": name, "sha256": member.sha256, "bytes": member.size}
        entry["rows"] = member.rows
        if note:
            entry["note"] = note
        self.files.append(entry)

    def close(self) -> None:
        self.zip.close()
