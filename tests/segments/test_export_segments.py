"""Exporting a run's segments: the command and the admin download write the same CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.support.factories import World, make_run, make_segments, make_user, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world(n_members=7)


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(make_user("root", staff=True))
    return client


def export(path: Path, *args: str) -> str:
    call_command("export_segments", str(path), *args, stdout=io.StringIO())
    return path.read_text(encoding="utf-8")


def test_command_writes_one_row_per_member_with_labels(tmp_path: Path, world: World) -> None:
    rows = list(csv.reader(io.StringIO(export(tmp_path / "out.csv"))))
    assert rows[0] == ["member_id", "segment", "label", "confidence"]
    assert len(rows) == 1 + 7
    assert [row[0] for row in rows[1:]] == [f"m{i}" for i in range(7)]
    assert rows[1] == ["m0", "0", "Sci-Fi fans", "0.9"]
    assert rows[2] == ["m1", "1", "Comedy fans", "0.899"]


def test_command_exports_another_run_when_asked(tmp_path: Path, world: World) -> None:
    old = make_run(active=False)
    make_segments(old, world.members[:3], world.items)
    rows = list(csv.reader(io.StringIO(export(tmp_path / "old.csv", "--run", str(old.pk)))))
    assert [row[0] for row in rows[1:]] == ["m0", "m1", "m2"]


def test_command_without_a_run_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no active run"):
        export(tmp_path / "out.csv")
    with pytest.raises(CommandError, match="no run 999"):
        export(tmp_path / "out.csv", "--run", "999")


def test_admin_download_is_the_commands_csv(
    tmp_path: Path, world: World, admin_client: Client
) -> None:
    expected = export(tmp_path / "out.csv")
    response = admin_client.get(f"/admin/segments/segmentationrun/{world.run.pk}/segments.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="run-{world.run.pk}-segments.csv"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).decode() == expected


def test_admin_action_downloads_exactly_one_run(
    tmp_path: Path, world: World, admin_client: Client
) -> None:
    expected = export(tmp_path / "out.csv")
    url = "/admin/segments/segmentationrun/"
    one = admin_client.post(
        url, {"action": "download_segments", "_selected_action": [world.run.pk]}
    )
    assert b"".join(one.streaming_content).decode() == expected
    two_runs = [world.run.pk, make_run(active=False).pk]
    two = admin_client.post(
        url, {"action": "download_segments", "_selected_action": two_runs}, follow=True
    )
    assert "Select exactly one run to download." in two.content.decode()


def test_run_page_links_the_download(world: World, admin_client: Client) -> None:
    page = admin_client.get(f"/admin/segments/segmentationrun/{world.run.pk}/change/")
    assert f'href="/admin/segments/segmentationrun/{world.run.pk}/segments.csv"' in (
        page.content.decode()
    )


def test_download_is_staff_only(client: Client, world: World) -> None:
    client.force_login(make_user())
    response = client.get(f"/admin/segments/segmentationrun/{world.run.pk}/segments.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_download_of_an_unknown_run_is_404(admin_client: Client) -> None:
    assert admin_client.get("/admin/segments/segmentationrun/999/segments.csv").status_code == 404
