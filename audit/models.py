"""The audit log: a hash chain of events, a one-row chain head, signed checkpoints.

Rows are only ever inserted, through ``audit.services.record``. On PostgreSQL,
triggers refuse UPDATE, DELETE and TRUNCATE (migration 0002); on any database the
models refuse to change or delete a stored row.
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

    ``canonical`` is the RFC 8785 form of {seq, at, type, actor, target, data}: what
    ``leaf_hash`` covers. ``chain_hash`` = SHA-256(``prev_hash`` || ``leaf_hash``).
    ``seq`` is gapless: it is taken from the chain head under a row lock, in the
    transaction that writes the event, so a rollback gives it back.
    """

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    event_type = models.CharField(max_length=64, db_index=True)
    actor = models.CharField(max_length=300, db_index=True)
    target = models.CharField(max_length=300, db_index=True)
    data = models.JSONField(default=dict)
    canonical = models.TextField()
    leaf_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, unique=True)
    chain_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.target}"


class ChainHead(models.Model):
    """The single row every append locks (``SELECT … FOR UPDATE``): the last sequence
    number and chain hash. Serialising appends here is what makes ``seq`` gapless
    and the chain linear."""

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
