"""The audit log. Rows are only ever inserted, through ``audit.services.record``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEvent(models.Model):
    """One thing that happened: a transition, a refused attempt, a change of identities.

    ``actor`` and ``target`` are stable strings (``user:carol@example.com``,
    ``agent:etl-bot``, ``action:<uuid>``) so an event stays readable after the row
    it names is gone. ``data`` never holds a payload or a secret.
    """

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    event_type = models.CharField(max_length=64, db_index=True)
    actor = models.CharField(max_length=300, db_index=True)
    target = models.CharField(max_length=300, db_index=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit events cannot be deleted")
