"""Turn the plain audit table into a hash chain.

Existing events (a development database that ran before this migration) are chained
in their sequence order, so the log verifies from its first event.
"""

import django.utils.timezone
from django.db import migrations, models


def chain_existing_events(apps, schema_editor):
    from airlock.canonical import strict_bytes
    from audit import verify as chain
    from audit.services import timestamp

    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    previous = chain.GENESIS
    seq = 0
    for event in AuditEvent.objects.order_by("seq").iterator():
        seq += 1
        canonical = chain.event_canonical(
            seq=seq,
            at=timestamp(event.at),
            event_type=event.event_type,
            actor=event.actor,
            target=event.target,
            data_bytes=strict_bytes(event.data),
        )
        leaf = chain.leaf_hash(canonical)
        link = chain.chain_hash(previous, leaf)
        AuditEvent.objects.filter(seq=event.seq).update(
            seq=seq,
            canonical=canonical.decode(),
            leaf_hash=leaf.hex(),
            prev_hash=previous.hex(),
            chain_hash=link.hex(),
        )
        previous = link
    ChainHead.objects.create(id=1, seq=seq, chain_hash=previous.hex())


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0)),
                ("chain_hash", models.CharField(max_length=64)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="one_chain_head")
                ]
            },
        ),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tree_size", models.BigIntegerField(unique=True)),
                ("root_hash", models.CharField(max_length=64)),
                ("chain_hash", models.CharField(max_length=64)),
                ("note", models.TextField()),
                ("key_name", models.CharField(max_length=200)),
                ("frontier", models.JSONField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"ordering": ["tree_size"]},
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(primary_key=True, serialize=False),
        ),
        migrations.AddField(model_name="auditevent", name="canonical", field=models.TextField(default="")),
        migrations.AddField(
            model_name="auditevent", name="leaf_hash", field=models.CharField(default="", max_length=64)
        ),
        migrations.AddField(
            model_name="auditevent", name="prev_hash", field=models.CharField(max_length=64, null=True)
        ),
        migrations.AddField(
            model_name="auditevent", name="chain_hash", field=models.CharField(max_length=64, null=True)
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent", name="canonical", field=models.TextField()
        ),
        migrations.AlterField(
            model_name="auditevent", name="leaf_hash", field=models.CharField(max_length=64)
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
