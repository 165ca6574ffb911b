"""Public URLs (DESIGN.md, "Channels"): stable, pasted into the Twilio console and shops."""

from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from operations import health, metrics


def favicon(request):
    """Browsers ask every site for /favicon.ico when a page names no icon (the admin's
    pages name none): send them to the static one rather than answer 404 each time.
    Not permanent: the static name changes with its content in production."""
    return redirect(static("console/favicon.svg"))


urlpatterns = [
    path("admin/insights/", include("insights.urls")),  # managers' figures, before the admin
    path("admin/merges/", include("console.split_urls")),  # split a merge; possible duplicates
    path("admin/two-factor/", include("console.two_factor")),  # TOTP setup and verify
    path("admin/", admin.site.urls),
    path("hooks/twilio/sms/", include("channels_adapters.sms.urls")),
    path("hooks/twilio/whatsapp/", include("channels_adapters.whatsapp.urls")),
    path("hooks/twilio/voice/", include("channels_adapters.voice.urls")),
    path("hooks/email/", include("channels_adapters.email.urls")),  # Postmark, Mailgun
    path("email/", include("channels_adapters.email.file_urls")),  # staff downloads
    path("api/", include("api.urls")),
    path("s/", include("instore.urls")),  # in-store QR labels: /s/<code>/, its QR images
    path("c/", include("routing.urls")),  # the customer's call-back page: /c/<token>/callback/
    path("c/", include("privacy.urls")),  # the customer's preferences: /c/<token>/preferences/
    path("", include("channels_adapters.webchat.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),  # Prometheus, with METRICS_TOKEN
    path("favicon.ico", favicon, name="favicon"),
]
