"""Two indexes fewer on the events table: ``actor`` and ``target`` are looked up by
equality only, and ``db_index`` on a CharField gives PostgreSQL a second index for
pattern matching (``varchar_pattern_ops``) beside the plain one. Every index of this
table is written twice per event: by the insert, and by the sequencer's update,
which changes the indexed ``seq`` and so writes a new entry in each.

On PostgreSQL the two pattern indexes are dropped and the plain ones renamed (no
rebuild of an index on a large log); elsewhere the plain indexes are rebuilt under
their new names. The model's state moves the indexes from ``db_index`` to
``Meta.indexes``.
"""

from django.db import migrations, models

COLUMNS = {"actor": "audit_event_actor", "target": "audit_event_target"}
TABLE = "audit_auditevent"


def _single_column_indexes(schema_editor, column):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return sorted(
        name
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and info["columns"] == [column]
    )


def forwards(apps, schema_editor):
    quote = schema_editor.quote_name
    for column, new_name in COLUMNS.items():
        names = _single_column_indexes(schema_editor, column)
        plain = [name for name in names if not name.endswith("_like")]
        for name in names:
            if name.endswith("_like") or schema_editor.connection.vendor != "postgresql":
                schema_editor.execute(f"DROP INDEX {quote(name)}")
        if schema_editor.connection.vendor == "postgresql" and plain:
            schema_editor.execute(f"ALTER INDEX {quote(plain[0])} RENAME TO {quote(new_name)}")
            for extra in plain[1:]:
                schema_editor.execute(f"DROP INDEX {quote(extra)}")
        else:
            schema_editor.execute(f"CREATE INDEX {quote(new_name)} ON {TABLE} ({quote(column)})")


def backwards(apps, schema_editor):
    """The indexes ``db_index`` makes, under the names Django gives them."""
    quote = schema_editor.quote_name
    for column, new_name in COLUMNS.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(new_name)}")
        name = schema_editor._create_index_name(TABLE, [column])
        schema_editor.execute(f"CREATE INDEX {quote(name)} ON {TABLE} ({quote(column)})")
        if schema_editor.connection.vendor == "postgresql":
            like = schema_editor._create_index_name(TABLE, [column], suffix="_like")
            schema_editor.execute(
                f"CREATE INDEX {quote(like)} ON {TABLE} ({quote(column)} varchar_pattern_ops)"
            )


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_sequenced_events")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="actor",
                    field=models.CharField(max_length=300),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="target",
                    field=models.CharField(max_length=300),
                ),
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(fields=["actor"], name="audit_event_actor"),
                ),
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(fields=["target"], name="audit_event_target"),
                ),
            ],
        )
    ]
