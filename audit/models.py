"""The audit log: a hash chain of events, a one-row chain head, signed checkpoints.

Rows are only ever inserted, through ``audit.services.record``, and then sequenced
once (``audit.sequencer``). On PostgreSQL, triggers refuse DELETE and TRUNCATE and
every UPDATE but that one (migration 0004); on any database the models refuse to
change or delete a stored row.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event or checkpoint."""


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted")


class AuditEvent(AppendOnlyModel):
    """One thing that happened: a transition, a refused attempt, a policy change.

    ``actor`` and ``target`` are stable strings (``user:carol@example.com``,
    ``agent:etl-bot``, ``action:<uuid>``) so an event stays readable after the row
    it names is gone. ``data`` never holds a payload or a secret.

    An event is written in two steps. The caller's transaction inserts it
    *unsequenced* (``seq`` NULL, the hash columns empty): no shared lock, so
    concurrent requests do not queue on one another. Then the sequencer
    (``audit.sequencer``) gives committed events, in the order of their insertion
    ``id``, a gapless ``seq`` and their hashes, many in one transaction: the only
    UPDATE the PostgreSQL triggers allow (migration 0004).

    ``canonical`` is the RFC 8785 form of {seq, at, type, actor, target, data}: what
    ``leaf_hash`` covers. ``chain_hash`` = SHA-256(``prev_hash`` || ``leaf_hash``).
    The log an auditor verifies is the sequenced events; ``id`` is only the order in
    which they were written and is not part of it.
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(null=True, unique=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    event_type = models.CharField(max_length=64, db_index=True)
    # Indexed in Meta: looked up by equality only, so without the second,
    # pattern-matching index that db_index gives a CharField on PostgreSQL.
    actor = models.CharField(max_length=300)
    target = models.CharField(max_length=300)
    data = models.JSONField(default=dict)
    canonical = models.TextField(default="")
    leaf_hash = models.CharField(max_length=64, default="")
    # Not unique: an index costs every insert, and the chain's linearity is what the
    # sequencer writes under its lock and what verification checks, link by link.
    prev_hash = models.CharField(max_length=64, default="")
    chain_hash = models.CharField(max_length=64, default="")

    class Meta:
        # Sequenced events in log order, then the not yet sequenced in write order.
        ordering = [models.F("seq").asc(nulls_last=True), "id"]
        indexes = [
            # The sequencer's work list: small, since sequenced rows leave it.
            models.Index(
                fields=["id"], name="audit_event_unsequenced", condition=models.Q(seq__isnull=True)
            ),
            # Every index is written twice per event (the insert, then the sequencer's
            # update, which changes the indexed seq): only those a query uses.
            models.Index(fields=["actor"], name="audit_event_actor"),
            models.Index(fields=["target"], name="audit_event_target"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq or '?'} {self.event_type} {self.target}"

    @property
    def sequenced(self) -> bool:
        return self.seq is not None


class ChainHead(models.Model):
    """The single row the sequencer locks (``SELECT … FOR UPDATE``): the last sequence
    number and chain hash. Serialising sequencing here is what makes ``seq`` gapless
    and the chain linear; appends themselves do not touch it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    chain_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_chain_head")]

    def __str__(self) -> str:
        return f"head #{self.seq}"


class Checkpoint(AppendOnlyModel):
    """A signed statement of the log's size, RFC 6962 Merkle root and chain hash.

    ``note`` is the signed note as published; ``frontier`` lets the next checkpoint
    extend the tree without re-reading the whole log. Sizes only grow.
    """

    tree_size = models.BigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    note = models.TextField()
    key_name = models.CharField(max_length=200)
    frontier = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tree_size"]

    def __str__(self) -> str:
        return f"checkpoint @{self.tree_size}"
