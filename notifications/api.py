"""The notification API (``airlock-admins``): channels and the delivery outbox.
Thin adapters: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.models import User
from airlock.errors import Forbidden, InvalidInput, NotFound
from notifications import services, tasks
from notifications.models import Channel, Delivery, DeliveryStatus


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "kind", "name", "target", "groups", "mode", "created_at", "created_by"]


class ChannelCreateSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=16)
    name = serializers.CharField(max_length=100)
    target = serializers.CharField(max_length=2048, required=False, allow_blank=True, default="")
    groups = serializers.ListField(child=serializers.CharField(max_length=150), max_length=50)
    mode = serializers.CharField(max_length=8, required=False, default="approve")


class DeliverySerializer(serializers.ModelSerializer):
    action = serializers.UUIDField(source="action_id")
    channel = serializers.IntegerField(source="channel_id", allow_null=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "kind",
            "channel",
            "action",
            "topic",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "message_id",
            "created_at",
            "delivered_at",
        ]


def _page(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    return inline_serializer(name, {"results": item(many=True)})


class SecretSerializer(serializers.Serializer):
    agent = serializers.CharField()
    secret = serializers.CharField(help_text="shown in this response only")


def _admin(request: Request) -> User:
    if not roles.is_admin(request.user):
        raise Forbidden("only airlock-admins manage notifications")
    return request.user  # type: ignore[return-value]


class ChannelCollection(APIView):
    @extend_schema(
        operation_id="channels_list", responses={200: _page("ChannelPage", ChannelSerializer)}
    )
    def get(self, request: Request) -> Response:
        _admin(request)
        return Response({"results": ChannelSerializer(Channel.objects.all(), many=True).data})

    @extend_schema(
        operation_id="channels_create",
        request=ChannelCreateSerializer,
        responses={201: ChannelSerializer},
        description="A webhook channel's response also carries its signing secret, once.",
    )
    def post(self, request: Request) -> Response:
        actor = _admin(request)
        given = ChannelCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        channel, secret = services.create_channel(actor=actor, **given.validated_data)
        body: dict[str, Any] = dict(ChannelSerializer(channel).data)
        if secret:
            body["secret"] = secret  # shown this once
        return Response(body, status=status.HTTP_201_CREATED)


class ChannelDetail(APIView):
    @extend_schema(operation_id="channels_destroy", responses={204: None})
    def delete(self, request: Request, channel_id: int) -> Response:
        services.delete_channel(actor=_admin(request), channel_id=channel_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryCollection(APIView):
    @extend_schema(
        operation_id="deliveries_list",
        parameters=[OpenApiParameter("status", str, description="pending, delivered or failed")],
        responses={200: _page("DeliveryPage", DeliverySerializer)},
    )
    def get(self, request: Request) -> Response:
        _admin(request)
        queryset = Delivery.objects.order_by("-id")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in DeliveryStatus.values:
                raise InvalidInput(details={"status": [", ".join(DeliveryStatus.values)]})
            queryset = queryset.filter(status=wanted)
        return Response({"results": DeliverySerializer(queryset[:200], many=True).data})


class DeliveryRetry(APIView):
    @extend_schema(
        operation_id="deliveries_retry", request=None, responses={200: DeliverySerializer}
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        delivery = services.retry(actor=_admin(request), delivery_id=delivery_id)
        transaction.on_commit(lambda: tasks.enqueue([delivery.pk]))
        return Response(DeliverySerializer(delivery).data)


class AgentWebhookSecretView(APIView):
    """Make or rotate an agent's callback signing secret; shown in this response only."""

    @extend_schema(
        operation_id="agents_webhook_secret", request=None, responses={201: SecretSerializer}
    )
    def post(self, request: Request, name: str) -> Response:
        if getattr(request.user, "is_agent", False):
            raise NotFound("no such agent")
        secret = services.rotate_webhook_secret(agent_name=name, actor=request.user)  # type: ignore[arg-type]
        return Response({"agent": name, "secret": secret}, status=status.HTTP_201_CREATED)
