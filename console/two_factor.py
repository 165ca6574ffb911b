"""Two-factor authentication for staff: TOTP through django-otp (docs/console.md,
"Two-factor authentication").

- `setup` (/admin/two-factor/setup/): a staff member adds an authenticator app. The page
  shows a QR code (and the key, for typing) of a new, unconfirmed TOTP device; the first
  code the app shows confirms it and verifies this session.
- `verify` (/admin/two-factor/verify/): after the password, a staff member with a
  confirmed device types the app's current code before any admin page opens.
- `RequireTwoFactor` (middleware, after django-otp's OTPMiddleware): sends a signed-in
  staff member with a device, not verified this session, to `verify`; and, when
  THROUGHLINE_REQUIRE_2FA_FOR_MANAGERS is on, a manager with no device to `setup`.
  Off by default (the demo); an agent may still choose to add a device.

Codes are checked by django-otp (`verify_token`: the current step, with the device's
tolerance, each code usable once); wrong codes are throttled by django-otp's own
exponential back-off.
"""

from __future__ import annotations

import base64
import re

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.access import next_url

SETUP, VERIFY = "console_two_factor_setup", "console_two_factor_verify"
DEVICE_NAME = "Authenticator app"
# What a signed-in staff member may open before the second factor: these pages, leaving,
# and the static files they use.
_OPEN_PREFIXES = ("/admin/two-factor/", "/admin/logout/", "/static/", "/admin/jsi18n/")


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not re.fullmatch(r"[0-9]{6,8}", code):  # ASCII digits only (not "²")
            raise forms.ValidationError("The code is the 6 digits your app shows.")
        return code


def is_manager(user) -> bool:
    return user.is_superuser or user.groups.filter(name="Managers").exists()


def required_for(user) -> bool:
    """Whether this user must have a second factor before using the admin."""
    return bool(getattr(settings, "THROUGHLINE_REQUIRE_2FA_FOR_MANAGERS", False)) and (
        is_manager(user)
    )


def _qr_svg(data: str) -> str:
    symbol = qrcode.QRCode(border=2, box_size=8)
    symbol.add_data(data)
    return symbol.make_image(qrcode.image.svg.SvgPathFillImage).to_string(encoding="unicode")


def pending_device(user) -> TOTPDevice:
    """The user's unconfirmed TOTP device (a new key), made once per setup."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@login_required(login_url="admin:login")
def setup(request):
    if not request.user.is_staff:
        return redirect("admin:login")
    device = pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(next_url(request))
        form.add_error("code", "That code is not the one your app shows now. Try the next one.")
    return render(
        request,
        "console/two_factor/setup.html",
        {
            "title": "Set up two-factor authentication",
            "form": form,
            "qr": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 (our own SVG, no input)
            "key": _base32(device.bin_key),
            "next": next_url(request),
            "required": required_for(request.user),
        },
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )


@login_required(login_url="admin:login")
def verify(request):
    devices = list(devices_for_user(request.user, confirmed=True))
    if not devices:
        return redirect(f"{reverse(SETUP)}?next={next_url(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            if device.verify_token(form.cleaned_data["code"]):
                otp_login(request, device)
                return redirect(next_url(request))
        form.add_error("code", "That code is not the one your app shows now.")
    return render(
        request,
        "console/two_factor/verify.html",
        {"title": "Two-factor authentication", "form": form, "next": next_url(request)},
        status=200 if request.method == "GET" else 400,
    )


def _base32(key: bytes) -> str:
    """The key as authenticator apps take it typed: base32, in groups of four."""
    text = base64.b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


urlpatterns = [
    path("setup/", setup, name=SETUP),
    path("verify/", verify, name=VERIFY),
]


def socket_allowed(user, session) -> bool:
    """The agent socket's check (console/consumers.py): what the middleware asks of a page.
    A user with a confirmed device needs a session verified with one of hers; one who must
    have a device (managers, when required) and has none is refused."""
    if user is None or not user.is_authenticated:
        return False
    if user_has_device(user, confirmed=True):
        persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
        device = Device.from_persistent_id(persistent_id) if persistent_id else None
        return device is not None and device.user_id == user.pk and device.confirmed
    return not required_for(user)


class RequireTwoFactor:
    """After OTPMiddleware: the admin asks signed-in staff for their second factor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path_ = request.path
        # the path first: a webhook or an API call never loads its (lazy) user here
        if not path_.startswith("/admin/") or path_.startswith(_OPEN_PREFIXES):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff and not user.is_verified():
            target = f"?next={request.get_full_path()}"
            if user_has_device(user, confirmed=True):
                return redirect(reverse(VERIFY) + target)
            if required_for(user):
                return redirect(reverse(SETUP) + target)
        return self.get_response(request)
