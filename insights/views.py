"""The Insights section of the admin, for managers (permission `insights.view_insights`).

`/admin/insights/` shows every figure with its chart; `/admin/insights/<figure>.csv`
downloads one figure with the same filters. Both take the filters as query parameters.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from conversations.models import Event, Team
from instore.models import Store

from . import charts
from .figures import FIGURES, Figure
from .filters import Filters
from .models import Persona

PERMISSION = "insights.view_insights"
CHANNELS = [("", "all channels")] + [
    (c, c) for c in [Event.Channel.WEB, Event.Channel.SMS, Event.Channel.VOICE]
]


class FilterForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    store = forms.ModelChoiceField(Store.objects.all(), required=False)
    team = forms.ModelChoiceField(Team.objects.all(), required=False)
    channel = forms.ChoiceField(choices=CHANNELS, required=False)
    intent = forms.CharField(max_length=64, required=False)
    persona = forms.ModelChoiceField(Persona.objects.all(), required=False)
    split = forms.BooleanField(required=False, label="split by persona")

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - timedelta(days=29)
        if data["start"] > data["end"]:
            raise forms.ValidationError("The period starts after it ends.")
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters.for_dates(
            data["start"],
            data["end"],
            store=data["store"].pk if data["store"] else None,
            team=data["team"].pk if data["team"] else None,
            channel=data["channel"] or None,
            intent=data["intent"] or None,
            persona=data["persona"].pk if data["persona"] else None,
        )


def managers_only(view):
    def checked(request: HttpRequest, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return staff_member_required(checked)


def compute(key: str, filters: Filters, *, split: bool) -> Figure:
    """The figure; split by persona, one block of rows per persona (a leading column)."""
    figure = FIGURES[key](filters)
    if not split:
        return figure
    rows = []
    for persona in Persona.objects.all():
        part = FIGURES[key](filters.with_persona(persona.pk))
        rows += [(persona.name, *row) for row in part.rows]
    return replace(
        figure,
        columns=["persona", *figure.columns],
        rows=rows,
        bars=[i + 1 for i in figure.bars],
        chart="table" if figure.chart == "matrix" else figure.chart,
    )


@managers_only
def dashboard(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return TemplateResponse(
            request, "insights/dashboard.html", _page(request, form, []), status=400
        )
    if not request.GET:
        form = FilterForm({})
        form.is_valid()
    filters, split = form.filters(), form.cleaned_data["split"]
    blocks = []
    for key in FIGURES:
        figure = compute(key, filters, split=split)
        blocks.append({"figure": figure, "chart": charts.render(figure), "key": key})
    return TemplateResponse(request, "insights/dashboard.html", _page(request, form, blocks))


@managers_only
def figure_csv(request: HttpRequest, key: str) -> HttpResponse:
    if key not in FIGURES:
        raise Http404("No such figure.")
    form = FilterForm(request.GET or {})
    if not form.is_valid():
        return HttpResponseBadRequest(f"{form.errors.as_text()}\n", content_type="text/plain")
    figure = compute(key, form.filters(), split=form.cleaned_data["split"])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="insights-{key}.csv"'
    writer = csv.writer(response)
    writer.writerow(figure.columns)
    for row in figure.rows:
        # a cell starting with = + - @ would run as a formula in a spreadsheet
        writer.writerow([_csv_safe(value) for value in row])
    return response


def _csv_safe(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def _page(request: HttpRequest, form: FilterForm, blocks: list) -> dict:
    return {
        **admin.site.each_context(request),
        "title": "Insights",
        "form": form,
        "blocks": blocks,
        "query": request.GET.urlencode(),
    }
