"""Public URLs of the in-store labels, under /s/ (DESIGN.md, "Channels")."""

from django.urls import path

from . import views

app_name = "instore"

urlpatterns = [
    path("<str:code>/", views.landing, name="landing"),
    path("<str:code>/scan", views.scan, name="scan"),
    path("<str:code>/consent", views.consent_box, name="consent"),
    path("<str:code>/qr.svg", views.qr_svg, name="qr-svg"),
    path("<str:code>/qr.png", views.qr_png, name="qr-png"),
]
