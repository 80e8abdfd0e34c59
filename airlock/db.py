"""Database helpers shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import connections, transaction
from django.db.models import Model, QuerySet
from django.db.models.sql import UpdateQuery


def relaxed_update(queryset: QuerySet[Any], **values: Any) -> int:
    """``queryset.update(**values)`` as a transaction of its own that does not wait
    for the WAL flush, for an outbox's own bookkeeping (claims, attempts,
    "delivered"): a crash can lose the last few such writes, and then a side effect
    is handed on again, which at-least-once delivery with stable ids allows for. It
    saves an fsync per write. Never for a change of state that must be durable (a
    request, a review, an audit event). Returns the number of rows updated. Inside
    the caller's transaction it is a plain update of that transaction.

    On PostgreSQL, outside a transaction, it is one round trip: ``SET LOCAL`` and the
    UPDATE as one simple query, which PostgreSQL runs as one transaction (BEGIN, SET,
    UPDATE and COMMIT were four)."""
    connection = connections[queryset.db]
    if connection.in_atomic_block:
        # Part of the caller's transaction, which keeps its own durability: SET LOCAL
        # would relax the caller's commit too.
        return queryset.update(**values)
    if not one_simple_query(connection):
        with transaction.atomic(using=queryset.db):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            return queryset.update(**values)
    query: Any = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, params = query.get_compiler(queryset.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF; " + sql, params)
        cursor.nextset()
        return int(cursor.rowcount)


def one_simple_query(connection: Any) -> bool:
    """Whether a query with several statements goes to ``connection`` as one simple
    query, which PostgreSQL runs as one transaction: PostgreSQL with client-side
    binding (Django's default). Server-side binding allows one statement a query."""
    return connection.vendor == "postgresql" and not connection.settings_dict.get(
        "OPTIONS", {}
    ).get("server_side_binding")


_row_updates: dict[tuple[type[Model], tuple[str, ...]], tuple[str, list[Any]]] = {}


def relaxed_update_row(model: type[Model], pk: Any, **values: Any) -> int:
    """``relaxed_update(model's manager.filter(pk=pk), **values)`` with the statement
    built once per model and set of fields: for the outbox's per-event bookkeeping,
    where compiling the same UPDATE on every call cost more than running it."""
    manager = model._default_manager
    connection = connections[manager.db]
    if connection.in_atomic_block or not one_simple_query(connection):
        return relaxed_update(manager.filter(pk=pk), **values)
    key = (model, tuple(values))
    statement = _row_updates.get(key)
    if statement is None:
        meta, quote = model._meta, connection.ops.quote_name
        fields: list[Any] = [meta.get_field(name) for name in values]
        assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)
        where = quote(str(meta.pk.column))
        update = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {where} = %s"  # noqa: S608 (our table and columns)
        sql = "SET LOCAL synchronous_commit TO OFF; " + update
        statement = _row_updates[key] = (sql, fields)
    sql, fields = statement
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    params.append(model._meta.pk.get_db_prep_value(pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.nextset()
        return int(cursor.rowcount)
