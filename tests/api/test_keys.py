import pytest
from django.core.management import call_command

from api.keys import authenticate, hash_key
from api.models import ApiKey

pytestmark = pytest.mark.django_db


def test_the_command_prints_a_key_once_and_stores_only_its_hash(capsys):
    call_command("create_api_key", "Shop production")

    raw = capsys.readouterr().out.strip()
    key = ApiKey.objects.get()
    assert raw.startswith("tl_") and len(raw) > 40
    assert key.key_hash == hash_key(raw) and raw not in key.key_hash
    assert key.prefix == raw[:11] and key.name == "Shop production"


def test_the_admin_shows_a_new_key_once(admin_client, client):
    response = admin_client.post(
        "/admin/api/apikey/add/", {"name": "Warehouse", "active": "on"}, follow=True
    )

    key = ApiKey.objects.get()
    (message,) = [str(m) for m in response.context["messages"] if "copy it now" in str(m)]
    raw = message.split(" is ")[1].split(" ")[0]
    assert hash_key(raw) == key.key_hash
    assert (
        client.get("/api/v1/customers/1", headers={"Authorization": f"Bearer {raw}"}).status_code
        == 404
    )


def test_authenticate_takes_bearer_or_x_api_key(rf, api_key):
    key, raw = api_key

    assert authenticate(rf.get("/", headers={"Authorization": f"Bearer {raw}"})) == key
    assert authenticate(rf.get("/", headers={"X-Api-Key": raw})) == key
    assert authenticate(rf.get("/", headers={"Authorization": f"Basic {raw}"})) is None
    assert authenticate(rf.get("/")) is None
