"""Comparing two runs: the service, the API endpoint and the admin page."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Member
from segments.models import Membership, Segment, SegmentationRun
from segments.services.comparison import runs_compare
from tests.support.factories import World, make_members, make_run, make_user, make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db


def make_labelled_run(
    members: list[Member], numbers: list[int], labels: dict[int, str]
) -> SegmentationRun:
    """A finished, inactive run putting ``members[i]`` in segment ``numbers[i]``."""
    run = make_run(active=False)
    segments = {
        n: Segment.objects.create(run=run, number=n, label=label, size=numbers.count(n))
        for n, label in labels.items()
    }
    Membership.objects.bulk_create(
        Membership(run=run, member=member, segment=segments[n])
        for member, n in zip(members, numbers, strict=True)
    )
    return run


@pytest.fixture
def world() -> World:
    return make_world(n_members=6)


def test_identical_runs_with_relabelled_segments_agree_fully(world: World) -> None:
    # The world's run puts even members in 0 ("Sci-Fi fans"), odd ones in 1; this one swaps.
    swapped = make_labelled_run(world.members, [1, 0] * 3, {0: "Night owls", 1: "Early birds"})
    result = runs_compare(run_a=world.run, run_b=swapped)
    assert result["ari"] == pytest.approx(1.0)
    assert result["n_common"] == 6
    assert result["rows"] == [
        {"number": 0, "label": "Sci-Fi fans"},
        {"number": 1, "label": "Comedy fans"},
    ]
    assert result["cols"] == [
        {"number": 0, "label": "Night owls"},
        {"number": 1, "label": "Early birds"},
    ]
    assert result["matrix"] == [[0, 3], [3, 0]]


def test_migration_matrix_counts_members_in_both_runs() -> None:
    members = make_members(7)
    run_a = make_labelled_run(members[:6], [0, 0, 0, 1, 1, 1], {0: "A0", 1: "A1"})
    # m6 is only in run B and m5 only in run A: neither is counted.
    run_b = make_labelled_run(
        members[:5] + members[6:], [0, 0, 2, 2, 1, 0], {0: "B0", 1: "B1", 2: "B2"}
    )
    result = runs_compare(run_a=run_a, run_b=run_b)
    assert result["n_common"] == 5
    assert [c["label"] for c in result["cols"]] == ["B0", "B1", "B2"]
    assert result["matrix"] == [[2, 0, 1], [0, 1, 1]]
    assert result["ari"] < 1


def test_api_compare_shape_and_errors(client: Client, world: World) -> None:
    client.force_login(make_reader())
    other = make_labelled_run(world.members, [0, 0, 0, 1, 1, 1], {0: "Old", 1: "Young"})
    response = client.get(f"/api/runs/{world.run.pk}/compare/{other.pk}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"run_a", "run_b", "ari", "n_common", "rows", "cols", "matrix"}
    assert (body["run_a"], body["run_b"], body["n_common"]) == (world.run.pk, other.pk, 6)
    assert body["cols"][1] == {"number": 1, "label": "Young"}
    assert body["matrix"] == [[2, 1], [1, 2]]
    missing = client.get(f"/api/runs/{world.run.pk}/compare/999999")
    assert missing.status_code == 404
    assert missing.json()["error"] == "Unknown run 999999."


def test_admin_compare_page_shows_ari_and_labelled_matrix(client: Client, world: World) -> None:
    client.force_login(make_user("root", staff=True))
    other = make_labelled_run(world.members, [1, 0] * 3, {0: "Night owls", 1: "Early birds"})
    change = client.get(f"/admin/segments/segmentationrun/{world.run.pk}/change/").content.decode()
    assert f'action="/admin/segments/segmentationrun/{world.run.pk}/compare/"' in change
    assert f'<option value="{other.pk}"' in change
    url = f"/admin/segments/segmentationrun/{world.run.pk}/compare/?with={other.pk}"
    page = client.get(url).content.decode()
    assert "Adjusted Rand index <strong>1.000</strong>" in page
    assert "<th>1: Early birds</th>" in page and "<th>0: Sci-Fi fans</th>" in page
    assert page.count(">3</td>") == 2 + 2  # two moved cells and two row totals


def test_admin_compare_page_with_an_unknown_run_says_so(client: Client, world: World) -> None:
    client.force_login(make_user("root", staff=True))
    page = client.get(f"/admin/segments/segmentationrun/{world.run.pk}/compare/?with=999")
    assert page.status_code == 200
    assert "There is no run 999." in page.content.decode()
