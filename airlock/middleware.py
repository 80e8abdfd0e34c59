"""What every response shares, whichever view (or none) produced it.

- Under ``/api/`` every error has API.md's shape, including the ones no DRF view
  rendered: a URL that matches nothing (``/api/v1/actions/not-a-uuid/approve``),
  Django's 500 page, a refused Host.
- A query string that cannot be stored or compared (U+0000: PostgreSQL refuses it
  in any text parameter) is a 400 naming the parameter, before any view runs, for
  the API and the console alike.
- The database away is a 503 with ``Retry-After``, not a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from airlock.api import RETRY_AFTER_SECONDS, is_database_unavailable

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

_CODES = {
    400: ("bad_request", "the request is not valid"),
    401: ("not_authenticated", "no or bad credentials"),
    403: ("permission_denied", "you are not allowed to do this"),
    404: ("not_found", "not found"),
    405: ("method_not_allowed", "method not allowed"),
    413: ("payload_too_large", "the request body is too large"),
    500: ("server_error", "the server failed; the error is logged"),
    503: ("service_unavailable", "a service Airlock needs is not answering; try again shortly"),
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_json(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JsonResponse(body, status=status)


def _is_json(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == "application/json"


class ApiErrorsMiddleware:
    """Outermost, so it sees the responses every other layer produced.

    Natively async as well as sync: its checks touch no database, so under ASGI they
    run on the event loop instead of queueing for the one thread that sync code
    shares (a MiddlewareMixin hook would, twice per request).
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        refused = self.process_request(request)
        if refused is not None:
            return refused
        return self.process_response(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        refused = self.process_request(request)
        if refused is not None:
            return refused
        return self.process_response(request, await self.get_response(request))

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        bad = sorted(
            {key for key, values in request.GET.lists() for v in [key, *values] if "\x00" in v}
        )
        if not bad:
            return None
        details = {
            (key if "\x00" not in key else "query"): ["must not contain U+0000"] for key in bad
        }
        if _is_api(request):
            return error_json(400, "validation_error", "the request is not valid", details)
        return HttpResponse(
            "Bad request: a filter contains U+0000.", status=400, content_type="text/plain"
        )

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.warning("database unavailable: %s", type(exception.__cause__ or exception).__name__)
        code, message = _CODES[503]
        response: HttpResponse
        if _is_api(request):
            response = error_json(503, code, message)
        else:
            response = HttpResponse(
                "The database is not answering; try again shortly.",
                status=503,
                content_type="text/plain",
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.status_code < 400 or not _is_api(request) or _is_json(response):
            return response
        code, message = _CODES.get(response.status_code, ("error", "the request failed"))
        replaced = error_json(response.status_code, code, message)
        for header in ("Retry-After", "WWW-Authenticate", "Allow"):
            if header in response:
                replaced[header] = response[header]
        return replaced


__all__ = ["ApiErrorsMiddleware", "error_json"]
