"""Whose is this webhook: `owner_of(form)`, asked by the Twilio gate (twilio_signature.py).

The account is the request's `AccountSid`, which Twilio sends on every webhook (without
one: the account of our number in `To`, else `From`). The gate checks the signature with
that account's token, then that the request is about a number of that account: `To`
(what a customer texted or called), else `From` (our side of a message or call we
started), else the `MessagingServiceSid`. A request naming none of them (a recording's
callback) is the account's. Anything else is traffic for a number or an account we do not
own, refused before a row is written.

All of it is dictionary look-ups in the process's directory (directory.py): no query.
With no rows, the settings' single account signs everything, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from .directory import Credentials, Number, current, settings_credentials

# Our number the webhook being answered is about (set by the gate around the view; None
# elsewhere, and without rows): the voice greeting's store, the opt-out's number.
receiving: ContextVar[Number | None] = ContextVar("numbers_receiving", default=None)


class NotOurs(Exception):
    """A webhook for an account or a number we do not own: answered 403 with the reason."""


@dataclass(frozen=True)
class Owner:
    credentials: Credentials  # whose token checks the signature
    number: Number | None = None  # our number the request is about, of that account
    names_other_numbers: bool = False  # it names numbers, none of them this account's

    def check(self) -> None:
        """After the signature: refuse a request about numbers this account does not own."""
        if self.names_other_numbers:
            raise NotOurs("To is not a number of the account that signed this request.")


def owner_of(form: Mapping[str, str]) -> Owner:
    """The account whose token must have signed `form`, and our number it is about."""
    directory = current()
    if directory is None:
        return Owner(settings_credentials())
    named = [
        directory.number(form.get(name, "")) if form.get(name) else None for name in ("To", "From")
    ]
    service_sid = form.get("MessagingServiceSid", "")
    named.append(directory.by_service.get(service_sid) if service_sid else None)
    account_sid = form.get("AccountSid", "")
    if account_sid:
        credentials = directory.accounts.get(account_sid)
        if credentials is None:
            raise NotOurs("AccountSid is not a Twilio account of ours.")
    else:
        first = next((number for number in named if number is not None), None)
        if first is None:
            raise NotOurs("To is not a number of ours.")
        credentials = first.account
    number = next(
        (n for n in named if n is not None and n.account.account_sid == credentials.account_sid),
        None,
    )
    names_numbers = any(form.get(name) for name in ("To", "From", "MessagingServiceSid"))
    return Owner(credentials, number, names_other_numbers=number is None and names_numbers)
