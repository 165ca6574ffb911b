"""Message templates: Django's template language, in a sandbox (docs/engagement.md).

Rule messages are written in the admin by people who are not developers, so a template
reaches nothing but the context dict it is rendered with:

- a template engine of its own, with no loaders (no `{% include %}` / `{% extends %}` of
  files), no `{% load %}` of other libraries, no `{% debug %}` (which prints the context
  *and* the loaded Python modules), `{% url %}` or `{% csrf_token %}`: only the plain
  tags and every built-in filter;
- the context is plain data (str, numbers, lists, dicts) built by `message_context`,
  frozen for the render (read-only mappings and tuples: no method a template can call
  changes anything), never a model instance whose methods a template could call;
- autoescape off: SMS is plain text, and the widget escapes what it shows.

`render` returns the text; `check` compiles a template for the admin's validation.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from django.conf import settings
from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)

from commerce.context import CommerceContext
from conversations import links
from conversations.context import InStore, build_context
from conversations.models import Customer

# The tags a message needs; everything else (load, debug, url, csrf_token, include,
# extends, block, querystring, autoescape) is simply not there.
SAFE_TAGS = (
    "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "now", "regroup",
    "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio", "with",
)  # fmt: skip

register = Library()  # the sandbox engine's only builtin library (default_builtins below)
for _name in SAFE_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
register.filters.update(defaultfilters.register.filters)


class SandboxEngine(Engine):
    default_builtins = ["engagement.templating"]


_engine = SandboxEngine(loaders=[], libraries={}, autoescape=False, debug=False)


def check(template: str) -> None:
    """Raise TemplateSyntaxError when the template does not compile in the sandbox."""
    _engine.from_string(template)


def render(template: str, context: dict) -> str:
    """The message text: the template rendered with a private copy of `context`."""
    frozen = dict(_frozen(context))  # Context wants a dict at the top; its values are frozen
    text = _engine.from_string(template).render(Context(frozen, autoescape=False))
    return " ".join(text.split())  # templates are written over lines; messages are one line


def _frozen(value):
    """Read-only views of the data: `{{ cart.clear }}` finds no method that clears."""
    if isinstance(value, dict):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(value: str | Decimal | None, currency: str = "") -> str:
    """ "2000.00", "USD" -> "$2,000.00"; an unknown currency is written after the amount."""
    if value in (None, ""):
        return ""
    try:
        amount = f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}".strip()


def message_context(customer: Customer, **extra) -> dict:
    """What every message template can use: plain data from the customer context.

    `first_name`, `name`, `cart` (`items`, `item_count`, `value`, `currency`),
    `cart_value` ("$2,000.00"), `product` (the main product in question), `products_viewed`,
    `store` (`name`, `phone`) when known, `agent_name` (the open case's agent), `links`
    (`callback`, `preferences`), `shop_name`; rules add their own keys (`opens_at`...).
    """
    context = build_context(customer)
    commerce = context.part(CommerceContext)
    cart = commerce.open_cart if commerce else None
    viewed = commerce.products_viewed if commerce else []
    in_store = context.part(InStore)
    visit = in_store.visit if in_store else None
    agent = context.open_case.assignee if context.open_case else None
    name = (context.name or "").strip()
    data = {
        "first_name": name.split()[0] if name else "",
        "name": name,
        "cart": cart,
        "cart_value": money(cart["value"], cart["currency"]) if cart else "",
        "product": (cart["items"][0]["name"] if cart and cart["items"] else "")
        or (viewed[0]["name"] if viewed else ""),
        "products_viewed": [p["name"] for p in viewed],
        "store": visit.store if visit else None,
        "agent_name": (agent.get_short_name() or agent.get_username()) if agent else "",
        "links": {
            "callback": links.url_for(context.customer, "callback"),
            "preferences": links.url_for(context.customer, "preferences"),
        },
        "shop_name": settings.ENGAGEMENT_SHOP_NAME,
    }
    data.update(extra)
    return data


__all__ = ["TemplateSyntaxError", "check", "message_context", "money", "render"]
