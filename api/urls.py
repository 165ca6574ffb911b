"""/api/: the REST API (v1), its OpenAPI document (generated) and its docs page."""

from django.urls import path, re_path

from . import docs
from .views import api

app_name = "api"
urlpatterns = [
    *docs.json_405(api.urls[0]),
    path("docs/", docs.page, name="docs"),
    re_path(r"^", docs.not_found),  # anything else under /api/ answers in the API's shape
]
