"""The site's URLs plus views that crash, to see what a 500 looks like from outside."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from segrec_site.urls import urlpatterns as site_urlpatterns

SECRET = "postgres://segrec:hunter2@db:5432/segrec"


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"cannot reach {SECRET}")


class CrashingApiView(APIView):
    permission_classes: list = []

    def get(self, request: Request) -> Response:
        raise RuntimeError(f"cannot reach {SECRET}")


urlpatterns = [
    path("api/crash", crash),
    path("api/crash-drf", CrashingApiView.as_view()),
    path("crash", crash),
    *site_urlpatterns,
]
