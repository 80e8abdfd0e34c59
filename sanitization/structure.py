"""The structure inside a string: named fields with their offsets.

Agents put structured text in strings: CSV with a header, ``KEY=value`` lists and
command lines, URLs and query strings, HTTP headers and cookies, connection strings,
SQL statements, JSON. ``fields(text)`` finds the named values in them, so that what a
name says (``password``, ``dob``, ``ssn``, a ``name`` column) decides how the value is
masked, as it does for a JSON key. Each field has the span of its value in ``text``
and, when the value is encoded there (``%40``, ``\\u00e9``), its decoded text, which is
analyzed on its own.

Every expression is bounded and anchored on a delimiter: linear on any input.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

MAX_FIELDS = 2000


@dataclass(frozen=True)
class Field:
    name: str
    start: int
    end: int
    parent: str = ""
    decoded: str | None = None  # the value's text when it is encoded in the string
    row: int = -1  # CSV: the row; -1 elsewhere
    column: int = -1
    kind: str = ""  # csv, json, query, header, cookie, pair, sql


@dataclass(frozen=True)
class Parsed:
    fields: tuple[Field, ...]
    csv_delimiter: str = ""  # set when the whole text is a table
    csv_header: bool = False


# -- key=value, headers, cookies -----------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}"
# NAME=value, NAME="value", --set a.b=value; the value ends at a blank or a separator.
_PAIR = re.compile(
    rf"(?<![A-Za-z0-9_.\-/%+=])(?P<name>{_NAME})=(?!=)(?P<value>\"[^\"\n]{{0,500}}\"|'[^'\n]{{0,500}}'|[^\s&;,\"'<>()\[\]{{}}|]{{1,500}})"
)
# "key": "value" / 'key' => 'value' in text that is not JSON (Python reprs, YAML, logs).
_QUOTED_PAIR = re.compile(
    r"(?P<q>[\"'])(?P<name>[A-Za-z_][\w.\- ]{0,40})(?P=q)\s{0,4}(?::|=>?)\s{0,4}"
    r"(?P<vq>[\"'])(?P<value>[^\"'\n]{0,500})(?P=vq)"
)
# An HTTP header or a YAML-ish line: Name: value
_HEADER = re.compile(
    r"(?m)^[ \t]{0,8}(?P<name>[A-Za-z][A-Za-z0-9_\-]{0,40}):[ \t]{1,8}(?P<value>[^\r\n]{1,2000})"
)
# Server=x;User ID=y;Password=z (ADO.NET, Azure): names may hold spaces.
_SEMI_PAIR = re.compile(
    r"(?:^|;)\s{0,4}(?P<name>[A-Za-z][A-Za-z0-9 _.\-]{0,40}?)\s{0,4}=(?P<value>[^;]{0,2000})"
)
_COOKIE = re.compile(r"(?:^|;)\s{0,4}(?P<name>[^=;\s]{1,100})=(?P<value>[^;]{0,4000})")
SCHEME_VALUE = re.compile(r"(?i)(?:bearer|basic|token|digest|negotiate|apikey|api-key|key)\s+")
# SQL: col = 'literal', col = 123; INSERT INTO t (cols) VALUES (...)
_SQL_PAIR = re.compile(
    r"(?i)(?<![\w.])(?P<name>[A-Za-z_][\w]{0,63})[\"`\]]?\s{0,4}(?:=|<>|!=|\blike\b)\s{0,4}"
    r"(?:'(?P<value>(?:[^']|''){0,1000})'|(?P<number>-?\d[\d\-]{2,40})\b)"
)
_SQL_INSERT = re.compile(
    r"(?is)\binsert\s+into\s+(?P<table>[\w.\"`\[\]]{1,128})\s*\((?P<cols>[^()]{1,4000})\)\s*values\s*"
)
_SQL_LITERAL = re.compile(
    r"\s*(?:'(?P<s>(?:[^']|''){0,4000})'|(?P<n>-?[\d.]{1,40})|(?P<other>null|true|false|default))\s*(?P<end>[,)])",
    re.I,
)
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_SQL_WORDS = re.compile(r"(?i)\b(?:insert|update|select|delete)\b")
_URL_QUERY = re.compile(r"\?(?P<query>[^\s#\"'<>]{1,8000})")
_QUERY_PAIR = re.compile(r"(?:^|&)(?P<name>[^=&]{1,100})=(?P<value>[^&]{0,4000})")


def _pairs(text: str, out: list[Field]) -> None:
    for match in _PAIR.finditer(text):
        name, value = match.group("name"), match.group("value")
        start, end = match.span("value")
        if value[:1] in "\"'" and len(value) >= 2:
            start, end = start + 1, end - 1
        inner = _PAIR.fullmatch(text, start, end)
        if inner:  # --from-literal=password=XYZ
            name = inner.group("name")
            start = inner.start("value")
        raw = text[start:end]
        decoded = unquote_plus(raw) if _PERCENT.search(raw) else None
        out.append(Field(name, start, end, decoded=decoded, kind="pair"))
    for match in _QUOTED_PAIR.finditer(text):
        out.append(Field(match.group("name"), *match.span("value"), kind="pair"))


def _headers(text: str, out: list[Field]) -> None:
    for match in _HEADER.finditer(text):
        name = match.group("name")
        start, end = match.span("value")
        while end > start and text[end - 1] in " \t":
            end -= 1
        if name.lower() in ("cookie", "set-cookie"):
            _cookies(text, start, end, out)
            continue
        scheme = SCHEME_VALUE.match(text, start, end)
        if scheme:
            start = scheme.end()
        out.append(Field(name, start, end, kind="header"))


def _cookies(text: str, start: int, end: int, out: list[Field]) -> None:
    for index, match in enumerate(_COOKIE.finditer(text[start:end])):
        name = match.group("name")
        if index > 0 and name.lower() in ("path", "domain", "expires", "max-age", "samesite"):
            continue
        s, e = match.span("value")
        out.append(Field(name, start + s, start + e, parent="cookie", kind="cookie"))


def _semicolon_pairs(text: str, out: list[Field]) -> None:
    matches = list(_SEMI_PAIR.finditer(text))
    if len(matches) < 2:
        return
    for match in matches:
        start, end = match.span("value")
        while end > start and text[end - 1] in " \t\r\n":
            end -= 1
        out.append(Field(match.group("name").strip(), start, end, kind="pair"))


def _queries(text: str, out: list[Field]) -> None:
    spans = [m.span("query") for m in _URL_QUERY.finditer(text)]
    # A whole form body: a=b&c=d
    if "&" in text and "=" in text and not any(c in text for c in " \n\t"):
        spans.append((0, len(text)))
    elif "\n" in text:  # the last line of an HTTP message: its form body
        last = text.rsplit("\n", 1)[1]
        if "&" in last and "=" in last and " " not in last:
            spans.append((len(text) - len(last), len(text)))
    for base, stop in spans:
        for match in _QUERY_PAIR.finditer(text, base, stop):
            start, end = match.span("value")
            raw = text[start:end]
            decoded = unquote_plus(raw) if ("%" in raw or "+" in raw) else None
            name = unquote_plus(match.group("name"))
            out.append(Field(name, start, end, decoded=decoded, kind="query"))


def _sql(text: str, out: list[Field]) -> None:
    for match in _SQL_PAIR.finditer(text):
        group = "value" if match.group("value") is not None else "number"
        out.append(Field(match.group("name"), *match.span(group), kind="sql"))
    for match in _SQL_INSERT.finditer(text):
        columns = [c.strip().strip('"`[]') for c in match.group("cols").split(",")]
        table = match.group("table").strip('"`[]').rsplit(".", 1)[-1]
        position = match.end()
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
            if position < len(text) and text[position - 1] == "," and text[position] != "(":
                break
        while position < len(text) and text[position] == "(":
            position += 1
            for column in columns:
                literal = _SQL_LITERAL.match(text, position)
                if not literal:
                    break
                group = "s" if literal.group("s") is not None else "n"
                if literal.group(group) is not None:
                    out.append(Field(column, *literal.span(group), parent=table, kind="sql"))
                position = literal.end()
                if literal.group("end") == ")":
                    break
            while position < len(text) and text[position] in " \t\r\n,":
                position += 1


# -- CSV -----------------------------------------------------------------------------------

_HEADER_CELL = re.compile(r"^[A-Za-z][A-Za-z0-9 _.\-/#]{0,40}$")


def _csv(text: str, out: list[Field]) -> tuple[str, bool]:
    lines = text.splitlines()
    if len(lines) < 2 or len(text) > 500_000:
        return "", False
    first = lines[0]
    delimiter = max(",;\t|", key=first.count)
    if first.count(delimiter) == 0:
        return "", False
    rows = list(csv.reader(lines, delimiter=delimiter))
    widths = [len(r) for r in rows if r]
    if not widths or sum(w == widths[0] for w in widths) < 0.8 * len(widths):
        return "", False
    header = rows[0]
    has_header = all(_HEADER_CELL.match(cell.strip()) for cell in header)
    # Offsets: walk the lines of the text, cell by cell (quotes kept in the span).
    offset = 0
    for row_index, line in enumerate(text.split("\n")):
        if row_index == 0 and has_header:
            offset += len(line) + 1
            continue
        column = 0
        position = 0
        while position <= len(line):
            if position < len(line) and line[position] == '"':
                close = position + 1
                while True:
                    close = line.find('"', close)
                    if close < 0 or close + 1 >= len(line) or line[close + 1] != '"':
                        break
                    close += 2
                stop = len(line) if close < 0 else close + 1
                start, end = position + 1, (stop - 1 if close >= 0 else stop)
            else:
                stop = line.find(delimiter, position)
                stop = len(line) if stop < 0 else stop
                start, end = position, stop
            value_end = end
            while value_end > start and line[value_end - 1] in "\r ":
                value_end -= 1
            name = header[column].strip() if has_header and column < len(header) else ""
            if value_end > start:
                out.append(
                    Field(
                        name,
                        offset + start,
                        offset + value_end,
                        row=row_index,
                        column=column,
                        kind="csv",
                    )
                )
            column += 1
            nxt = line.find(delimiter, stop)
            if nxt < 0 or stop >= len(line):
                break
            position = nxt + 1
        offset += len(line) + 1
    return delimiter, has_header


# -- JSON in a string ------------------------------------------------------------------------

_JSON_TOKEN = re.compile(
    r"\s*(?:\"(?P<s>(?:[^\"\\]|\\.)*)\"|(?P<p>[{}\[\]:,])|(?P<n>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null))"
)


def _json(text: str, out: list[Field]) -> bool:
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] not in "{[" or stripped[-1] not in "}]":
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    # (container, its key); inside an object: the last key read, and whether one is due.
    stack: list[list[str]] = []
    position = 0
    expecting_key = False
    key = ""
    while position < len(text) and len(out) < MAX_FIELDS:
        match = _JSON_TOKEN.match(text, position)
        if not match:
            break
        position = match.end()
        punct = match.group("p")
        if punct in ("{", "["):
            stack.append([punct, key])
            expecting_key = punct == "{"
            key = "" if punct == "{" else key
        elif punct in ("}", "]"):
            if stack:
                key = stack.pop()[1]
            expecting_key = False
        elif punct == ",":
            expecting_key = bool(stack) and stack[-1][0] == "{"
        elif punct == ":":
            expecting_key = False
        elif match.group("s") is not None:
            raw = match.group("s")
            if expecting_key:
                key = json.loads(f'"{raw}"') if "\\" in raw else raw
                continue
            start, end = match.span("s")
            decoded = json.loads(f'"{raw}"') if "\\" in raw else None
            parent = stack[-1][1] if stack else ""
            out.append(Field(key, start, end, parent=parent, decoded=decoded, kind="json"))
        elif match.group("n") is not None and match.group("n")[0] in "-0123456789":
            parent = stack[-1][1] if stack else ""
            out.append(Field(key, *match.span("n"), parent=parent, kind="json"))
    return True


def parse(text: str) -> Parsed:
    """Named fields in ``text`` (none for plain prose)."""
    out: list[Field] = []
    if _json(text, out):
        return Parsed(tuple(out[:MAX_FIELDS]))
    if "=" in text:
        _pairs(text, out)
        if ";" in text:
            _semicolon_pairs(text, out)
        if "?" in text or "&" in text:
            _queries(text, out)
    elif "'" in text or '"' in text:
        for match in _QUOTED_PAIR.finditer(text):
            out.append(Field(match.group("name"), *match.span("value"), kind="pair"))
    if ("'" in text or "=" in text) and _SQL_WORDS.search(text):
        _sql(text, out)
    if ":" in text:
        _headers(text, out)
    delimiter, header = ("", False)
    if "\n" in text:
        delimiter, header = _csv(text, out)
    return Parsed(tuple(out[:MAX_FIELDS]), delimiter, header)
