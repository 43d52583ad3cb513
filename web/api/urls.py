from django.urls import path

from web.api import views
from web.api.audiences import AudienceView

app_name = "api"

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="root"),
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
    path("items", views.ItemListView.as_view(), name="item-list"),
    path("audiences", AudienceView.as_view(), name="audiences"),
    path("items/<str:item_id>", views.ItemDetailView.as_view(), name="item-detail"),
    path("runs", views.RunsView.as_view(), name="runs"),
    path("runs/<int:run_id>", views.RunDetailView.as_view(), name="run-detail"),
    path(
        "runs/<int:run_id>/compare/<int:other_id>",
        views.RunCompareView.as_view(),
        name="run-compare",
    ),
    path("schema", views.SchemaView.as_view(), name="schema"),
    path("docs", views.SwaggerView.as_view(), name="swagger"),
    path("redoc", views.RedocView.as_view(), name="redoc"),
]
