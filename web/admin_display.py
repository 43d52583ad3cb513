"""How the admin shows stored JSON: tables with titles, stars and links, not pks and dumps."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from catalog.models import Item


def stars(value: float) -> str:
    """A rating as five stars, e.g. 3.5 -> "★★★½☆" (the number is shown beside it)."""
    full = int(value)
    half = value - full >= 0.5
    return "★" * full + ("½" if half else "") + "☆" * (5 - full - int(half))


def list_entries_table(entries: list[list[Any]]) -> SafeString:
    """A stored list ([item pk, score, reason] each) as rank, linked title, score, reason."""
    if not entries:
        return format_html("<p>{}</p>", "No entries.")
    items = Item.objects.in_bulk([int(entry[0]) for entry in entries])
    rows = []
    for rank, (pk, score, reason) in enumerate(entries, 1):
        item = items.get(int(pk))
        title = (
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:catalog_item_change", args=[item.pk]),
                item.display_title,
            )
            if item
            else format_html("{}", f"item {pk} (deleted)")
        )
        rows.append((rank, title, f"{float(score):.4f}", reason))
    body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        "<table><thead><tr><th>#</th><th>item</th><th>score</th><th>why</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        body,
    )


def _percent(value: Any) -> str:
    return f"{float(value):.1%}" if isinstance(value, int | float) else "-"


def trait_table(rows: list[dict[str, Any]], *, name: str) -> SafeString:
    """Genre, demographic or item rows of a segment summary with their evidence."""
    if not rows:
        return format_html("<p>{}</p>", "None stands out.")
    cells = [
        (
            row.get("title") or row.get("name") or f"{row.get('field')}: {row.get('value')}",
            _percent(row.get("share")),
            _percent(row.get("population_share")),
            f"×{row['lift']:.2f}" if isinstance(row.get("lift"), int | float) else "-",
            row.get("support", "-"),
            row.get("basis", "-"),
        )
        for row in rows
    ]
    body = format_html_join("", "<tr>" + "<td>{}</td>" * 6 + "</tr>", cells)
    return format_html(
        "<table><thead><tr><th>{}</th><th>in the segment</th><th>among all</th><th>lift</th>"
        "<th>support</th><th>basis</th></tr></thead><tbody>{}</tbody></table>",
        name,
        body,
    )


def segment_summary_tables(summary: dict[str, Any]) -> SafeString:
    parts = [
        format_html("<p>{}</p>", summary.get("description", "")),
        format_html(
            "<h4>{}</h4>{}", "Genres", trait_table(summary.get("genres", []), name="genre")
        ),
        format_html(
            "<h4>{}</h4>{}",
            "Demographics",
            trait_table(summary.get("demographics", []), name="trait"),
        ),
        format_html(
            "<h4>{}</h4>{}", "Distinctive items", trait_table(summary.get("items", []), name="item")
        ),
    ]
    return format_html("{}" * len(parts), *parts)


def key_value_table(data: dict[str, Any], *, skip: tuple[str, ...] = ()) -> SafeString:
    """A JSON object as a two-column table; nested objects become nested tables."""
    if not data:
        return format_html("{}", "-")
    rows = [(key, _cell(value, skip)) for key, value in data.items() if key not in skip]
    body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    return format_html("<table>{}</table>", body)


def _cell(value: Any, skip: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return key_value_table(value, skip=skip)
    if isinstance(value, list) and len(value) > 12:
        return f"{len(value)} values: {', '.join(map(str, value[:12]))}, …"
    if isinstance(value, float):
        return f"{value:.4g}"
    return value if not isinstance(value, list) else ", ".join(map(str, value))
