"""Hot queries compiled once, for the API's per-request reads and writes.

Turning a queryset into SQL (resolving lookups and joins, ordering, quoting every
column) costs more Python than running it on a loopback database: a third of the
allowed fast path's CPU went into compiling the same few statements again on every
request. These helpers compile a statement once per thread (Django's connections,
and so its compilers, are per thread) and then only bind new values. What they
return is what the ORM would: model instances built by Django's own row
conversion, related objects included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)

# Stands in for the one parameter while the statement is compiled; never sent.
_SLOT = "airlock-prepared-parameter-" + "x" * 37


class PreparedGet(Generic[M]):
    """``build(value)`` is a queryset with exactly one parameter, ``value``, in its
    WHERE clause; ``get(v)`` runs it for ``v`` and returns its first row or None."""

    slots = 1

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self._build = build
        self._local = threading.local()

    def _queryset(self) -> QuerySet[M]:
        return self._build(_SLOT)[:1]

    def _compiled(self) -> dict[str, Any]:
        compiled: dict[str, Any] | None = getattr(self._local, "compiled", None)
        if compiled is not None:
            return compiled
        queryset = self._queryset()
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()  # also fills select and klass_info
        params = list(params)
        if params.count(_SLOT) != self.slots:
            raise ValueError(f"this prepared query needs {self.slots} parameter slot(s)")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        compiled = {
            "compiler": compiler,
            "sql": sql,
            "params": params,
            "slot": params.index(_SLOT) if self.slots else None,
            "converters": compiler.get_converters([column for column, _, _ in select]),
            "model": klass_info["model"],
            "init_list": [column.target.attname for column, _, _ in select[start:end]],
            "span": (start, end),
            # django-stubs describes Django 6, which added a fetch_mode argument.
            "related": get_related_populators(klass_info, select, queryset.db),  # type: ignore[call-arg]
            "db": queryset.db,
        }
        self._local.compiled = compiled
        return compiled

    def _rows(self, params: list[Any], *, first: bool) -> list[M]:
        compiled = self._compiled()
        with _cursor(compiled["db"]) as cursor:
            cursor.execute(compiled["sql"], params)
            found = cursor.fetchmany(1) if first else cursor.fetchall()
        if compiled["converters"]:
            found = list(compiled["compiler"].apply_converters(found, compiled["converters"]))
        start, end = compiled["span"]
        model, db, init_list = compiled["model"], compiled["db"], compiled["init_list"]
        objs: list[M] = []
        for row in found:
            obj: M = model.from_db(db, init_list, row[start:end])
            for populator in compiled["related"]:
                populator.populate(row, obj)
            objs.append(obj)
        return objs

    def get(self, value: Any) -> M | None:
        compiled = self._compiled()
        params = list(compiled["params"])
        params[compiled["slot"]] = value
        found = self._rows(params, first=True)
        return found[0] if found else None


def _cursor(alias: str) -> Any:
    """Where a connection can prepare statements (``airlock.postgresql``), a cursor
    that does: these statements are the same on every call, so the database parses
    and plans each once per connection instead of on every request."""
    connection = connections[alias]
    prepared_cursor = getattr(connection, "prepared_cursor", None)
    return prepared_cursor() if prepared_cursor is not None else connection.cursor()


class PreparedAll(PreparedGet[M]):
    """``build()`` is a queryset without parameters; ``all()`` runs it and returns
    every row, in its order."""

    slots = 0

    def _queryset(self) -> QuerySet[M]:
        return self._build()

    def all(self) -> list[M]:
        return self._rows(list(self._compiled()["params"]), first=False)


def insert_statement(*objs: Model) -> tuple[str, list[Any]]:
    """The SQL and parameters that insert ``objs`` (one model) in one statement, as
    ``save(force_insert=True)`` would store each (values prepared by each field, as
    save prepares them; no signals: nothing listens for these models'), with the
    statement built once: Django's save resolves and quotes every column again on
    each call. For a caller that sends it together with other statements
    (``audit.services.record_all(with_statements=…)``); call ``inserted`` on each
    once it has run. A model whose primary key the database assigns is inserted
    without it, and its ids are not read back.

    A value that is None is written into the statement as ``NULL`` rather than
    bound, exactly what client-side binding would send for it: psycopg caches its
    parsing of a query only up to 50 parameters, and a held filing's one query had
    53, 8 of them None (parsed again on every filing: 146 us); it has 45 now."""
    first = objs[0]
    connection = connections[first._state.db or "default"]
    head, fields = _insert_statement(type(first), connection.vendor)
    values = [
        field.get_db_prep_save(field.pre_save(obj, True), connection)
        for obj in objs
        for field in fields
    ]
    width = len(fields)
    rows = [
        "(" + ", ".join(["NULL" if v is None else "%s" for v in values[i : i + width]]) + ")"
        for i in range(0, len(values), width)
    ]
    return head + ", ".join(rows), [v for v in values if v is not None]


def inserted(*objs: Model) -> None:
    """Mark ``objs`` as stored, as ``save()`` would."""
    for obj in objs:
        obj._state.adding = False
        obj._state.db = obj._state.db or "default"


def insert_returning_pk(obj: Model) -> Any:
    """Insert ``obj``, whose primary key the database assigns, as ``save()`` would
    (``insert_statement``: built once), and set its primary key from the insert."""
    statement = insert_returning_pk_statement(obj)
    if statement is None:
        obj.save(force_insert=True)
        return obj.pk
    sql, params = statement
    with connections[obj._state.db or "default"].cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    inserted(obj)
    return obj.pk


def insert_returning_pk_statement(obj: Model) -> tuple[str, list[Any]] | None:
    """``insert_statement(obj)`` that returns the primary key the database assigns,
    for a caller that runs it with others (its one row: ``(pk,)``); None on a
    database that returns no columns from an INSERT."""
    connection = connections[obj._state.db or "default"]
    if not connection.features.can_return_columns_from_insert:
        return None
    sql, params = insert_statement(obj)
    column = connection.ops.quote_name(str(type(obj)._meta.pk.column))
    return f"{sql} RETURNING {column}", params


_insert_statements: dict[tuple[type[Model], str], tuple[str, list[Any]]] = {}


def _insert_statement(model: type[Model], vendor: str) -> tuple[str, list[Any]]:
    key = (model, vendor)
    statement = _insert_statements.get(key)
    if statement is None:
        meta = model._meta
        if meta.pk is None or meta.parents:
            raise ValueError(f"{model.__name__}: only models with a primary key of their own")
        fields = [
            field
            for field in meta.local_concrete_fields
            if not field.generated and not (field.primary_key and field.db_returning)
        ]
        quote = connections["default"].ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in fields)
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608
        statement = _insert_statements[key] = (sql, fields)
    return statement


__all__ = [
    "PreparedAll",
    "PreparedGet",
    "insert_returning_pk",
    "insert_returning_pk_statement",
    "insert_statement",
    "inserted",
]
