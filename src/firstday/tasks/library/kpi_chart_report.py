"""KPI chart report: read a monthly KPI chart (an image only) and report a value from it.

The chart is drawn with Pillow: a bar or line chart with axes, ticks, gridlines, a legend and, on easy,
value labels; the numbers exist only in the image (and its text alternative). The trainee reports the
peak month, the value at a month, the growth between two months, or the months below the target line.
Numeric answers are checked with a tolerance derived from the chart's scale (a careful reader of an
unlabelled chart lands within it), and every instance keeps the deciding comparison clear of that
tolerance (the peak stands out, no month sits on the target line).
"""

from __future__ import annotations

import calendar
import random
import re
from typing import Any, ClassVar, Literal

from PIL import Image, ImageDraw

from firstday.tasks.checks import SubmissionCheck
from firstday.tasks.family import BaselineView, GenContext, ask, register
from firstday.tasks.library._image_kit import RGB, add_noise, font, freetype_width, jitter
from firstday.tasks.model import Checkpoint, Clue, TaskInstance
from firstday.world.assets import Fact, FileAsset
from firstday.world.images import ImageSpec, register_renderer
from firstday.world.tools import ToolCall

RENDERER = "kpi_chart_report.chart"
VARIANTS = ("peak_month", "value_at", "growth", "below_target")
LEVELS = {"easy": 0, "medium": 1, "hard": 2}
# (KPI title, unit, axis maxima, the series it is split into)
KPIS = (
    ("Revenue", "EUR k", (200, 250, 400, 500), ("North", "South", "East", "West", "Central")),
    ("New customers", "customers", (100, 150, 200), ("Online", "Retail", "Partners", "Direct sales")),
    ("Website visits", "thousands", (50, 80, 120), ("Organic", "Paid search", "Social", "Email")),
    ("Orders shipped", "orders", (500, 800, 1000), ("Warehouse A", "Warehouse B", "Warehouse C")),
    ("Active users", "thousands", (20, 40, 60), ("Basic plan", "Pro plan", "Enterprise plan")),
    ("Leads generated", "leads", (150, 250, 300), ("Webinars", "Trade fairs", "Referrals", "Cold outreach")),
    ("Support tickets closed", "tickets", (300, 400, 600), ("Tier 1", "Tier 2", "Self-service")),
)
PALETTES: tuple[tuple[RGB, ...], ...] = (
    ((31, 119, 180), (255, 127, 14), (44, 160, 44)),
    ((78, 121, 167), (242, 142, 43), (225, 87, 89)),
    ((27, 158, 119), (217, 95, 2), (117, 112, 179)),
    ((0, 114, 178), (213, 94, 0), (204, 121, 167)),
    ((102, 102, 102), (230, 159, 0), (86, 180, 233)),
)
READ_ERROR = 0.025  # a careful reading of an unlabelled chart is within 2.5 % of the axis maximum


def _month(m: int) -> str:
    return calendar.month_name[m]


def _fmt(v: float) -> str:
    return f"{v:.1f}"


@register
class KpiChartReport:
    name = "kpi_chart_report"
    title = "KPI chart report"
    description = ("Read a monthly KPI chart (an image only) and report the peak month, a month's value, the "
                   "growth between two months or the months below target.")
    domains = ("information",)
    modalities = ("image", "dialogue")
    variants = VARIANTS
    knobs: ClassVar[dict[str, str]] = {
        "series": "series in the chart: easy 1, medium 2, hard 3 (one legend entry each)",
        "labels": "easy prints every value on the chart; medium and hard must be read off the axis "
                  "(the tolerance is 2.5 % of the axis maximum, turned into the answer's unit)",
        "months": "months shown: easy 6, medium 9, hard 12",
        "hops": "easy and medium name the series in the objective; hard names only the department head "
                "whose series it is (ask them which one)",
    }

    def generate(self, ctx: GenContext) -> TaskInstance:
        rng = ctx.rng
        level = LEVELS[ctx.difficulty]
        tid = ctx.task_id
        kpi, unit, maxima, series_pool = rng.choice(KPIS)
        ymax = float(rng.choice(maxima))
        n_series = 1 + level
        n_months = (6, 9, 12)[level]
        first = rng.randint(1, 13 - n_months)
        months = list(range(first, first + n_months))
        series = rng.sample(series_pool, n_series)
        target_i = rng.randrange(n_series)
        labels = level == 0
        tol_abs = 0.005 * ymax if labels else READ_ERROR * ymax
        gap = 2.4 * tol_abs  # deciding comparisons stay clear of two reading errors

        def draw_values() -> list[float]:
            return [round(rng.uniform(0.3, 0.92) * ymax, 1) for _ in months]

        data = [draw_values() for _ in series]
        values = data[target_i]
        target_line: float | None = None
        answer: dict[str, Any]
        expected: dict[str, Any]
        deciding: list[str]
        checks: list[tuple[str, Literal["equals", "set_equals", "number_close"], float]]
        if ctx.variant == "peak_month":
            peak = rng.randrange(n_months)
            for i in range(n_months):
                values[i] = min(values[i], round(0.85 * ymax, 1))
            values[peak] = round(max(values) + gap + rng.uniform(0, 0.05) * ymax, 1)
            # another series peaks elsewhere, higher still: reading the wrong one gives the wrong month
            if n_series > 1:
                other = data[(target_i + 1) % n_series]
                j = (peak + rng.randint(1, n_months - 1)) % n_months
                other[j] = round(min(0.99 * ymax, max(values) + gap), 1)
            answer = {"month": _month(months[peak])}
            expected = {"month": answer["month"]}
            deciding = [_fmt(values[peak])]
            question = "in which month it peaked"
            fmt_hint = '{"month": "<month name, e.g. March>"}'
            checks = [("month", "equals", 0.0)]
        elif ctx.variant == "value_at":
            i = rng.randrange(n_months)
            values[i] = round(rng.uniform(0.4, 0.92) * ymax, 1)
            answer = {"value": values[i]}
            expected = answer
            deciding = [_fmt(values[i])]
            question = f"its value in {_month(months[i])} 2025 ({unit})"
            fmt_hint = '{"value": <number>}'
            checks = [("value", "number_close", round(tol_abs / values[i], 4))]
        elif ctx.variant == "growth":
            a, b = sorted(rng.sample(range(n_months), 2))
            while abs(values[b] - values[a]) < 0.25 * ymax:
                values[a], values[b] = round(rng.uniform(0.3, 0.92) * ymax, 1), round(rng.uniform(0.3, 0.92) * ymax, 1)
            growth = round((values[b] - values[a]) / values[a] * 100, 1)
            # the error of a growth computed from two readings, each off by at most tol_abs
            err = 100 * (tol_abs / values[a] + values[b] * tol_abs / values[a] ** 2) + 0.1
            answer = {"growth_pct": growth}
            expected = answer
            deciding = [_fmt(values[a]), _fmt(values[b])]
            question = (f"its growth from {_month(months[a])} to {_month(months[b])} 2025, in percent of the "
                        f"{_month(months[a])} value (negative if it fell)")
            fmt_hint = '{"growth_pct": <number, e.g. -3.5 for a fall of 3.5 %>}'
            checks = [("growth_pct", "number_close", round(err / max(1.0, abs(growth)), 4))]
        else:
            target_line = round(rng.uniform(0.45, 0.75) * ymax, 1)
            below = rng.sample(range(n_months), rng.randint(2, max(2, n_months // 3)))
            for i in range(n_months):
                lo, hi = (0.25 * ymax, target_line - gap) if i in below else (target_line + gap, 0.95 * ymax)
                values[i] = round(rng.uniform(lo, hi), 1)
            months_below = [_month(months[i]) for i in range(n_months) if values[i] < target_line]
            answer = {"months": months_below}
            expected = answer
            deciding = [_fmt(target_line)] + [_fmt(values[i]) for i in sorted(below)]
            question = "the months in which it was below the target line drawn on the chart"
            fmt_hint = '{"months": ["<month name>", ...]}'
            checks = [("months", "set_equals", 0.0)]
        data[target_i] = values

        chart_path = ctx.path("/shared/reports", f"{kpi.lower().replace(' ', '_')}_2025_chart", "png")
        title = f"{kpi} by {'month' if n_series == 1 else 'segment'}, 2025 ({unit})"
        params: dict[str, Any] = {
            "seed": rng.randint(0, 2**31 - 1), "title": title, "unit": unit, "ymax": ymax,
            "months": [calendar.month_abbr[m] for m in months], "series": series, "data": data,
            "kind": rng.choice(("bar", "line")), "labels": labels, "target": target_line,
            "palette": rng.randrange(len(PALETTES)), "legend": rng.choice(("top", "right", "bottom")),
            "grid": level < 2 or rng.random() < 0.5, "ticks": rng.choice((4, 5)) if level < 2 else 4,
            "noise": 2 + 2 * level, "deciding": deciding,
        }
        alt_series = "; ".join(
            f"{s}: " + ", ".join(f"{calendar.month_abbr[m]} {_fmt(v)}" for m, v in zip(months, d, strict=True))
            for s, d in zip(series, data, strict=True))
        alt = (f"Chart (image): {title}. A {params['kind']} chart of {', '.join(series)} by month, "
               f"{calendar.month_abbr[months[0]]} to {calendar.month_abbr[months[-1]]} 2025, y axis 0 to "
               f"{ymax:g} {unit}. Values: {alt_series}."
               + (f" A dashed target line is drawn at {_fmt(target_line)}." if target_line is not None else ""))
        files = [FileAsset(path=chart_path, media_type="image/png", render=ImageSpec(renderer=RENDERER,
                                                                                     params=params),
                           text_alternative=alt, clue_ids=[f"{tid}-chart"])]
        clues = [Clue(clue_id=f"{tid}-chart", description="the KPI values by month", location="image",
                      where=chart_path)]
        facts: list[Fact] = []
        plan: list[ToolCall] = []
        asked = series[target_i]
        if level == 2:
            owner = rng.choice([e for e in ctx.company.heads() if e.department != "Executive"])
            facts.append(Fact(
                fact_id=f"{tid}-series", holder=owner.handle, topic=f"which {kpi.lower()} series",
                keywords=[kpi.lower(), "series", "segment", "chart", "kpi"], require_any=[kpi.lower()],
                reply=f"For the {kpi.lower()} report I follow the '{asked}' series.",
                clue_ids=[f"{tid}-series"]))
            clues.append(Clue(clue_id=f"{tid}-series", description="which series of the chart is meant",
                              location="colleague", where=f"ask {owner.handle}"))
            plan += ask(owner.handle, f"Which {kpi.lower()} series do you follow on the chart?")
            who = f"the {kpi.lower()} series that {owner.name} ({owner.handle}) follows (ask them which one)"
        elif n_series > 1:
            who = f"the '{asked}' series"
        else:
            who = f"{kpi.lower()}"
        plan += [ToolCall(name="read_file", arguments={"path": chart_path}),
                 ToolCall(name="submit", arguments={"task_id": tid, "answer": answer})]
        objective = (f"For the monthly KPI report, read the chart {chart_path} and report, for {who}, {question}. "
                     f"Submit {fmt_hint}.")
        needed = [c.clue_id for c in clues]
        checkpoints = [
            Checkpoint(cp_id=f"kpi-{field}", description=f"the {field.replace('_', ' ')} read from the chart",
                       clue_ids=needed,
                       check=SubmissionCheck(field=field, expected=field, compare=how,
                                             tolerance=tol),
                       feedback="Read it off the chart (check which series the legend gives it)."
                       + (" Ask who follows the KPI which series they mean." if level == 2 else ""))
            for field, how, tol in checks
        ]
        return ctx.instance(
            self, objective=objective, files=files, facts=facts, clues=clues, checkpoints=checkpoints, solution=plan,
            answers=expected)

    def baseline(self, view: BaselineView) -> list[ToolCall]:
        """Without reading values: a plausible-looking answer in the requested format."""
        obj = view.objective
        if '"month"' in obj:
            answer: dict[str, Any] = {"month": view.rng.choice(calendar.month_name[1:])}
        elif '"months"' in obj:
            answer = {"months": view.rng.sample(list(calendar.month_name[1:7]), 2)}
        elif '"growth_pct"' in obj:
            answer = {"growth_pct": 10.0}
        else:
            alt = next((t for t in view.texts.values() if t.startswith("[image") and "Values:" in t), "")
            nums = [float(x) for x in re.findall(r"\b\d+\.\d\b", alt)]
            answer = {"value": sum(nums) / len(nums) if nums else 100.0}
        return [ToolCall(name="submit", arguments={"task_id": view.task_id, "answer": answer})]


@register_renderer(RENDERER)
def render_chart(p: dict[str, Any]) -> Image.Image:
    rng = random.Random(p["seed"])
    width, height = rng.choice(((720, 480), (760, 500), (680, 460), (800, 520)))
    bg = jitter((255, 255, 255) if rng.random() < 0.7 else (246, 246, 240), rng, 3)
    ink = jitter((50, 50, 60), rng, 15)
    grid_c = jitter((215, 215, 220), rng, 8)
    palette = PALETTES[int(p["palette"])]
    img = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(img)
    ts, ls = rng.randint(17, 21), rng.randint(12, 14)
    d.text(((width - freetype_width(p["title"], ts)) // 2 if rng.random() < 0.5 else 20, 14), p["title"],
           font=font(ts), fill=ink)
    series: list[str] = p["series"]
    legend = p["legend"] if len(series) > 1 else "none"
    left, right = 70, width - (150 if legend == "right" else 30)
    top = 14 + ts + (40 if legend == "top" else 22)
    bottom = height - (80 if legend == "bottom" else 50)
    ymax, ticks = float(p["ymax"]), int(p["ticks"])

    def y_of(v: float) -> float:
        return bottom - (bottom - top) * v / ymax

    for k in range(ticks + 1):
        v = ymax * k / ticks
        y = round(y_of(v))
        if p["grid"] and k:
            d.line((left, y, right, y), fill=grid_c, width=1)
        d.line((left - 5, y, left, y), fill=ink, width=1)
        label = f"{v:g}"
        d.text((left - 9 - freetype_width(label, ls), y - ls // 2 - 1), label, font=font(ls), fill=ink)
    d.line((left, top - 5, left, bottom), fill=ink, width=2)
    d.line((left, bottom, right, bottom), fill=ink, width=2)
    d.text((8, top - ls - 12), p["unit"], font=font(ls - 1), fill=ink)
    months: list[str] = p["months"]
    slot = (right - left) / len(months)
    for i, m in enumerate(months):
        cx = left + slot * (i + 0.5)
        d.text((cx - freetype_width(m, ls) / 2, bottom + 8), m, font=font(ls), fill=ink)
        d.line((cx, bottom, cx, bottom + 4), fill=ink, width=1)
    data: list[list[float]] = p["data"]
    n = len(series)
    if p["kind"] == "bar":
        bw = slot * 0.75 / n
        for s, values in enumerate(data):
            for i, v in enumerate(values):
                x0 = left + slot * i + slot * 0.125 + bw * s
                d.rectangle((round(x0), round(y_of(v)), round(x0 + bw) - 1, bottom - 1), fill=palette[s])
                if p["labels"]:
                    lab = _fmt(v)
                    d.text((x0 + bw / 2 - freetype_width(lab, ls - 2) / 2, y_of(v) - ls - 2), lab, font=font(ls - 2),
                           fill=ink)
    else:
        for s, values in enumerate(data):
            pts = [(left + slot * (i + 0.5), y_of(v)) for i, v in enumerate(values)]
            d.line(pts, fill=palette[s], width=3)
            for i, (px, py) in enumerate(pts):
                r = 4.0
                shape = (px - r, py - r, px + r, py + r)
                if s == 1:
                    d.rectangle(shape, fill=palette[s])
                elif s == 2:
                    d.polygon([(px, py - r - 1), (px + r + 1, py + r), (px - r - 1, py + r)], fill=palette[s])
                else:
                    d.ellipse(shape, fill=palette[s])
                if p["labels"]:
                    lab = _fmt(values[i])
                    d.text((px - freetype_width(lab, ls - 2) / 2, py - ls - 8), lab, font=font(ls - 2), fill=ink)
    if p["target"] is not None:
        ty = round(y_of(float(p["target"])))
        for x in range(left, right, 12):
            d.line((x, ty, min(x + 7, right), ty), fill=(200, 30, 30), width=2)
        d.text((right - freetype_width("Target", ls) - 2, ty - ls - 4), "Target", font=font(ls), fill=(200, 30, 30))
    if legend != "none":
        entries = [(s, palette[i]) for i, s in enumerate(series)]
        if legend == "right":
            x, y = right + 20, top + 10
            for name, c in entries:
                d.rectangle((x, y + 2, x + 12, y + 14), fill=c)
                d.text((x + 18, y), name, font=font(ls), fill=ink)
                y += ls + 10
        else:
            total = sum(freetype_width(name, ls) + 40 for name, _ in entries)
            x = (width - total) // 2
            y = top - 30 if legend == "top" else height - 34
            for name, c in entries:
                d.rectangle((x, y + 2, x + 12, y + 14), fill=c)
                d.text((x + 18, y), name, font=font(ls), fill=ink)
                x += freetype_width(name, ls) + 40
    return add_noise(img, int(p["seed"]), float(p["noise"]))
