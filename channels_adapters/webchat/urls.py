"""Widget pages and script: /widget.js, the widget's JSON endpoints, /widget/demo/."""

from django.urls import path

from . import email_form, views

app_name = "webchat"

urlpatterns = [
    path("widget.js", views.widget_js, name="widget-js"),
    path("widget/session", views.session, name="session"),
    path("widget/identify", views.identify, name="identify"),
    path("widget/track", views.track, name="track"),
    path("widget/phone/start", views.phone_start, name="phone-start"),
    path("widget/phone/confirm", views.phone_confirm, name="phone-confirm"),
    path("widget/stop", views.stop_messages, name="stop"),
    path("widget/email", email_form.email_form, name="email-form"),  # docs/email.md
    path("widget/demo/", views.demo_home, name="demo"),
    path("widget/demo/products/<slug:slug>/", views.demo_product, name="demo-product"),
]
