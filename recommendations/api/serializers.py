"""Output shapes of the API (they also describe it in the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from segments.models import Segment, SegmentationRun
from segments.params import ALGORITHMS, FEATURE_BLOCKS, RECOMMENDERS


class MemberSegmentSerializer(serializers.Serializer):
    """A member's segment in the active run and how they got it."""

    id = serializers.IntegerField(source="segment.id")
    number = serializers.IntegerField(source="segment.number")
    label = serializers.CharField(source="segment.label")
    confidence = serializers.FloatField()
    source = serializers.CharField(help_text="clustered, classified or noise")


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


class RecommendationSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    item_id = serializers.CharField(source="item.external_id")
    title = serializers.CharField(source="item.title")
    year = serializers.IntegerField(source="item.year", allow_null=True)
    genres = serializers.ListField(source="item.genres", child=serializers.CharField())
    score = serializers.FloatField()
    reason = serializers.CharField()


class MemberRecommendationsSerializer(serializers.Serializer):
    member_id = serializers.CharField(source="member.external_id")
    run = serializers.IntegerField(source="run.pk")
    segment = MemberSegmentSerializer(source="membership", allow_null=True)
    items = RecommendationSerializer(many=True)


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    number = serializers.IntegerField()
    label = serializers.CharField()
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
    source = serializers.CharField()


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


class RunParamsSerializer(serializers.Serializer):
    """Documents the POST body only: segments.params.RunParams does the validating."""

    k = serializers.CharField(required=False, help_text="an integer, or 'auto'")
    algorithm = serializers.ChoiceField(choices=ALGORITHMS, required=False)
    recommender = serializers.ChoiceField(choices=RECOMMENDERS, required=False)
    top_k = serializers.IntegerField(required=False)
    seed = serializers.IntegerField(required=False)
    min_ratings = serializers.IntegerField(required=False)
    k_min = serializers.IntegerField(required=False)
    k_max = serializers.IntegerField(required=False)
    feature_weights = serializers.DictField(
        child=serializers.FloatField(), required=False, help_text=", ".join(FEATURE_BLOCKS)
    )
