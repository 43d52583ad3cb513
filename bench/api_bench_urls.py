"""The production URLs plus the bench's reference: a bare view that reads a list in one query."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from segments.models import RecommendationList
from segrec_site.urls import urlpatterns as production


def bare_list(request: HttpRequest, member_id: str) -> JsonResponse:
    entries = (
        RecommendationList.objects.filter(member__external_id=member_id, run__is_active=True)
        .values_list("entries", flat=True)
        .first()
    )
    return JsonResponse({"member_id": member_id, "items": (entries or [])[:10]})


urlpatterns = [path("bench/bare/<str:member_id>", bare_list), *production]
