from django.urls import path

from web import views

app_name = "segments"

urlpatterns = [
    path("", views.home, name="home"),
    path("members/<str:external_id>/", views.member_detail, name="member"),
    path("segments/<int:pk>/", views.segment_detail, name="segment"),
]
