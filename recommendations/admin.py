from __future__ import annotations

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from recommendations.models import RecommendationList


@admin.register(RecommendationList)
class RecommendationListAdmin(admin.ModelAdmin):
    """Written only by the pipeline: one row per member and run, so view-only and raw ids."""

    list_display = ("id", "member", "run", "length")
    list_filter = ("run",)
    list_select_related = ("member", "run")
    raw_id_fields = ("run", "member")
    search_fields = ("=member__external_id",)
    search_help_text = "Exact member external id."
    show_full_result_count = False
    fields = ("run", "member", "entries_pretty")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="entries")
    def length(self, rec_list: RecommendationList) -> int:
        return len(rec_list.entries)

    @admin.display(description="entries [item pk, score, reason]")
    def entries_pretty(self, rec_list: RecommendationList) -> str:
        return format_html("<pre>{}</pre>", json.dumps(rec_list.entries, indent=1))
