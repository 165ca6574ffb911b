"""Retention: old bodies, media, recordings and transcripts are redacted; events stay."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Event, Outbox
from privacy.retention import redact_expired
from tests.privacy.conftest import build_history

pytestmark = pytest.mark.django_db


def test_the_sweep_redacts_what_is_older_than_the_setting_and_keeps_the_events(
    settings, sent_and_deleted
):
    settings.PRIVACY_RETENTION_DAYS = 30
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        old = build_history()
    new = build_history(name="Nora New", phone="+14155550188", visitor="v_nora", tag="Fresh")
    events = Event.objects.count()
    assert redact_expired(batch_size=2) == 4  # two batches and a last, short one
    assert Event.objects.count() == events
    redacted = old.customer.conversation.events.filter(data__redacted=True)
    assert set(redacted.values_list("kind", flat=True)) == {"message", "call"}
    for event in redacted:
        assert event.body == ""
        assert not {"media", "recording_url", "transcript"} & set(event.data)
    assert Outbox.objects.get(event__conversation=old.customer.conversation).body == ""
    assert not new.customer.conversation.events.filter(data__redacted=True).exists()
    assert "Fresh Lane" in Outbox.objects.get(event__conversation=new.customer.conversation).body
    assert redact_expired() == 0  # nothing left: the next sweep finds nothing


def test_zero_keeps_everything(settings, history):
    settings.PRIVACY_RETENTION_DAYS = 0
    with time_machine.travel(timezone.now() + timedelta(days=3650)):
        assert redact_expired() == 0
