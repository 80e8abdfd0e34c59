"""Appends without a shared lock: events are inserted unsequenced and sequenced later.

The events table is rebuilt with an insertion ``id`` as its primary key; ``seq``
becomes nullable (unique): NULL until the sequencer gives the event its place in
the chain. The unique indexes on ``prev_hash`` and ``chain_hash`` go (each cost
every insert; the chain is what the sequencer writes under its lock and what
verification checks). A partial index holds the not yet sequenced events, so the
sequencer finds them without scanning the table.

Existing events keep their sequence numbers and hashes, and get ``id`` = ``seq``.

On PostgreSQL the triggers now refuse DELETE and TRUNCATE of events, and every
UPDATE but one: the sequencing of an unsequenced event, which sets ``seq`` and the
four chain columns from empty and leaves everything else as it was. A sequenced
event can never change again.
"""

import django.utils.timezone
from django.db import migrations, models

GUARD = """
CREATE OR REPLACE FUNCTION airlock_audit_event_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.seq > 0
        AND NEW.id = OLD.id
        AND NEW.at = OLD.at
        AND NEW.event_type = OLD.event_type
        AND NEW.actor = OLD.actor
        AND NEW.target = OLD.target
        AND NEW.data::text = OLD.data::text
        AND OLD.canonical = '' AND OLD.leaf_hash = '' AND OLD.prev_hash = ''
        AND OLD.chain_hash = ''
        AND NEW.canonical <> '' AND length(NEW.leaf_hash) = 64
        AND length(NEW.prev_hash) = 64 AND length(NEW.chain_hash) = 64
    THEN
        RETURN NEW;  -- the one change an event may have: being sequenced, once
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % is refused%', TG_OP, TG_TABLE_NAME,
        CASE WHEN TG_OP = 'UPDATE' AND OLD.seq IS NULL
            THEN ' (an unsequenced event may only be sequenced)' ELSE '' END
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

COPY = (
    "INSERT INTO audit_auditeventlog (id, seq, at, event_type, actor, target, data, "
    "canonical, leaf_hash, prev_hash, chain_hash) "
    "SELECT seq, seq, at, event_type, actor, target, data, canonical, leaf_hash, "
    "prev_hash, chain_hash FROM audit_auditevent ORDER BY seq"
)


def copy_events(apps, schema_editor):
    schema_editor.execute(COPY, params=None)


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the models refuse changes (AppendOnlyModel)
    for statement in (
        "SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), "
        "COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM audit_auditevent",
        GUARD,
        "CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE "
        "ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION airlock_audit_event_guard();",
        "CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent "
        "FOR EACH STATEMENT EXECUTE FUNCTION airlock_audit_append_only();",
    ):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_triggers")]

    operations = [
        migrations.CreateModel(
            name="AuditEventLog",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(null=True, unique=True)),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("event_type", models.CharField(db_index=True, max_length=64)),
                ("actor", models.CharField(db_index=True, max_length=300)),
                ("target", models.CharField(db_index=True, max_length=300)),
                ("data", models.JSONField(default=dict)),
                ("canonical", models.TextField(default="")),
                ("leaf_hash", models.CharField(default="", max_length=64)),
                ("prev_hash", models.CharField(default="", max_length=64)),
                ("chain_hash", models.CharField(default="", max_length=64)),
            ],
            options={
                "ordering": [models.OrderBy(models.F("seq"), nulls_last=True), "id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("seq__isnull", True)),
                        fields=["id"],
                        name="audit_event_unsequenced",
                    )
                ],
            },
        ),
        migrations.RunPython(copy_events, migrations.RunPython.noop),
        # DROP TABLE takes the old table's triggers with it.
        migrations.DeleteModel(name="AuditEvent"),
        migrations.RenameModel(old_name="AuditEventLog", new_name="AuditEvent"),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
