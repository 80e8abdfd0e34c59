"""The console's Evidence page: ask for a package, watch it build, download it.
Thin over ``evidence.services``; asking and downloading are audited there."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import User
from airlock.errors import DomainError
from evidence import selectors, services


def _auditor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not services.may_use_evidence(user):
        raise Http404("evidence is for airlock-auditors and airlock-admins")
    return user


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@never_cache
@login_required
def evidence(request: HttpRequest) -> HttpResponse:
    person = _auditor(request)
    if request.method == "POST":
        period_from, period_to = (
            _date(request.POST.get("from", "")),
            _date(request.POST.get("to", "")),
        )
        sample = request.POST.get("sample", "").strip()
        if period_from is None or period_to is None or (sample and not sample.isdigit()):
            messages.error(request, "Give both dates as YYYY-MM-DD and a whole sample size.")
            return redirect("evidence-page")
        try:
            report = services.request_report(
                actor=person,
                period_from=period_from,
                period_to=period_to,
                sample_size=int(sample) if sample else None,
                seed=request.POST.get("seed", "").strip() or None,
            )
        except DomainError as exc:
            messages.error(request, str(exc.details or exc))
            return redirect("evidence-page")
        messages.success(request, f"Report {report.pk} queued.")
        return redirect("evidence-page")
    reports = list(selectors.reports_visible_to(person)[:100])
    today = timezone.now().date()
    return render(
        request,
        "frontend/evidence.html",
        {
            "reports": reports,
            "building": any(r.status in ("queued", "running") for r in reports),
            "default_from": today.replace(day=1).isoformat(),
            "default_to": today.isoformat(),
        },
    )


@require_GET
@login_required
def evidence_download(request: HttpRequest, report_id: UUID) -> FileResponse:
    person = _auditor(request)
    report = selectors.visible_report(person, report_id)
    if report is None:
        raise Http404("no such report")
    try:
        path = services.record_download(actor=person, report=report)
    except DomainError as exc:
        raise Http404(str(exc)) from exc
    return FileResponse(path.open("rb"), as_attachment=True, filename=report.file_name)
