"""Staff downloads of what customers emailed (files.py)."""

from django.urls import path

from . import files

app_name = "email_files"
urlpatterns = [
    path("<int:pk>/original.eml", files.original, name="original"),
    path("attachment/<int:pk>/", files.attachment, name="attachment"),
]
