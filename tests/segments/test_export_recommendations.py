"""export_recommendations: the CSV a downstream system imports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from segments.models import Membership, RecommendationList
from tests.support.factories import make_run, make_world

pytestmark = pytest.mark.django_db


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_writes_every_members_top_k_with_external_ids(tmp_path: Path) -> None:
    world = make_world(n_members=4, n_items=8)
    out = tmp_path / "recs.csv"

    call_command("export_recommendations", str(out), "--k", "3")

    header = out.read_text().splitlines()[0]
    assert header == "member_id,rank,item_id,score,segment,reason"
    rows = read(out)
    assert len(rows) == 4 * 3
    item_ids = {item.pk: item.external_id for item in world.items}
    for member in world.members:
        mine = [row for row in rows if row["member_id"] == member.external_id]
        assert [row["rank"] for row in mine] == ["1", "2", "3"]
        entries = RecommendationList.objects.get(run=world.run, member=member).entries
        assert [row["item_id"] for row in mine] == [item_ids[e[0]] for e in entries[:3]]
        assert [float(row["score"]) for row in mine] == [e[1] for e in entries[:3]]
        assert [row["reason"] for row in mine] == [e[2] for e in entries[:3]]
        segment = Membership.objects.get(run=world.run, member=member).segment.number
        assert {row["segment"] for row in mine} == {str(segment)}


def test_export_of_a_given_run_and_a_missing_one(tmp_path: Path) -> None:
    world = make_world(n_members=2, n_items=6)
    newer = make_run(active=False)
    out = tmp_path / "recs.csv"

    call_command("export_recommendations", str(out), "--run", str(world.run.pk))
    assert len(read(out)) == 2 * 5  # the factory's lists hold five items

    call_command("export_recommendations", str(out), "--run", str(newer.pk))
    assert read(out) == []
    with pytest.raises(CommandError, match="no run 999999"):
        call_command("export_recommendations", str(out), "--run", "999999")
