"""The original MIME and attachments: staff with the permission only, always as a
download; the customer's export lists the mails and the erasure removes them."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from channels_adapters.email.models import Mail, MailAttachment
from conversations.models import Customer
from privacy.erasure import erase_customer
from privacy.export import export_customer
from tests.fakes.email_payloads import post_postmark, postmark_inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail():
    post_postmark("/hooks/email/postmark/inbound/", postmark_inbound(message_id="f@mail.gmail.com"))
    return Mail.objects.get()


def staff(django_user_model, *, allowed: bool):
    user = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    if allowed:
        user.user_permissions.add(Permission.objects.get(codename="download_mail"))
    client = Client()
    client.force_login(user)
    return client


def test_staff_with_the_permission_download_the_original_as_an_attachment(mail, django_user_model):
    response = staff(django_user_model, allowed=True).get(f"/email/{mail.pk}/original.eml")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"<f@mail.gmail.com>" in b"".join(response.streaming_content)


def test_an_attachment_is_served_as_a_download_never_inline(mail, django_user_model):
    attachment = MailAttachment.objects.get()
    response = staff(django_user_model, allowed=True).get(f"/email/attachment/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert 'filename="receipt.pdf"' in response["Content-Disposition"]


def test_staff_without_the_permission_get_403(mail, django_user_model):
    response = staff(django_user_model, allowed=False).get(f"/email/{mail.pk}/original.eml")
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(mail):
    response = Client().get(f"/email/{mail.pk}/original.eml")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_export_lists_her_mails(mail):
    exported = export_customer(Customer.objects.get())
    [entry] = exported["emails"]
    assert (
        entry["address"] == "dana.rivera@gmail.com" and entry["subject"] == "Re: Your order 48213"
    )
    assert entry["attachments"][0]["filename"] == "receipt.pdf"


def test_the_erasure_removes_the_mails_and_their_files(mail, django_capture_on_commit_callbacks):
    assert bytes(Mail.objects.get(pk=mail.pk).original)  # the MIME goes with its row
    stored = MailAttachment.objects.get().file
    storage, attachment = stored.storage, stored.name
    assert storage.exists(attachment)
    with django_capture_on_commit_callbacks(execute=True):
        report = erase_customer(Customer.objects.get())
    assert report.counts["emails"] >= 1
    assert not Mail.objects.exists() and not MailAttachment.objects.exists()
    assert not storage.exists(attachment)
