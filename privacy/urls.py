"""The customer's own pages of this app, under `/c/<signed token>/`."""

from django.urls import path

from . import views

urlpatterns = [
    path("<str:token>/preferences/", views.preferences, name="privacy_preferences"),
]
