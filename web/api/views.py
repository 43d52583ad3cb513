"""API endpoints: parse the request, call a selector or the run service, serialize."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage
from django.db import IntegrityError
from django.http import QueryDict
from django.templatetags.static import static
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import (
    SCHEMA_KWARGS,
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from catalog.models import Member
from segments.models import Membership, SegmentationRun
from segments.params import InvalidParams
from segments.selectors import (
    active_run,
    active_run_id,
    item_by_external_id,
    items_page,
    member_by_external_id,
    member_list,
    member_overview,
    run_by_pk,
    runs_page,
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
    ReadsItems,
    ReadsMembers,
    ReadsRuns,
    ReadsSegmentMembers,
    ReadsSegments,
    StartsRuns,
)
from web.api.schema import (
    ITEM_ID_PATH,
    MEMBER_ID_PATH,
    RUN_QUEUED_RESPONSE,
    error_responses,
    int_path,
    int_query,
    search_query,
)
from web.api.serializers import (
    ApiRootSerializer,
    ItemSerializer,
    ItemsPageSerializer,
    MemberCreatedSerializer,
    MemberCreateSerializer,
    MemberDetailSerializer,
    MemberRecommendationsSerializer,
    RunComparisonSerializer,
    RunParamsSerializer,
    RunSerializer,
    RunsPageSerializer,
    SegmentDetailSerializer,
    SegmentListSerializer,
)

MAX_K = 500
DEFAULT_K = 10
MAX_PAGE = 10**9
MAX_SEARCH = 100
ASCII_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def int_param(query: QueryDict, name: str, *, default: int, low: int, high: int) -> int:
    value = optional_int_param(query, name, low=low, high=high)
    return default if value is None else value


def optional_int_param(query: QueryDict, name: str, *, low: int, high: int) -> int | None:
    """The integer query parameter ``name`` in [low, high], None when absent or empty.

    ASCII digits only: ``int()`` alone also takes "٣", "３" and "3_0", which the schema's
    integer does not describe."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not ASCII_INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadRequest(f"{name}: expected an integer from {low} to {high}, got {raw!r}")
    return int(raw)


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
    """The busiest endpoint: one query (the member with segment, list and items) once the
    active run id and the account's permissions are cached."""

    permission_classes = [ReadsMembers]

    @extend_schema(
        parameters=[
            MEMBER_ID_PATH,
            int_query(
                "k",
                low=1,
                high=MAX_K,
                description=f"list length (default {DEFAULT_K}); above the run's stored list "
                "length (its `top_k`) is a 400 that names it",
            ),
        ],
        responses={200: MemberRecommendationsSerializer, **error_responses(404)},
    )
    def get(self, request: Request, member_id: str) -> Response:
        asked = "k" in request.query_params and request.query_params["k"] != ""
        k = int_param(request.query_params, "k", default=DEFAULT_K, low=1, high=MAX_K)
        run_id = active_run_id()
        if run_id is None:
            raise NotFound("No active segmentation run: run a segmentation first.")
        listed = member_list(external_id=member_id, run_id=run_id, k=k)
        if listed is None:
            raise NotFound(f"Unknown member {member_id!r}.")
        if asked and k > listed.limit:
            raise BadRequest(
                f"k: at most {listed.limit}, the list length run {run_id} stored, got {k}"
            )
        return Response(MemberRecommendationsSerializer(listed).data)


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


def page_number(request: Request) -> int:
    return int_param(request.query_params, "page", default=1, low=1, high=MAX_PAGE)


def page_or_404(get_page: Any, what: str, number: int, **kwargs: Any) -> Any:
    try:
        return get_page(page_number=number, **kwargs)
    except EmptyPage:
        raise NotFound(f"There is no page {number} of {what}.") from None


class RunsView(APIView):
    """GET: the runs, newest first (readers); POST: start a run (staff)."""

    parser_classes = [JSONParser]

    def get_permissions(self) -> list[Any]:
        return [ReadsRuns() if self.request.method in ("GET", "HEAD") else StartsRuns()]

    @extend_schema(
        operation_id="runs_list",
        parameters=[int_query("page", low=1, high=MAX_PAGE, description="page of 20 runs")],
        responses={200: RunsPageSerializer, **error_responses(404)},
    )
    def get(self, request: Request) -> Response:
        page = page_or_404(runs_page, "runs", page_number(request))
        return Response(RunsPageSerializer(page).data)

    @extend_schema(
        operation_id="runs_create",
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


class ItemListView(APIView):
    permission_classes = [ReadsItems]

    @extend_schema(
        operation_id="items_list",
        parameters=[
            search_query("q", max_length=MAX_SEARCH, description="part of a title, or an item id"),
            int_query("page", low=1, high=MAX_PAGE, description="page of 50 items (default 1)"),
        ],
        responses={200: ItemsPageSerializer, **error_responses(404)},
    )
    def get(self, request: Request) -> Response:
        search = request.query_params.get("q", "").strip()
        if len(search) > MAX_SEARCH:
            raise BadRequest(f"q: at most {MAX_SEARCH} characters, got {len(search)}")
        page = page_or_404(items_page, "items", page_number(request), search=search)
        return Response(ItemsPageSerializer(page).data)


class ItemDetailView(APIView):
    permission_classes = [ReadsItems]

    @extend_schema(
        parameters=[ITEM_ID_PATH],
        responses={200: ItemSerializer, **error_responses(404)},
    )
    def get(self, request: Request, item_id: str) -> Response:
        item = item_by_external_id(item_id)
        if item is None:
            raise NotFound(f"Unknown item {item_id!r}.")
        return Response(ItemSerializer(item).data)


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


# The API root's list: each endpoint by its URL name, with what it does.
ENDPOINTS = {
    "api:runs": "GET: runs, newest first (paginated); POST: start a run (staff)",
    "api:item-list": "GET: items (paginated, ?q= searches titles and ids)",
    "api:audiences": "GET: members to target for ?item=, ?genre=, ?year_from=, ?text= (CSV in the admin)",
    "api:segment-list": "GET: the active run's segments",
    "api:member-create": "POST: add a member and place them in the active run (staff)",
}
TEMPLATES = {
    "/api/runs/{run_id}": "GET: one run",
    "/api/runs/{run_id}/compare/{other_id}": "GET: how two runs' segments overlap",
    "/api/items/{item_id}": "GET: one item",
    "/api/segments/{segment_id}": "GET: a segment with a page of its members",
    "/api/members/{member_id}": "GET: a member with their segment",
    "/api/members/{member_id}/recommendations": "GET: a member's list (?k=)",
    "/api/members/{member_id}/place": "POST: place a member in the active run again (staff)",
}


class ApiRootView(APIView):
    """What the API offers, for any signed-in account (it names endpoints, not data)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="api_root", responses={200: ApiRootSerializer, **error_responses()})
    def get(self, request: Request) -> Response:
        endpoints = {reverse(name): text for name, text in ENDPOINTS.items()}
        return Response(
            {
                "endpoints": {**endpoints, **TEMPLATES},
                "schema": reverse("api:schema"),
                "docs": {"swagger": reverse("api:swagger"), "redoc": reverse("api:redoc")},
            }
        )


def api_docs_asset(path: str) -> str:
    # Swagger UI and Redoc are vendored under web/static/api-docs: the pages work offline.
    return static(f"api-docs/{path}")


class SwaggerView(SpectacularSwaggerView):
    """Swagger UI for any signed-in account, served from this server's static files."""

    permission_classes = [IsAuthenticated]
    url_name = "api:schema"

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return api_docs_asset(f"swagger-ui/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return api_docs_asset("swagger-ui/favicon-32x32.png")

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)


class RedocView(SpectacularRedocView):
    permission_classes = [IsAuthenticated]
    url_name = "api:schema"

    @staticmethod
    def _redoc_standalone() -> str:
        return api_docs_asset("redoc/redoc.standalone.js")

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().get(request, *args, **kwargs)
