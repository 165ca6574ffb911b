"""`{% agent_home as home %}`: what the agent's home (the admin index) shows, for an agent;
None for staff without the console (they see the stock model list only)."""

from django import template
from django.urls import reverse

from console import views, workspace
from console.access import is_agent

register = template.Library()


@register.simple_tag(takes_context=True)
def agent_home(context):
    request = context["request"]
    if not is_agent(request.user):
        return None
    return {
        "counts": workspace.home_counts(request.user),
        "cap": workspace.COUNT_CAP,
        "available": workspace.is_available(request.user),
        "websocket_url": views.websocket_url(request),
        "inbox_url": reverse("admin:conversations_inbox"),
        "counts_url": reverse("admin:conversations_home_counts"),
        "insights_url": reverse("insights_dashboard")
        if request.user.has_perm("insights.view_insights")
        else "",
    }
