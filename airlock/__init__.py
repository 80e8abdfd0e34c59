"""Airlock: the approval gateway for privileged actions of AI agents."""

from airlock.celery import app as celery_app

__all__ = ["celery_app"]
