"""A data scientist's first hour, in a real browser against the real app, database, broker
and worker: sign in, start a run, watch it progress, review, promote and roll back, read a
member's and a segment's page, download the segments. Screenshots go to var/screenshots/."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Member
from segments.models import RunStatus, Segment, SegmentationRun
from tests.support.slices import write_slice

pytestmark = pytest.mark.services
PASSWORD = "a long demo password"


@pytest.fixture
def workbench(ml100k_dir: Path, tmp_path: Path, celery_worker: None, live_server) -> str:  # type: ignore[no-untyped-def]
    call_command("import_movielens", str(write_slice(ml100k_dir, tmp_path / "slice")))
    get_user_model().objects.create_superuser("analyst", password=PASSWORD)
    return str(live_server.url)


def sign_in(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def start_run(page, base: str, **fields: str) -> int:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/admin/segments/segmentationrun/run/")
    page.fill("#id_k", fields.get("k", "3"))
    page.fill("#id_top_k", "10")
    if "serve" in fields:
        page.select_option("#id_serve", fields["serve"])
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/segments/segmentationrun/*/change/")
    return int(page.url.rstrip("/").split("/")[-2])


def watch_until_finished(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The progress line as the page shows it, every half second, until the run ends."""
    seen: list[str] = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        summary = page.locator("#run-progress-summary").inner_text()
        if not seen or seen[-1] != summary:
            seen.append(summary)
        if summary.startswith(("succeeded", "failed", "cancelled")):
            return seen
        page.wait_for_timeout(500)
    raise AssertionError(f"the run did not finish; the page said {seen}")


def test_sign_in_run_watch_review_promote_roll_back_and_read(page, workbench, screenshot) -> None:  # type: ignore[no-untyped-def]
    base = workbench
    sign_in(page, base)
    screenshot(page, "01-admin-index")

    first = start_run(page, base)
    screenshot(page, "02-run-queued-or-running")
    seen = watch_until_finished(page)
    assert seen[-1].startswith("succeeded"), seen
    assert any(s.startswith(("queued", "running")) for s in seen[:-1]), seen
    page.wait_for_selector("text=This run is served")
    screenshot(page, "03-run-report")
    assert SegmentationRun.objects.get(pk=first).is_active

    second = start_run(page, base, k="4", serve="review")
    watch_until_finished(page)
    page.wait_for_selector("text=Not served.")
    assert "waiting for review" in page.content()
    screenshot(page, "04-run-waiting-for-review")
    page.click("input[value='Promote: serve this run']")
    page.wait_for_selector("text=This run is served")
    assert SegmentationRun.objects.get(is_active=True).pk == second
    page.click(f"input[value='Roll back to run {first}']")
    page.wait_for_url(f"**/admin/segments/segmentationrun/{first}/change/")
    page.wait_for_selector("text=This run is served")
    assert SegmentationRun.objects.get(is_active=True).pk == first
    screenshot(page, "05-rolled-back")

    page.goto(f"{base}/admin/segments/segmentationrun/")
    assert page.locator("#result_list").inner_text().count("succeeded") >= 2
    screenshot(page, "06-runs-list")

    member = Member.objects.order_by("id").first()
    page.goto(f"{base}/members/{member.external_id}/")
    assert member.external_id in page.inner_text("body")
    screenshot(page, "07-member")
    segment = Segment.objects.filter(run_id=first).order_by("number").first()
    page.goto(f"{base}/segments/{segment.pk}/")
    assert segment.label in page.inner_text("body")
    screenshot(page, "08-segment")
    page.goto(f"{base}/")
    screenshot(page, "09-home")

    page.goto(f"{base}/admin/segments/segmentationrun/{first}/change/")
    with page.expect_download() as download:
        page.click("text=Download segments CSV")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == Member.objects.count() + 1  # a header and a line per member
    assert SegmentationRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 2
