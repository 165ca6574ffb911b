"""The split and possible duplicates pages, mounted at /admin/merges/ (config/urls.py):
behind the admin's login like the rest of the console."""

from django.contrib import admin
from django.urls import path

from . import split_views

urlpatterns = [
    path("split/<int:event_id>/", admin.site.admin_view(split_views.split), name="console_split"),
    path(
        "duplicates/",
        admin.site.admin_view(split_views.possible_duplicates),
        name="console_possible_duplicates",
    ),
]
