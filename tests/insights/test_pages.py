"""The Insights pages: managers only, every figure drawn, CSV per figure, filters."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from insights import facts
from insights.models import Persona
from insights.personas import refresh_members
from tests.insights import journeys

pytestmark = pytest.mark.django_db

PAGE = "/admin/insights/"
PERIOD = "start=2026-10-01&end=2026-10-10"


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user("maria", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    return user


def test_agents_and_outsiders_cannot_see_insights(client, agent, outsider):
    client.force_login(agent)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}fcr.csv").status_code == 403
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 302  # to the admin login
    client.logout()
    assert client.get(f"{PAGE}fcr.csv").status_code == 302


def test_a_manager_sees_every_figure_with_an_svg_chart(client, manager, agent):
    journeys.build(agent)
    client.force_login(manager)
    response = client.get(f"{PAGE}?{PERIOD}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "First-contact resolution" in html
    assert html.count("<svg") >= 5
    assert "<script" not in html.split("insights-figure", 1)[1]  # charts need no script
    assert "Download CSV" in html


def test_each_figure_downloads_as_csv_with_the_same_filters(client, manager, agent):
    journeys.build(agent)
    client.force_login(manager)
    response = client.get(f"{PAGE}fcr.csv?{PERIOD}")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["measure", "resolved cases", "resolved on first contact", "rate %"]
    assert rows[1] == ["all channels (true)", "4", "1", "25.0"]
    assert client.get(f"{PAGE}nosuch.csv").status_code == 404


def test_bad_filters_are_answered_400_with_the_reason(client, manager):
    client.force_login(manager)
    response = client.get(f"{PAGE}fcr.csv?start=2026-10-10&end=2026-10-01")
    assert response.status_code == 400
    assert b"starts after it ends" in response.content
    assert client.get(f"{PAGE}?start=yesterday").status_code == 400


def test_every_figure_splits_by_persona(client, manager, agent):
    people = journeys.build(agent)
    del people
    phone = Persona.objects.create(
        name="Phone people",
        slug="phone",
        rules=[{"field": "channel_used", "op": "is", "value": "voice"}],
    )
    texters = Persona.objects.create(
        name="Texters",
        slug="texters",
        rules=[{"field": "channel_used", "op": "is", "value": "sms"}],
    )
    assert refresh_members(phone) == 1 and refresh_members(texters) == 3
    client.force_login(manager)
    rows = list(
        csv.reader(io.StringIO(client.get(f"{PAGE}fcr.csv?{PERIOD}&split=on").content.decode()))
    )
    assert rows[0][0] == "persona"
    assert ["Phone people", "all channels (true)", "1", "0", "0.0"] in rows
    assert ["Texters", "all channels (true)", "3", "1", "33.3"] in rows
    only = list(
        csv.reader(
            io.StringIO(client.get(f"{PAGE}fcr.csv?{PERIOD}&persona={phone.pk}").content.decode())
        )
    )
    assert only[1] == ["all channels (true)", "1", "0", "0.0"]


def test_what_people_typed_is_escaped_in_charts_and_tables(client, manager, agent):
    journeys.build(agent)
    from conversations.models import Case

    Case.objects.filter(intent="returns").update(intent="<b>returns</b>")
    facts.rebuild()
    client.force_login(manager)
    html = client.get(f"{PAGE}?{PERIOD}").content.decode()
    assert "<b>returns</b>" not in html
    assert "&lt;b&gt;returns&lt;/b&gt;" in html
    csv_text = client.get(f"{PAGE}contacts.csv?{PERIOD}&intent=%3Db").content.decode()
    assert csv_text.startswith("intent,")
