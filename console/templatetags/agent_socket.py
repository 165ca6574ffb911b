"""`{% agent_socket_attrs websocket_url %}`: a console page's socket attributes
(console/socket_address.py says where the socket is and why)."""

from django import template
from django.utils.html import format_html

from console.socket_address import open_instead

register = template.Library()


@register.simple_tag(takes_context=True)
def agent_socket_attrs(context, websocket_url: str) -> str:
    """The page's socket attributes; `websocket_url` as console.views.websocket_url made it."""
    request = context["request"]
    return format_html('data-ws="{}" data-open-instead="{}"', websocket_url, open_instead(request))
