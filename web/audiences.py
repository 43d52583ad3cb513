"""The admin's Audiences page: whom to target with an item, a genre or any item attribute,
as a ranked table with the segment breakdown, and the same as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse

from segments.services.audiences import AudienceError, AudienceReport, audience_build
from web.access import MEMBER_DATA
from web.forms import AudienceForm

CSV_COLUMNS = ("rank", "member_id", "score", "segment", "segment_label")


def audiences_view(
    request: HttpRequest, admin_context: dict[str, Any]
) -> HttpResponse | StreamingHttpResponse:
    if not request.user.has_perms(MEMBER_DATA):
        raise PermissionDenied
    form = AudienceForm(request.GET or None)
    report = None
    if request.GET and form.is_valid():
        try:
            report = audience_build(form.to_query())
        except AudienceError as exc:
            form.add_query_error(exc)
        else:
            if request.GET.get("format") == "csv":
                return audience_csv(report)
    context = {**admin_context, "title": "Audiences", "form": form, "report": report}
    return TemplateResponse(request, "admin/segments/audiences.html", context)


def audience_csv(report: AudienceReport) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_lines(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audience.csv"'
    return response


def _lines(report: AudienceReport) -> Iterator[str]:
    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    yield writer.writerow(CSV_COLUMNS)
    for m in report.members:
        number = "" if m.segment_number is None else m.segment_number
        yield writer.writerow((m.rank, m.member_id, m.score, number, m.segment_label))
