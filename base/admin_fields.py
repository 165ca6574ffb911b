"""Form fields for the admin's list-of-words columns: one item per line, not JSON.

A JSON list (`["refund", "money back"]`) is how these columns are stored and read; an
operator editing a rule should type the words, one per line. `LinesField` shows the list
as lines, and stores the non-blank lines, stripped, in order, without repeats; the
model's own validators still run on the list. `LinesJsonAdmin` uses it for the columns a
ModelAdmin names in `lines_fields`.
"""

from __future__ import annotations

from django import forms


class LinesField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4, "cols": 40})

    def __init__(self, **kwargs):
        for json_only in ("encoder", "decoder", "max_length"):
            kwargs.pop(json_only, None)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value) -> list[str]:  # type: ignore[override]  # a list, not a str
        text = super().to_python(value) or ""
        return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))

    def has_changed(self, initial, data) -> bool:
        return self.to_python(data) != list(initial or [])


class LinesJsonAdmin:
    """A ModelAdmin mixin: the JSON list columns named in `lines_fields` edited as lines."""

    lines_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.lines_fields:
            return LinesField(
                label=db_field.verbose_name.capitalize(),
                required=not db_field.blank,
                help_text="One per line.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
