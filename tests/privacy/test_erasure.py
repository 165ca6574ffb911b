"""Erasure: no personal value of the customer is left in any table, Twilio is asked to
delete what it holds, the figures' rows stay, and a second erasure changes nothing."""

import pytest
from django.core.management import call_command
from django.db import connection

from commerce.models import Order
from conversations.models import Case, Event
from privacy.erasure import erase_customer
from privacy.models import Erasure
from tests.fakes.twilio_server import FakeTwilio
from tests.privacy.conftest import MEDIA_SID, MESSAGE_SID, RECORDING_SID, build_history

pytestmark = pytest.mark.django_db


def database_holding(values: list[str]) -> dict[str, list[str]]:
    """Every (table.column) of every table whose text or JSON holds one of the values."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = current_schema()
                AND data_type IN ('text', 'character varying', 'json', 'jsonb')"""
        )
        columns = cursor.fetchall()
        patterns = [f"%{value}%" for value in values]
        found: dict[str, list[str]] = {}
        for table, column in columns:
            cursor.execute(
                f'SELECT "{column}"::text FROM "{table}" WHERE "{column}"::text ILIKE ANY(%s)',  # noqa: S608 (no input in the SQL)
                [patterns],
            )
            for (text,) in cursor.fetchall():
                hits = [v for v in values if v.lower() in text.lower()]
                found.setdefault(f"{table}.{column}", []).extend(hits)
    return found


def test_after_erasure_no_personal_value_is_found_anywhere(history, agent, sent_and_deleted):
    # given a control customer, whose data must survive
    other = build_history(
        name="Otto Unrelated", phone="+14155550999", visitor="v_otto_keep", tag="Ottoway"
    )
    assert set(database_holding(history.personal)) >= {
        "conversations_customer.display_name",
        "conversations_identity.value",
        "conversations_event.body",
        "conversations_event.data",
        "conversations_outbox.body",
        "instore_scan.visitor_id",
    }
    # when
    report = erase_customer(history.customer, by=agent)
    # then
    assert database_holding(history.personal) == {}
    assert set(database_holding(["Otto Unrelated", "+14155550999", "v_otto_keep", "Ottoway"])) >= {
        "conversations_customer.display_name",
        "conversations_identity.value",
        "conversations_event.body",
    }
    assert report.counts["identities"] == 3
    assert report.counts["events"] == history.events
    erasure = Erasure.objects.get()
    assert (erasure.customer_id, erasure.erased_by) == (history.customer.pk, agent)
    [trace] = history.customer.conversation.events.filter(kind="erasure")
    assert trace.data == {"erased": True, "erasure": erasure.pk, "by": agent.pk}
    del other


def test_the_figures_rows_stay(history, agent):
    cases, events = Case.objects.count(), Event.objects.count()
    erase_customer(history.customer, by=agent)
    assert Case.objects.count() == cases
    assert Event.objects.count() == events + 1  # the erasure's own trace
    assert Order.objects.filter(customer=history.customer).count() == 1
    kinds = list(
        history.customer.conversation.events.order_by("seq").values_list("kind", "channel")
    )
    assert ("call", "voice") in kinds and ("message", "sms") in kinds


def test_twilio_is_asked_to_delete_messages_media_and_recordings(history, agent, sent_and_deleted):
    sms_deleted, recordings_deleted = sent_and_deleted
    report = erase_customer(history.customer, by=agent)
    assert ("media", MEDIA_SID) in sms_deleted
    assert ("message", MESSAGE_SID) in sms_deleted
    assert recordings_deleted == [RECORDING_SID]
    assert report.provider["recordings"] == {"deleted": 1, "missing": 0, "failed": 0}
    assert "Twilio" in report.summary()


def test_the_deletions_reach_twilio_through_the_real_client(history, agent, settings):
    server = FakeTwilio().start()
    try:
        settings.SMS_BACKEND = "channels_adapters.sms.backends.TwilioBackend"
        settings.VOICE_BACKEND = "channels_adapters.voice.backends.TwilioBackend"
        settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
        settings.TWILIO_AUTH_TOKEN = "fake-auth-token-0123456789abcdef"
        settings.TWILIO_API_BASE_URL = server.base_url
        server.fail_next(status=404, code=20404)  # the media went already: not an error
        report = erase_customer(history.customer, by=agent)
    finally:
        server.stop()
    paths = [request.path for request in server.deleted]
    assert paths[0].endswith(f"/Messages/{MESSAGE_SID}/Media/{MEDIA_SID}.json")
    assert any(p.endswith(f"/Messages/{MESSAGE_SID}.json") for p in paths)
    assert any(p.endswith(f"/Recordings/{RECORDING_SID}.json") for p in paths)
    assert report.provider["media"] == {"deleted": 0, "missing": 1, "failed": 0}


def test_a_second_erasure_changes_nothing(history, agent, sent_and_deleted):
    erase_customer(history.customer, by=agent)
    sms_deleted, _ = sent_and_deleted
    asked = len(sms_deleted)
    snapshot = _everything()
    report = erase_customer(history.customer, by=agent)
    assert not report.changed
    assert "nothing left" in report.summary()
    assert _everything() == snapshot
    assert len(sms_deleted) == asked
    assert Erasure.objects.count() == 1


def test_the_command_says_what_it_did(history, agent, capsys):
    call_command("erase_customer", str(history.customer.pk), "--by", agent.username)
    assert f"Customer #{history.customer.pk} erased" in capsys.readouterr().out
    call_command("erase_customer", str(history.customer.pk), "--by", agent.username)
    assert "nothing left to erase" in capsys.readouterr().out


def _everything() -> list:
    with connection.cursor() as cursor:
        rows = []
        for table in ["conversations_event", "conversations_customer", "conversations_outbox",
                      "conversations_identity", "instore_scan", "privacy_erasure"]:  # fmt: skip
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 (no input in the SQL)
            rows.append(cursor.fetchall())
        return rows
