from django.urls import path

from notifications import views

urlpatterns = [
    path("slack/interactions", views.slack, name="slack-interactions"),
    path("slack/events", views.slack, name="slack-events"),
    path("teams/messages", views.teams, name="teams-messages"),
]
