from django.urls import path

from notifications import api

urlpatterns = [
    path("channels", api.ChannelCollection.as_view(), name="channels"),
    path("channels/<int:channel_id>", api.ChannelDetail.as_view(), name="channel-detail"),
    path("deliveries", api.DeliveryCollection.as_view(), name="deliveries"),
    path("deliveries/<int:delivery_id>/retry", api.DeliveryRetry.as_view(), name="delivery-retry"),
    path(
        "agents/<str:name>/webhook-secret",
        api.AgentWebhookSecretView.as_view(),
        name="agent-webhook-secret",
    ),
]
