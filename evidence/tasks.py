"""Celery: build an evidence package (ids only; the service re-reads the report)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="evidence.build_report")
def build_report(report_id: str) -> str:
    from evidence import services

    return str(services.build_report(report_id=report_id).status)
