"""/api/: the REST API (v1), its OpenAPI schema and its docs page."""

from django.urls import path

from . import views

app_name = "api"
urlpatterns = [
    path("v1/events", views.events, name="events"),
    path("v1/customers/<str:ref>", views.customer, name="customer"),
    path("v1/customers/<str:ref>/timeline", views.timeline, name="timeline"),
    path("v1/messages", views.messages, name="messages"),
    path("schema/", views.schema, name="schema"),
    path("docs/", views.docs, name="docs"),
]
