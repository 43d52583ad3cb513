"""API endpoints: parse the request, call a selector or the run service, serialize."""

from __future__ import annotations

from django.core.paginator import EmptyPage
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recommendations.api.errors import BadRequest
from recommendations.api.permissions import IsStaffForWrites
from recommendations.api.serializers import (
    MemberDetailSerializer,
    MemberRecommendationsSerializer,
    RunParamsSerializer,
    RunSerializer,
    SegmentDetailSerializer,
    SegmentListSerializer,
)
from recommendations.selectors import member_recommendations
from segments.models import Member, SegmentationRun
from segments.params import InvalidParams
from segments.selectors import (
    active_run,
    member_by_external_id,
    member_overview,
    membership_in_run,
    run_by_pk,
    segment_by_pk,
    segment_members_page,
)
from segments.services.runs import segmentation_run_create

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
        run = run_by_pk(run_id)
        if run is None:
            raise NotFound(f"Unknown run {run_id}.")
        return Response(RunSerializer(run).data)
