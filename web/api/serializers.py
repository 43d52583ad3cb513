"""Output shapes of the API (they also describe it in the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from segments.models import Segment, SegmentationRun
from segments.params import ALGORITHMS, FEATURE_BLOCKS, PARAM_RANGES, RECOMMENDERS, SERVE_CHOICES
from segments.selectors import MemberList


class MemberSegmentSerializer(serializers.Serializer):
    """A member's segment in the active run and how they got it."""

    id = serializers.IntegerField(source="segment.id")
    number = serializers.IntegerField(source="segment.number")
    # Stub gap: the DRF stubs type Field.label as str; here "label" names an API field.
    label = serializers.CharField(source="segment.label")  # type: ignore[assignment]
    confidence = serializers.FloatField()
    # Stub gap: the DRF stubs type Field.source as str; here "source" names an API field.
    source = serializers.CharField(help_text="clustered, classified, noise or placed")  # type: ignore[assignment]


class MemberDetailSerializer(serializers.Serializer):
    member_id = serializers.CharField(source="member.external_id")
    age = serializers.IntegerField(source="member.age", allow_null=True)
    gender = serializers.CharField(source="member.gender")
    occupation = serializers.CharField(source="member.occupation")
    location = serializers.CharField(source="member.location")
    profile = serializers.CharField(source="member.profile")
    rating_count = serializers.IntegerField()
    run = serializers.IntegerField(source="run.pk", allow_null=True)
    segment = MemberSegmentSerializer(source="membership", allow_null=True)


class MemberCreatedSerializer(MemberDetailSerializer):
    note = serializers.CharField(required=False, help_text="why segment is null, when it is")


class MemberCreateSerializer(serializers.Serializer):
    """The POST body of a new member; unknown fields are refused, not ignored."""

    member_id = serializers.CharField(max_length=64)
    age = serializers.IntegerField(min_value=0, max_value=150, required=False, allow_null=True)
    gender = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    occupation = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    location = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    profile = serializers.CharField(required=False, allow_blank=True, default="")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError({unknown[0]: ["unknown field"]})
        return super().to_internal_value(data)

    def model_fields(self) -> dict[str, Any]:
        """The validated body as Member field names."""
        fields = dict(self.validated_data)
        return {"external_id": fields.pop("member_id"), **fields}


class RunComparisonSerializer(serializers.Serializer):
    """Documents GET /api/runs/<a>/compare/<b>: segments.services.comparison builds it."""

    run_a = serializers.IntegerField()
    run_b = serializers.IntegerField()
    ari = serializers.FloatField(help_text="adjusted Rand index over members in both runs")
    n_common = serializers.IntegerField()
    rows = serializers.ListField(child=serializers.DictField(), help_text="run A's segments")
    cols = serializers.ListField(child=serializers.DictField(), help_text="run B's segments")
    matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="matrix[i][j]: members in rows[i] of run A and cols[j] of run B",
    )


class RecommendationSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    item_id = serializers.CharField(source="item.external_id")
    title = serializers.CharField(source="item.title")
    year = serializers.IntegerField(source="item.year", allow_null=True)
    genres = serializers.ListField(source="item.genres", child=serializers.CharField())
    score = serializers.FloatField()
    reason = serializers.CharField()


class MemberRecommendationsSerializer(serializers.Serializer):
    """Documents the list; to_representation writes it straight from the selector's rows."""

    member_id = serializers.CharField()
    run = serializers.IntegerField()
    segment = MemberSegmentSerializer(allow_null=True)
    items = RecommendationSerializer(many=True)

    def to_representation(self, listed: MemberList) -> dict[str, Any]:
        # The busiest endpoint: plain dicts cost a fraction of a field-by-field serializer.
        segment = listed.segment
        return {
            "member_id": listed.member_id,
            "run": listed.run_id,
            "segment": None if segment is None else vars(segment).copy(),
            "items": [vars(item).copy() for item in listed.items],
        }


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    number = serializers.IntegerField()
    # Stub gap: the DRF stubs type Field.label as str; here "label" names an API field.
    label = serializers.CharField()  # type: ignore[assignment]
    size = serializers.IntegerField()
    share = serializers.SerializerMethodField()
    summary = serializers.JSONField(help_text="description, genres, demographics and items")

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_share(self, segment: Segment) -> float | None:
        return (segment.summary or {}).get("share")


class SegmentListSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="pk")
    segments = SegmentSerializer(many=True, source="segments.all")


class SegmentMemberSerializer(serializers.Serializer):
    member_id = serializers.CharField(source="member.external_id")
    confidence = serializers.FloatField()
    # Stub gap: the DRF stubs type Field.source as str; here "source" names an API field.
    source = serializers.CharField()  # type: ignore[assignment]


class MembersPageSerializer(serializers.Serializer):
    page = serializers.IntegerField(source="number")
    pages = serializers.IntegerField(source="paginator.num_pages")
    count = serializers.IntegerField(source="paginator.count")
    results = SegmentMemberSerializer(many=True, source="object_list")


class SegmentDetailSerializer(SegmentSerializer):
    """A segment of any run (not only the active one) with one page of its members."""

    run_is_active = serializers.BooleanField(source="run.is_active")
    members = serializers.SerializerMethodField()

    @extend_schema_field(MembersPageSerializer)
    def get_members(self, segment: Segment) -> dict[str, Any]:
        return MembersPageSerializer(self.context["members_page"]).data


class RunSerializer(serializers.Serializer):
    """run.to_dict() plus is_finished, which tells a poller when to stop."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    stage = serializers.CharField()
    progress = serializers.FloatField(help_text="0 to 1")
    params = serializers.JSONField()
    error = serializers.CharField()
    timings = serializers.DictField(child=serializers.FloatField(), help_text="seconds per stage")
    metrics = serializers.JSONField()
    is_active = serializers.BooleanField()
    is_finished = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, run: SegmentationRun) -> dict[str, Any]:
        return {**run.to_dict(), "is_finished": run.is_finished}


def run_int(name: str, help_text: str = "") -> serializers.IntegerField:
    low, high = PARAM_RANGES[name]
    return serializers.IntegerField(
        required=False, allow_null=True, min_value=low, max_value=high, help_text=help_text
    )


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "integer",
                "minimum": PARAM_RANGES["k"][0],
                "maximum": PARAM_RANGES["k"][1],
            },
            {"type": "string", "enum": ["auto"]},
        ],
        "nullable": True,
    }
)
class SegmentCountField(serializers.Field):
    """k: a number of segments, or 'auto' (a sweep from k_min to k_max)."""


class FeatureWeightsSerializer(serializers.Serializer):
    """A weight >= 0 per feature block; blocks left out keep their default weight."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            block: serializers.FloatField(required=False, min_value=0) for block in FEATURE_BLOCKS
        }


class RunParamsSerializer(serializers.Serializer):
    """Documents the POST body only: segments.params.RunParams does the validating."""

    k = SegmentCountField(required=False, help_text="an integer, or 'auto'")
    algorithm = serializers.ChoiceField(choices=ALGORITHMS, required=False, allow_null=True)
    recommender = serializers.ChoiceField(choices=RECOMMENDERS, required=False, allow_null=True)
    top_k = run_int("top_k", "list length stored per member")
    seed = run_int("seed")
    min_ratings = run_int("min_ratings", "fewer ratings: classified, not clustered")
    k_min = run_int("k_min", "smallest k of 'auto'")
    k_max = run_int("k_max", "largest k of 'auto'; at least k_min")
    feature_weights = FeatureWeightsSerializer(required=False, allow_null=True)
    serve = serializers.ChoiceField(
        choices=SERVE_CHOICES,
        required=False,
        allow_null=True,
        help_text="auto: served if not worse than the active run on validation; always; "
        "review: waits for Promote",
    )


class PageSerializer(serializers.Serializer):
    """One page of a list: its number, how many pages and rows there are, and the rows."""

    page = serializers.IntegerField(source="number")
    pages = serializers.IntegerField(source="paginator.num_pages")
    count = serializers.IntegerField(source="paginator.count")


class RunsPageSerializer(PageSerializer):
    results = RunSerializer(many=True, source="object_list")


class ItemSerializer(serializers.Serializer):
    item_id = serializers.CharField(source="external_id")
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()


class ItemsPageSerializer(PageSerializer):
    results = ItemSerializer(many=True, source="object_list")


class ApiRootSerializer(serializers.Serializer):
    endpoints = serializers.DictField(
        child=serializers.CharField(), help_text="what each endpoint does, by its path"
    )
    schema = serializers.CharField(help_text="the OpenAPI schema")
    docs = serializers.DictField(child=serializers.CharField(), help_text="Swagger UI and Redoc")
