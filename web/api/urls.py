from django.urls import path

from web.api import views

app_name = "api"

urlpatterns = [
    path("members", views.MemberCreateView.as_view(), name="member-create"),
    path("members/<str:member_id>", views.MemberDetailView.as_view(), name="member-detail"),
    path("members/<str:member_id>/place", views.MemberPlaceView.as_view(), name="member-place"),
    path(
        "members/<str:member_id>/recommendations",
        views.MemberRecommendationsView.as_view(),
        name="member-recommendations",
    ),
    path("segments", views.SegmentListView.as_view(), name="segment-list"),
    path("segments/<int:segment_id>", views.SegmentDetailView.as_view(), name="segment-detail"),
    path("runs", views.RunCreateView.as_view(), name="run-create"),
    path("runs/<int:run_id>", views.RunDetailView.as_view(), name="run-detail"),
    path(
        "runs/<int:run_id>/compare/<int:other_id>",
        views.RunCompareView.as_view(),
        name="run-compare",
    ),
    path("schema", views.SchemaView.as_view(), name="schema"),
]
