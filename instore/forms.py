"""The admin's business-hours editor: one line per weekday instead of raw JSON.

Each day is written as a person writes opening hours: "09:00-12:30, 13:30-18:00", blank
for closed. The field stores what `Store.business_hours` always stored
(`{"mon": [["09:00", "18:00"]], "sun": []}`); every day blank stores `{}`, a store with no
hours of its own (routing then treats it as always open, docs/routing.md).
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from .models import WEEKDAYS, validate_business_hours

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
# "9-18" or "09:00-18:00", with a hyphen or an en dash (as people type hours)
_INTERVAL = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*[-\u2013]\s*(\d{1,2})(?::(\d{2}))?\s*$")


def parse_day(text: str, day: str) -> list[list[str]]:
    """ "9-12:30, 13:30-18" -> [["09:00", "12:30"], ["13:30", "18:00"]]; "" -> []."""
    intervals = []
    for part in filter(str.strip, (text or "").split(",")):
        found = _INTERVAL.match(part)
        if not found:
            raise ValidationError(
                f"{DAY_NAMES[day]}: {part.strip()!r} is not like 09:00-18:00.", code="interval"
            )
        h1, m1, h2, m2 = found.groups()
        intervals.append([f"{int(h1):02d}:{m1 or '00'}", f"{int(h2):02d}:{m2 or '00'}"])
    return sorted(intervals)


def format_day(intervals) -> str:
    return ", ".join(f"{opens}-{closes}" for opens, closes in intervals or [])


class BusinessHoursWidget(forms.MultiWidget):
    template_name = "instore/widgets/business_hours.html"

    def __init__(self, attrs=None):
        super().__init__(
            [forms.TextInput(attrs={"placeholder": "closed", "size": 28}) for _ in WEEKDAYS],
            attrs,
        )

    def decompress(self, value):
        if not isinstance(value, dict):
            return [""] * len(WEEKDAYS)
        return [format_day(value.get(day)) for day in WEEKDAYS]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for day, sub in zip(WEEKDAYS, context["widget"]["subwidgets"], strict=True):
            sub["day_name"] = DAY_NAMES[day]
        return context


class BusinessHoursField(forms.MultiValueField):
    widget = BusinessHoursWidget

    def __init__(self, **kwargs):
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.pop("max_length", None)
        super().__init__(
            fields=[forms.CharField(required=False) for _ in WEEKDAYS],
            require_all_fields=False,
            required=False,
            **{k: v for k, v in kwargs.items() if k not in ("required",)},
        )

    def compress(self, data_list):
        if not data_list or not any((text or "").strip() for text in data_list):
            return {}
        hours, errors = {}, []
        for day, text in zip(WEEKDAYS, data_list, strict=True):
            try:
                hours[day] = parse_day(text, day)
            except ValidationError as exc:
                errors.append(exc)
        if errors:
            raise ValidationError(errors)
        validate_business_hours(hours)  # opens before closes, hours that exist
        return hours
