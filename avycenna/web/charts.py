"""Wearable charts drawn on the server as inline SVG (no script, no chart library).

Input is the summary service's buckets (`{"start", "count", "min", "max", "mean",
"diastolic"}` per hour or day); output is an accessible `<svg role="img">` whose title
says what it shows. Means are drawn as a line over a min–max band; amounts that add
up over a bucket (steps, sleep) are drawn as bars of the bucket's total.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28


@dataclass(frozen=True)
class ChartSpec:
    type: str
    title: str
    unit: str
    style: str = "line"  # line (mean over a min–max band) | bars (bucket total)
    scale: float = 1.0  # stored unit → shown unit (sleep minutes → hours)


CHARTS = (
    ChartSpec("heart_rate", "Heart rate", "beats/min"),
    ChartSpec("resting_heart_rate", "Resting heart rate", "beats/min"),
    ChartSpec("heart_rate_variability", "Heart rate variability (SDNN)", "ms"),
    ChartSpec("oxygen_saturation", "Blood oxygen (SpO₂)", "%"),
    ChartSpec("respiratory_rate", "Respiratory rate", "breaths/min"),
    ChartSpec("body_temperature", "Body temperature", "°C"),
    ChartSpec("body_weight", "Weight", "kg"),
    ChartSpec("steps", "Steps", "steps", style="bars"),
    ChartSpec("distance", "Distance", "km", style="bars", scale=1 / 1000),
    ChartSpec("active_energy", "Active energy", "kcal", style="bars"),
    ChartSpec("sleep", "Sleep", "hours", style="bars", scale=1 / 60),
    ChartSpec("blood_pressure", "Blood pressure", "mmHg"),
    ChartSpec("blood_glucose", "Blood glucose", "mg/dL"),
)


def parse_start(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def nice_ticks(low, high, count=4):
    """Round tick values covering low..high."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value < high + step * 0.999:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _label(value, step=1.0):
    """A number with as many decimals as the tick step needs (none from 1 up)."""
    decimals = 0 if step >= 1 else min(3, -math.floor(math.log10(step)) + (0 if step * 10 % 1 == 0 else 1))
    return f"{value:,.{decimals}f}"


def points(spec, buckets):
    """[(time, low, mean, high, total)] in the shown unit; blood pressure adds diastolic rows."""
    rows = []
    for item in buckets:
        when, n = parse_start(item["start"]), item.get("count") or 0
        mean = item.get("mean")
        total = item.get("sum", mean * n if mean is not None else None)
        rows.append((when, *(None if v is None else v * spec.scale
                             for v in (item.get("min"), mean, item.get("max"), total))))
    return rows


def diastolic_points(buckets):
    return [(parse_start(b["start"]), b["diastolic"]["min"], b["diastolic"]["mean"],
             b["diastolic"]["max"], None) for b in buckets if b.get("diastolic")]


class Frame:
    """Maps time and value onto the drawing area."""

    def __init__(self, start, end, low, high):
        self.start, self.span = start, max((end - start).total_seconds(), 1)
        self.ticks = nice_ticks(low, high)
        self.low, self.high = self.ticks[0], self.ticks[-1]

    def x(self, when):
        share = (when - self.start).total_seconds() / self.span
        return LEFT + max(0.0, min(1.0, share)) * (WIDTH - LEFT - RIGHT)

    def y(self, value):
        share = (value - self.low) / ((self.high - self.low) or 1)
        return TOP + (1 - share) * (HEIGHT - TOP - BOTTOM)


def _axes(frame, start, end, bucket):
    parts = []
    step = frame.ticks[1] - frame.ticks[0] if len(frame.ticks) > 1 else 1.0
    for tick in frame.ticks:
        y = frame.y(tick)
        parts.append(f'<line class="grid-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(tick, step)}</text>')
    base = HEIGHT - BOTTOM
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>')
    middle = start + (end - start) / 2
    for when, anchor in ((start, "start"), (middle, "middle"), (end, "end")):
        parts.append(f'<text x="{frame.x(when):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                     f'{when.strftime("%d %b" if bucket == "day" else "%d %b %H:%M")}</text>')
    return parts


def _line(frame, rows, css, slot_seconds):
    """Mean line over the min–max band, each point in the middle of its bucket."""
    half = timedelta(seconds=slot_seconds / 2)
    rows = [(t + half, *rest) for t, *rest in rows]
    parts = []
    band = [(frame.x(t), frame.y(hi)) for t, lo, _, hi, _ in rows if lo is not None] + \
           [(frame.x(t), frame.y(lo)) for t, lo, _, hi, _ in reversed(rows) if lo is not None]
    if len(band) > 2:
        parts.append('<polygon class="band" points="%s"/>' % " ".join(f"{x:.1f},{y:.1f}" for x, y in band))
    line = [(frame.x(t), frame.y(mean)) for t, _, mean, _, _ in rows if mean is not None]
    if len(line) > 1:
        parts.append(f'<polyline class="{css}" points="%s"/>' % " ".join(f"{x:.1f},{y:.1f}" for x, y in line))
    parts.extend(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>' for x, y in line)
    return parts


def _bars(frame, rows, slot_seconds):
    slot = (WIDTH - LEFT - RIGHT) * slot_seconds / frame.span
    width, base = max(1.0, slot * 0.8), frame.y(frame.low)
    return [f'<rect class="bar" x="{frame.x(t) + (slot - width) / 2:.1f}" y="{frame.y(total):.1f}" '
            f'width="{width:.1f}" height="{max(0.0, base - frame.y(total)):.1f}"/>'
            for t, _, _, _, total in rows if total and frame.x(t) + slot <= WIDTH - RIGHT + 0.5]


def render(spec, buckets, start, end, bucket="day"):
    """The chart of one type over start..end as SVG markup (an empty-state note when no data)."""
    rows = points(spec, buckets)
    second = diastolic_points(buckets) if spec.type == "blood_pressure" else []
    chart_id = f"chart-{spec.type}"
    if not rows:
        return Markup(f'<p class="meta" id="{chart_id}">No {escape(spec.title.lower())} data in this range.</p>')
    if spec.style == "bars":
        values = [r[4] for r in rows if r[4] is not None]
        low, high = 0, max(values)
    else:
        values = [v for r in rows + second for v in (r[1], r[2], r[3]) if v is not None]
        low, high = min(values), max(values)
        pad = (high - low) * 0.1 or 1
        low, high = low - pad, high + pad
    frame = Frame(start, end, low, high)
    parts = _axes(frame, start, end, bucket)
    slot_seconds = 3600 if bucket == "hour" else 86400
    if spec.style == "bars":
        parts += _bars(frame, rows, slot_seconds)
    else:
        parts += _line(frame, rows, "series", slot_seconds)
        parts += _line(frame, second, "series-2", slot_seconds) if second else []
    summary = (f"{spec.title} ({spec.unit}), {len(rows)} {bucket}s from {start:%d %b %Y} to {end:%d %b %Y}; "
               f"range {_label(min(values), 0.1)}–{_label(max(values), 0.1)}.")
    return Markup(
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title">'
        f'<title id="{chart_id}-title">{escape(summary)}</title>' + "".join(parts) + "</svg>")
