from __future__ import annotations

import pytest
from django.test import Client

from segments.models import Membership, SegmentationRun
from tests.support.factories import World, make_run, make_segments, make_world
from tests.support.roles import make_reader

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world(n_members=60)


@pytest.fixture
def user_client(client: Client) -> Client:
    client.force_login(make_reader())
    return client


@pytest.mark.parametrize("url", ["/", "/members/m0/", "/segments/1/"])
def test_anonymous_is_sent_to_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_login_page_renders(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_home_shows_active_run_and_its_segments(user_client: Client, world: World) -> None:
    page = user_client.get("/").content.decode()
    assert f"Active run {world.run.pk}" in page
    assert "kmeans" in page
    assert "0.312" in page  # silhouette, with its meaning
    assert "EVALUATION.NDCG" not in page.upper()  # no raw metric keys any more
    assert f'href="/segments/{world.segments[1].pk}/"' in page
    assert "Comedy fans" in page
    assert "50.0%" in page


def test_home_and_segment_page_show_the_runs_stability(user_client: Client, world: World) -> None:
    metrics = {**world.run.metrics, "stability_ari": {"mean": 0.875, "std": 0.0625, "scores": []}}
    SegmentationRun.objects.filter(pk=world.run.pk).update(metrics=metrics)
    for url in ("/", f"/segments/{world.segments[0].pk}/"):
        page = user_client.get(url).content.decode()
        quality = page[page.index('id="run-quality"') :]
        assert "Stability (ARI)" in quality and "0.875 ± 0.062" in quality
        assert "Silhouette" in quality and "0.312" in quality


def test_home_without_a_run_says_so(user_client: Client) -> None:
    assert "No segmentation has finished yet" in user_client.get("/").content.decode()


def test_member_lookup_redirects_or_explains(user_client: Client, world: World) -> None:
    found = user_client.get("/?member=m3")
    assert found.status_code == 302
    assert found["Location"] == "/members/m3/"
    missing = user_client.get("/?member=zz")
    assert "No member with id “zz”" in missing.content.decode()


def test_member_page_shows_profile_segment_ratings_and_reasons(
    user_client: Client, world: World, django_assert_max_num_queries
) -> None:
    # 11: two of them read the account's permissions (user's and its groups').
    with django_assert_max_num_queries(11):
        response = user_client.get("/members/m1/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "engineer" in page
    assert "Comedy fans" in page
    assert "assigned by a classifier" in page  # m1 was classified, not clustered
    assert "Movie 0 (1980)" in page  # a recommendation with its year
    assert "popular with Movie 3 fans #3" in page  # its reason
    assert page.count('<span class="tag">') >= 10  # genres of 5 recommendations
    assert "2020-01-" in page  # rating dates


def test_member_page_404_for_unknown_member(user_client: Client, world: World) -> None:
    assert user_client.get("/members/nobody/").status_code == 404


def test_segment_page_shows_lifts_and_members(user_client: Client, world: World) -> None:
    segment = world.segments[0]
    first = user_client.get(f"/segments/{segment.pk}/").content.decode()
    assert "Sci-Fi fans" in first
    assert "Members who love Sci-Fi films" in first
    assert "2.5" in first and "60.0%" in first and "24.0%" in first  # genre lift and shares
    assert "age: 25-34" in first
    assert "Movie 0 (1980)" in first  # distinctive item
    assert "Page 1 of 1" not in first
    assert first.count('href="/members/') == 30
    assert "not the active run" not in first


def test_segment_of_an_old_run_says_so(user_client: Client, world: World) -> None:
    old = make_run(active=False)
    segment = make_segments(old, world.members, world.items)[1]
    page = user_client.get(f"/segments/{segment.pk}/").content.decode()
    assert "Comedy fans" in page
    assert "not the active run" in page


def test_segment_page_past_the_end_is_404(user_client: Client, world: World) -> None:
    assert user_client.get(f"/segments/{world.segments[0].pk}/?page=9").status_code == 404


def test_segment_members_are_paginated_50_a_page(user_client: Client) -> None:
    world = make_world(n_members=110, n_items=4)
    segment = world.segments[0]
    assert Membership.objects.filter(segment=segment).count() == 55
    second = user_client.get(f"/segments/{segment.pk}/?page=2").content.decode()
    assert "Page 2 of 2" in second
    assert second.count('href="/members/') == 5
