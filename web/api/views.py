"""API endpoints: parse the request, call a selector or the run service, serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage
from django.db import IntegrityError
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Member
from segments.models import Membership, SegmentationRun
from segments.params import InvalidParams
from segments.selectors import (
    active_run,
    member_by_external_id,
    member_overview,
    member_recommendations,
    membership_in_run,
    run_by_pk,
    segment_by_pk,
    segment_members_page,
)
from segments.services.comparison import runs_compare
from segments.services.placement import (
    PlacementUnavailable,
    member_create_and_place,
    member_place,
)
from segments.services.start import BrokerUnavailable, segmentation_run_create
from web.api.errors import BadRequest, Conflict
from web.api.permissions import (
    AddsMembers,
    PlacesMembers,
    ReadsMembers,
    ReadsRuns,
    ReadsSegmentMembers,
    ReadsSegments,
    StartsRuns,
)
from web.api.schema import (
    MEMBER_ID_PATH,
    RUN_QUEUED_RESPONSE,
    error_responses,
    int_path,
    int_query,
)
from web.api.serializers import (
    MemberCreatedSerializer,
    MemberCreateSerializer,
    MemberDetailSerializer,
    MemberRecommendationsSerializer,
    RunComparisonSerializer,
    RunParamsSerializer,
    RunSerializer,
    SegmentDetailSerializer,
    SegmentListSerializer,
)

MAX_K = 500
MAX_PAGE = 10**9


def int_param(query: QueryDict, name: str, *, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise BadRequest(f"{name}: expected an integer from {low} to {high}, got {raw!r}")
    return value


def member_or_404(member_id: str) -> Member:
    member = member_by_external_id(member_id)
    if member is None:
        raise NotFound(f"Unknown member {member_id!r}.")
    return member


def active_run_or_404() -> SegmentationRun:
    run = active_run()
    if run is None:
        raise NotFound("No active segmentation run: run a segmentation first.")
    return run


def run_or_404(run_id: int) -> SegmentationRun:
    run = run_by_pk(run_id)
    if run is None:
        raise NotFound(f"Unknown run {run_id}.")
    return run


def first_error(exc: ValidationError) -> str:
    """DRF's {field: [messages]} as one "field: message" line, like the run endpoint's."""
    assert isinstance(exc.detail, dict)  # a serializer's errors are keyed by field
    field, messages = next(iter(exc.detail.items()))
    message = messages[0] if isinstance(messages, list) else messages
    return f"{'body' if field == 'non_field_errors' else field}: {message}"


def member_body(member: Member, membership: Membership | None) -> dict[str, Any]:
    run = membership.run if membership else active_run()
    overview = member_overview(member=member, run=run)
    return MemberDetailSerializer(overview).data


class MemberCreateView(APIView):
    """A member who arrives between runs gets a segment and a list at once."""

    permission_classes = [AddsMembers]
    parser_classes = [JSONParser]
    NOT_PLACED = "Not placed: no active run with a placer; the next run will segment this member."

    @extend_schema(
        request=MemberCreateSerializer,
        responses={201: MemberCreatedSerializer, **error_responses()},
    )
    def post(self, request: Request) -> Response:
        serializer = MemberCreateSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
            member, membership = member_create_and_place(fields=serializer.model_fields())
        except ValidationError as exc:
            raise BadRequest(first_error(exc)) from None
        except IntegrityError:
            member_id = serializer.validated_data["member_id"]
            raise BadRequest(f"member_id: a member {member_id!r} already exists") from None
        body = member_body(member, membership)
        if membership is None:
            body["note"] = self.NOT_PLACED
        return Response(body, status=status.HTTP_201_CREATED)


class MemberPlaceView(APIView):
    """(Re)place an existing member in the active run, e.g. after their first ratings."""

    permission_classes = [PlacesMembers]

    @extend_schema(
        request=None,
        parameters=[MEMBER_ID_PATH],
        responses={200: MemberDetailSerializer, **error_responses(404, 409)},
    )
    def post(self, request: Request, member_id: str) -> Response:
        member = member_or_404(member_id)
        try:
            membership = member_place(member=member)
        except PlacementUnavailable as exc:
            raise Conflict(str(exc)) from None
        return Response(member_body(member, membership))


class MemberDetailView(APIView):
    permission_classes = [ReadsMembers]

    @extend_schema(
        parameters=[MEMBER_ID_PATH],
        responses={200: MemberDetailSerializer, **error_responses(404)},
    )
    def get(self, request: Request, member_id: str) -> Response:
        member = member_or_404(member_id)
        overview = member_overview(member=member, run=active_run())
        return Response(MemberDetailSerializer(overview).data)


class MemberRecommendationsView(APIView):
    permission_classes = [ReadsMembers]

    @extend_schema(
        parameters=[
            MEMBER_ID_PATH,
            int_query("k", low=1, high=MAX_K, description="list length (default 10)"),
        ],
        responses={200: MemberRecommendationsSerializer, **error_responses(404)},
    )
    def get(self, request: Request, member_id: str) -> Response:
        k = int_param(request.query_params, "k", default=10, low=1, high=MAX_K)
        member = member_or_404(member_id)
        run = active_run_or_404()
        data = {
            "member": member,
            "run": run,
            "membership": membership_in_run(member=member, run=run),
            "items": member_recommendations(run=run, member=member, k=k),
        }
        return Response(MemberRecommendationsSerializer(data).data)


class SegmentListView(APIView):
    permission_classes = [ReadsSegments]

    @extend_schema(
        operation_id="segments_list",
        responses={200: SegmentListSerializer, **error_responses(404)},
    )
    def get(self, request: Request) -> Response:
        return Response(SegmentListSerializer(active_run_or_404()).data)


class SegmentDetailView(APIView):
    permission_classes = [ReadsSegmentMembers]

    @extend_schema(
        parameters=[
            int_path("segment_id"),
            int_query("page", low=1, high=MAX_PAGE, description="page of 50 members (default 1)"),
        ],
        responses={200: SegmentDetailSerializer, **error_responses(404)},
    )
    def get(self, request: Request, segment_id: int) -> Response:
        page_number = int_param(request.query_params, "page", default=1, low=1, high=MAX_PAGE)
        segment = segment_by_pk(segment_id)
        if segment is None:
            raise NotFound(f"Unknown segment {segment_id}.")
        try:
            page = segment_members_page(segment=segment, page_number=page_number)
        except EmptyPage:
            raise NotFound(f"Segment {segment_id} has no page {page_number}.") from None
        serializer = SegmentDetailSerializer(segment, context={"members_page": page})
        return Response(serializer.data)


def run_queued_response(exc: BrokerUnavailable) -> Response:
    """503: the run is stored and queued, and starts once the broker is back (the sweep)."""
    run = exc.run
    body = {
        "error": f"Run {run.pk} is queued and will start when the job broker is reachable "
        "again; nothing needs to be sent twice.",
        "status": status.HTTP_503_SERVICE_UNAVAILABLE,
        "run": RunSerializer(run).data,
    }
    retry_after = int(getattr(settings, "SEGREC_RUN_SWEEP_SECONDS", 30))
    return Response(
        body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(retry_after)}
    )


class RunCreateView(APIView):
    permission_classes = [StartsRuns]
    parser_classes = [JSONParser]

    @extend_schema(
        request=RunParamsSerializer,
        responses={201: RunSerializer, **error_responses(), 503: RUN_QUEUED_RESPONSE},
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise BadRequest("body: expected a JSON object of run parameters")
        try:
            run = segmentation_run_create(params=request.data, created_by=request.user)
        except InvalidParams as exc:
            raise BadRequest(str(exc)) from None
        except BrokerUnavailable as exc:
            return run_queued_response(exc)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RunDetailView(APIView):
    permission_classes = [ReadsRuns]

    @extend_schema(
        parameters=[int_path("run_id")],
        responses={200: RunSerializer, **error_responses(404)},
    )
    def get(self, request: Request, run_id: int) -> Response:
        return Response(RunSerializer(run_or_404(run_id)).data)


class RunCompareView(APIView):
    permission_classes = [ReadsRuns]

    @extend_schema(
        parameters=[int_path("run_id"), int_path("other_id")],
        responses={200: RunComparisonSerializer, **error_responses(404)},
    )
    def get(self, request: Request, run_id: int, other_id: int) -> Response:
        return Response(runs_compare(run_a=run_or_404(run_id), run_b=run_or_404(other_id)))


class SchemaView(SpectacularAPIView):
    """This OpenAPI schema: for any signed-in account, since it holds no member data."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        **{
            **SCHEMA_KWARGS,
            "responses": {
                200: OpenApiTypes.OBJECT,
                **error_responses(404, notes={404: "An unknown `format`."}),
            },
        }
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
