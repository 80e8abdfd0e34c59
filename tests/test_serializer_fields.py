"""Input serializers build their fields once per class and thread
(``airlock.fields.RejectUnknownFields.fields``). They must validate exactly as a
serializer with freshly copied fields does: the same verdict, errors and data, with
instances alive side by side and in several threads."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rest_framework import serializers

from approvals.serializers import ActionCreateSerializer, DenySerializer
from policies.serializers import SimulateSerializer


def fresh(cls: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The same serializer with DRF's own per-instance fields (an overridden
    ``get_fields`` turns the reuse off)."""

    def get_fields(self: serializers.Serializer) -> dict[str, Any]:
        return serializers.Serializer.get_fields(self)

    return type(f"Fresh{cls.__name__}", (cls,), {"get_fields": get_fields})


BODIES: list[tuple[type[serializers.Serializer], Any]] = [
    (ActionCreateSerializer, {"action": "data.export", "resource": "db://x"}),
    (
        ActionCreateSerializer,
        {
            "action": "data.export",
            "resource": "db://x",
            "environment": "prod",
            "payload": {"rows": 3},
            "justification": "ticket 42",
            "on_behalf_of": " Alice@Example.com ",
            "context": {"ticket": "T-1"},
        },
    ),
    (ActionCreateSerializer, {"action": 42, "resource": ["x"], "typo": 1}),
    (ActionCreateSerializer, {"action": "a\x00b", "resource": "db://x"}),
    (ActionCreateSerializer, {"resource": "db://x", "on_behalf_of": "not an address"}),
    (ActionCreateSerializer, {"action": "x", "resource": "y", "callback_url": "http://10.0.0.1/"}),
    (ActionCreateSerializer, "not an object"),
    (DenySerializer, {"reason": "no"}),
    (DenySerializer, {}),
    (SimulateSerializer, {"facts": {"action": "a", "resource": "b"}, "findings": [{}]}),
    (SimulateSerializer, {"facts": {"action": "a", "resource": "b", "extra": 1}}),
]


def verdict(cls: type[serializers.Serializer], body: Any) -> tuple[bool, Any, Any]:
    serializer = cls(data=body)
    ok = serializer.is_valid()
    return ok, serializer.errors, serializer.validated_data if ok else None


@pytest.mark.django_db
@pytest.mark.parametrize(("cls", "body"), BODIES)
def test_it_validates_as_fresh_fields_do(cls, body):
    assert verdict(cls, body) == verdict(fresh(cls), body)
    # Twice: the second instance reuses the first one's fields.
    assert verdict(cls, body) == verdict(fresh(cls), body)


@pytest.mark.django_db
def test_instances_alive_side_by_side_each_keep_their_own_errors():
    bad = ActionCreateSerializer(data={"action": 42})
    good = ActionCreateSerializer(data={"action": "data.export", "resource": "db://x"})
    assert good.is_valid(), good.errors
    assert not bad.is_valid()
    assert set(bad.errors) == {"action", "resource"}
    assert good.validated_data["action"] == "data.export"
    assert good.fields is bad.fields  # one set, rebound to whoever reads it
    assert good.fields["action"].root is good


@pytest.mark.django_db(transaction=True)
def test_threads_validate_independently():
    reference = fresh(ActionCreateSerializer)
    expected = {i: verdict(reference, body) for i, (_, body) in enumerate(BODIES[:7])}
    failures: list[str] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        for _ in range(50):
            for i, (_, body) in enumerate(BODIES[:7]):
                got = verdict(ActionCreateSerializer, body)
                if got != expected[i]:
                    failures.append(f"{i}: {got} != {expected[i]}")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
