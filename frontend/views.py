"""The console's start page. The full reviewer console is its own roadmap item."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from approvals.selectors import reviewable_by


@login_required
def home(request: HttpRequest) -> HttpResponse:
    queue = reviewable_by(request.user)[:50]  # type: ignore[arg-type]
    return render(request, "frontend/home.html", {"queue": queue})
