"""The admin's small things: the index names every model in good English, and the site
has an icon (no 404 for the /favicon.ico that browsers ask for)."""

import re

import pytest
from django.contrib import admin

# What Django's default plural (the name plus "s") gets wrong: "watchs", "boxs", "categorys".
NAIVE_PLURAL = re.compile(r"(?:[sxz]|ch|sh|[^aeiou]y)s$")


@pytest.mark.parametrize(("plural", "wrong"), [("watchs", True), ("boxs", True),
    ("categorys", True), ("watches", False), ("stores", False), ("days", False),
    ("customer data (export, erasure)", False)])  # fmt: skip
def test_the_plural_check_catches_a_naive_plural(plural, wrong):
    assert bool(NAIVE_PLURAL.search(plural)) is wrong


def test_every_model_in_the_admin_index_has_a_proper_plural():
    plurals = {
        model._meta.label: str(model._meta.verbose_name_plural) for model in admin.site._registry
    }

    assert [label for label, plural in plurals.items() if NAIVE_PLURAL.search(plural)] == []
    assert plurals["engagement.Watch"] == "watches"


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico", follow=True)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)
