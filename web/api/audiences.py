"""GET /api/audiences: the members to target with an item, a genre or any item attribute."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from segments.services.audiences import MAX_SIZE, AudienceError, AudienceQuery, audience_build
from web.api.errors import BadRequest
from web.api.permissions import ReadsMembers
from web.api.schema import error_responses, int_query, search_query
from web.api.views import int_param, optional_int_param

MAX_TEXT = 100


class AudienceMemberSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    member_id = serializers.CharField()
    score = serializers.FloatField()
    segment_number = serializers.IntegerField(allow_null=True)
    segment_label = serializers.CharField(allow_blank=True)


class AudienceSegmentSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]
    members = serializers.IntegerField()
    share = serializers.FloatField(help_text="of the audience")
    segment_share = serializers.FloatField(help_text="of all members")
    lift = serializers.FloatField(allow_null=True)


class AudienceSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.CharField(), help_text="the first 20")
    n_items = serializers.IntegerField()
    basis = serializers.CharField()
    already_rated = serializers.IntegerField(help_text="members left out: they rated them")
    run_id = serializers.IntegerField(allow_null=True)
    segments = AudienceSegmentSerializer(many=True)
    members = AudienceMemberSerializer(many=True)


def _text(request: Request, name: str) -> str:
    value = request.query_params.get(name, "").strip()
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{name}: at most {MAX_TEXT} characters, got {len(value)}")
    return value


class AudienceView(APIView):
    permission_classes = [ReadsMembers]

    @extend_schema(
        operation_id="audiences_retrieve",
        parameters=[
            search_query("item", max_length=MAX_TEXT, description="an item id"),
            search_query("genre", max_length=MAX_TEXT, description="a genre, exactly"),
            int_query("year_from", low=1, high=9999, description="items from this year"),
            int_query("year_to", low=1, high=9999, description="items up to this year"),
            search_query("text", max_length=MAX_TEXT, description="words in title or text"),
            int_query("size", low=1, high=MAX_SIZE, description="members returned (100)"),
        ],
        responses={200: AudienceSerializer, **error_responses()},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        query = AudienceQuery(
            item=_text(request, "item"),
            genre=_text(request, "genre"),
            year_from=optional_int_param(params, "year_from", low=1, high=9999),
            year_to=optional_int_param(params, "year_to", low=1, high=9999),
            text=_text(request, "text"),
            size=int_param(params, "size", default=100, low=1, high=MAX_SIZE),
        )
        try:
            report = audience_build(query)
        except AudienceError as exc:
            raise BadRequest(str(exc)) from None
        return Response(AudienceSerializer(report).data)
