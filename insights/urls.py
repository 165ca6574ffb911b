"""The Insights section, mounted at /admin/insights/ (config/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="insights_dashboard"),
    path("<slug:key>.csv", views.figure_csv, name="insights_figure_csv"),
]
