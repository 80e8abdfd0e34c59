from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path


def one_query(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return JsonResponse({"ok": value == 1})


urlpatterns = [path("q", one_query)]
