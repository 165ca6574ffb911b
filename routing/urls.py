"""The customer's call-back page, under the signed-link prefix /c/<token>/ (DESIGN.md)."""

from django.urls import path

from . import views

app_name = "routing"

urlpatterns = [
    path("<str:token>/callback/", views.call_back_page, name="call-back"),
]
