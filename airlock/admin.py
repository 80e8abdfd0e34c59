"""Admin helpers shared by the apps."""

from __future__ import annotations

from typing import Any


class ReadOnlyAdmin:
    """For records that only services write (requests, audit events, policies): the
    admin may look, never add, change or delete."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
