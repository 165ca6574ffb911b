"""Server-rendered SVG charts for the insights page: no script, no CDN.

Every label goes through `escape` (intents, reasons and store names are typed by people).
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .figures import Figure

PALETTE = ["#2451d6", "#e07b24", "#2f9e6e", "#b8336a"]
ROW = 22  # px per bar group
LABEL_WIDTH = 260
BAR_WIDTH = 360


def render(figure: Figure) -> SafeString:
    if not figure.rows:
        return mark_safe('<p class="empty">No data for this period and these filters.</p>')
    if figure.chart == "matrix":
        return matrix(figure)
    if figure.chart == "bars" and figure.bars:
        return bars(figure)
    return mark_safe("")


def bars(figure: Figure) -> SafeString:
    """Horizontal grouped bars: one group per row, one bar per value column, each column
    scaled to its own maximum (a rate and a count share the chart)."""
    value_columns = figure.bars
    label_columns = [i for i, _ in enumerate(figure.columns) if i not in value_columns]
    maxima = {
        i: max((float(row[i]) for row in figure.rows if row[i] is not None), default=0) or 1
        for i in value_columns
    }
    group = ROW * len(value_columns) + 8
    height = group * len(figure.rows) + 28
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {LABEL_WIDTH + BAR_WIDTH + 80} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    for n, column in enumerate(value_columns):
        parts.append(
            f'<rect x="{LABEL_WIDTH + n * 150}" y="4" width="10" height="10" '
            f'fill="{PALETTE[n % len(PALETTE)]}"/><text x="{LABEL_WIDTH + 14 + n * 150}" y="13" '
            f'font-size="11">{escape(figure.columns[column])}</text>'
        )
    for r, row in enumerate(figure.rows):
        top = 24 + r * group
        label = " · ".join(str(row[i]) for i in label_columns if row[i] not in (None, ""))
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{top + group / 2}" font-size="12" '
            f'text-anchor="end">{escape(label[:48])}</text>'
        )
        for n, column in enumerate(value_columns):
            value = row[column]
            width = 0 if value is None else BAR_WIDTH * float(value) / maxima[column]
            y = top + n * ROW
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{ROW - 6}" '
                f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(figure.columns[column])}: '
                f"{escape(value)}</title></rect>"
                f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + ROW - 10}" font-size="11">'
                f"{escape('-' if value is None else value)}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  every value above is escaped


def matrix(figure: Figure) -> SafeString:
    """A from x to heat map of the first two columns, shaded by the third."""
    froms = sorted({row[0] for row in figure.rows})
    tos = sorted({row[1] for row in figure.rows})
    counts = {(row[0], row[1]): row[2] for row in figure.rows}
    top = max(counts.values()) or 1
    cell, left, head = 70, 90, 40
    width, height = left + cell * len(tos) + 10, head + cell * len(froms) + 10
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<text x="4" y="14" font-size="11">from ↓ to →</text>'
    ]
    for c, to in enumerate(tos):
        parts.append(
            f'<text x="{left + c * cell + cell / 2}" y="{head - 8}" font-size="12" '
            f'text-anchor="middle">{escape(to)}</text>'
        )
    for r, source in enumerate(froms):
        y = head + r * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + cell / 2}" font-size="12" text-anchor="end">'
            f"{escape(source)}</text>"
        )
        for c, to in enumerate(tos):
            value = counts.get((source, to), 0)
            shade = 0.08 + 0.85 * value / top if value else 0.03
            parts.append(
                f'<rect x="{left + c * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="#2451d6" fill-opacity="{shade:.2f}"/>'
                f'<text x="{left + c * cell + cell / 2}" y="{y + cell / 2 + 4}" font-size="13" '
                f'text-anchor="middle">{value}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  every label above is escaped
