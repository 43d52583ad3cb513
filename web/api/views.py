"""API endpoints: parse the request, call a selector or the run service, serialize."""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage
from django.db import IntegrityError
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
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
from segments.services.start import segmentation_run_create
from web.api.errors import BadRequest, Conflict
from web.api.permissions import IsStaffForMemberWrites, IsStaffForWrites
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

    permission_classes = [IsAuthenticated, IsStaffForMemberWrites]
    parser_classes = [JSONParser]
    NOT_PLACED = "Not placed: no active run with a placer; the next run will segment this member."

    @extend_schema(request=MemberCreateSerializer, responses={201: MemberCreatedSerializer})
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

    permission_classes = [IsAuthenticated, IsStaffForMemberWrites]

    @extend_schema(request=None, responses=MemberDetailSerializer)
    def post(self, request: Request, member_id: str) -> Response:
        member = member_or_404(member_id)
        try:
            membership = member_place(member=member)
        except PlacementUnavailable as exc:
            raise Conflict(str(exc)) from None
        return Response(member_body(member, membership))


class MemberDetailView(APIView):
    @extend_schema(responses=MemberDetailSerializer)
    def get(self, request: Request, member_id: str) -> Response:
        member = member_or_404(member_id)
        overview = member_overview(member=member, run=active_run())
        return Response(MemberDetailSerializer(overview).data)


class MemberRecommendationsView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("k", int, description=f"list length, 1 to {MAX_K}")],
        responses=MemberRecommendationsSerializer,
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
    @extend_schema(operation_id="segments_list", responses=SegmentListSerializer)
    def get(self, request: Request) -> Response:
        return Response(SegmentListSerializer(active_run_or_404()).data)


class SegmentDetailView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("page", int, description="page of 50 members, from 1")],
        responses=SegmentDetailSerializer,
    )
    def get(self, request: Request, segment_id: int) -> Response:
        page_number = int_param(request.query_params, "page", default=1, low=1, high=10**9)
        segment = segment_by_pk(segment_id)
        if segment is None:
            raise NotFound(f"Unknown segment {segment_id}.")
        try:
            page = segment_members_page(segment=segment, page_number=page_number)
        except EmptyPage:
            raise NotFound(f"Segment {segment_id} has no page {page_number}.") from None
        serializer = SegmentDetailSerializer(segment, context={"members_page": page})
        return Response(serializer.data)


class RunCreateView(APIView):
    permission_classes = [IsAuthenticated, IsStaffForWrites]
    parser_classes = [JSONParser]

    @extend_schema(request=RunParamsSerializer, responses={201: RunSerializer})
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise BadRequest("body: expected a JSON object of run parameters")
        try:
            run = segmentation_run_create(params=request.data, created_by=request.user)
        except InvalidParams as exc:
            raise BadRequest(str(exc)) from None
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RunDetailView(APIView):
    @extend_schema(responses=RunSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        return Response(RunSerializer(run_or_404(run_id)).data)


class RunCompareView(APIView):
    @extend_schema(responses=RunComparisonSerializer)
    def get(self, request: Request, run_id: int, other_id: int) -> Response:
        return Response(runs_compare(run_a=run_or_404(run_id), run_b=run_or_404(other_id)))
