"""Writing a zip member by member, hashing and counting each file as it streams.

Nothing here holds a whole file in memory: CSV rows and JSON lines go straight into
the zip's deflate stream, and the SHA-256 and size are taken on the way.
"""

from __future__ import annotations

import csv
import hashlib
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

# Cells an office suite would run as a formula (OWASP "CSV injection"): prefixed with
# a quote. A verifier strips the quote back before comparing (``audit/verify.py``).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(FORMULA_STARTS):
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


class _TextSink:
    """What ``csv.writer`` writes into: UTF-8 into a member."""

    def __init__(self, member: Member):
        self.member = member

    def write(self, text: str) -> int:
        self.member.write(text.encode("utf-8"))
        return len(text)


class CsvWriter:
    def __init__(self, member: Member, header: Sequence[str]):
        # RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or break.
        self._writer = csv.writer(_TextSink(member), lineterminator="\r\n")
        self._writer.writerow(header)
        self.member = member
        member.rows = 0

    def row(self, values: Sequence[Any]) -> None:
        self._writer.writerow([cell(v) for v in values])
        assert self.member.rows is not None
        self.member.rows += 1


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
            yield CsvWriter(member, header)

    def write(self, name: str, data: bytes, *, note: str | None = None) -> None:
        with self.member(name, note=note) as member:
            member.write(data)

    def close(self) -> None:
        self.zip.close()
