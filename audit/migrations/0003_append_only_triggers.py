"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE of audit events and checkpoints,
and DELETE and TRUNCATE of the chain head, whoever asks: a superuser must first
disable the trigger, which itself takes ownership of the table and is visible.

Production should also connect as a role that has only SELECT and INSERT on the
audit tables (and UPDATE on the chain head): ``manage.py audit_grants`` prints the SQL.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION airlock_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

TRIGGERS = [
    ("audit_auditevent", "UPDATE OR DELETE"),
    ("audit_checkpoint", "UPDATE OR DELETE"),
    ("audit_chainhead", "DELETE"),
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the models refuse changes (AppendOnlyModel)
    statements = [FUNCTION]
    for table, operations in TRIGGERS:
        statements += [
            f"CREATE TRIGGER {table}_append_only BEFORE {operations} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION airlock_audit_append_only();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION airlock_audit_append_only();",
        ]
    for statement in statements:
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS airlock_audit_append_only();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_hash_chain")]

    operations = [migrations.RunPython(install, remove)]
