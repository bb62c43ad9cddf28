"""The pictures in feedback.html and report.html, as PNG bytes (matplotlib, Agg).

The data comes from result files: numbers a submission produced (recorded losses, a
trained model's weights), so anything can be in them: NaN, infinity, ``None``, a
string, a list of the wrong length, a million entries. Every function here draws
what can be drawn and says in the picture what could not; none raises on bad data.
Student values are never parsed as text (``parse_math=False`` on every label), and
every figure is a ``matplotlib.figure.Figure`` on its own Agg canvas: no pyplot, no
global state, no display.

Rendering is the costly part of feedback.html (tens of milliseconds a figure), so a
figure is drawn only where it helps, and identical figures (the same score bars, say)
are drawn once per process (``functools.lru_cache`` on the figure's plain data).
"""
from __future__ import annotations

import base64
import functools
import io
import math
import textwrap

MAX_POINTS = 2000  # points drawn per curve or scatter; longer data is thinned evenly
COLORS = {"reference": "#1f5fa8", "student": "#d2691e", "full": "#2e8b57", "partial": "#e0a030",
          "zero": "#c0392b", "class0": "#7fa7d9", "class1": "#f0a868", "bar": "#5b7fb0"}


# --- turning result data into something drawable ---------------------------------------

def number(value) -> float:
    """``value`` as a float, or NaN when it is not a real number (bools, strings, None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    try:
        return float(value)
    except (OverflowError, ValueError):
        return math.nan


def series(values) -> list:
    """A list of floats (NaN for anything that is not a number) from any value."""
    if not isinstance(values, (list, tuple)):
        return []
    return [number(v) for v in values]


def thin(values: list, limit: int = MAX_POINTS) -> tuple:
    """``(positions, values)`` with at most ``limit`` entries, evenly spaced."""
    step = max(1, math.ceil(len(values) / limit))
    positions = list(range(0, len(values), step))
    return [p + 1 for p in positions], [values[p] for p in positions]


def linear_model(model) -> tuple | None:
    """``(w1, w2, b)`` of a 2-D linear model, or None when it has no drawable boundary
    (missing, wrong shape, not finite, or W = 0)."""
    if not isinstance(model, dict):
        return None
    weights = model.get("W")
    if isinstance(weights, (list, tuple)) and len(weights) == 2 and all(
            isinstance(w, (list, tuple)) and len(w) == 1 for w in weights):
        weights = [w[0] for w in weights]  # a (2, 1) column
    bias = model.get("b")
    if isinstance(bias, (list, tuple)) and len(bias) == 1:
        bias = bias[0]
    if not isinstance(weights, (list, tuple)) or len(weights) != 2:
        return None
    w1, w2, b = number(weights[0]), number(weights[1]), number(bias)
    if not all(math.isfinite(v) for v in (w1, w2, b)) or (w1 == 0 and w2 == 0):
        return None
    return w1, w2, b


def points(inputs, targets) -> tuple:
    """``(x1s, x2s, classes)``: the finite 2-D points (at most ``MAX_POINTS``) and their
    class (0, 1, or None when the targets do not fit)."""
    if not isinstance(inputs, (list, tuple)):
        return [], [], []
    targets = targets if isinstance(targets, (list, tuple)) and len(targets) == len(inputs) \
        else [None] * len(inputs)
    step = max(1, math.ceil(len(inputs) / MAX_POINTS))
    x1s, x2s, classes = [], [], []
    for row, target in zip(inputs[::step], targets[::step]):
        if isinstance(row, (list, tuple)) and len(row) == 2:
            x1, x2 = number(row[0]), number(row[1])
            if math.isfinite(x1) and math.isfinite(x2):
                x1s.append(x1)
                x2s.append(x2)
                t = number(target)
                classes.append(int(t) if t in (0.0, 1.0) else None)
    return x1s, x2s, classes


def boundary_segment(model: tuple, box: tuple) -> tuple | None:
    """The two ends of the line ``x1*w1 + x2*w2 + b = 0`` inside ``box`` (x0, x1, y0, y1),
    or None when the line misses the box."""
    w1, w2, b = model
    x_lo, x_hi, y_lo, y_hi = box
    ends = []
    if w2 != 0:
        ends += [(x, -(b + w1 * x) / w2) for x in (x_lo, x_hi)]
    if w1 != 0:
        ends += [(-(b + w2 * y) / w1, y) for y in (y_lo, y_hi)]
    inside = sorted({(round(x, 12), round(y, 12)) for x, y in ends
                     if x_lo - 1e-9 <= x <= x_hi + 1e-9 and y_lo - 1e-9 <= y <= y_hi + 1e-9})
    return (inside[0], inside[-1]) if len(inside) >= 2 else None


def first_bad_step(values: list) -> int | None:
    """The 1-based step of the first value that is not a finite number, or None."""
    return next((i + 1 for i, v in enumerate(values) if not math.isfinite(v)), None)


# --- drawing ---------------------------------------------------------------------------------

def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI for an ``<img>``: the page needs no other file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _note(ax, text: str, y: float = 0.5) -> None:
    ax.text(0.5, y, text, transform=ax.transAxes, ha="center", va="center", fontsize=8,
            color="#555", wrap=True, parse_math=False,
            bbox={"boxstyle": "round", "facecolor": "#fff8e6", "edgecolor": "#e0c080"})


def _style(ax, title: str) -> None:
    title = textwrap.shorten(" ".join(title.split()), 80, placeholder=" …")
    ax.set_title(textwrap.fill(title, 36), fontsize=8, loc="left", parse_math=False)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def draw_curve(ax, curve: dict, show_reference: bool) -> None:
    """One panel: the student's losses (dashed) against the reference's (solid)."""
    student = series(curve.get("student"))
    reference = series(curve.get("reference")) if show_reference else []
    _style(ax, str(curve.get("label") or "losses"))
    ax.set_xlabel("step", fontsize=7)
    ax.set_ylabel("loss", fontsize=7)
    finite = [v for v in student + reference if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 30:
        ax.set_yscale("log")
    for values, who, style in ((reference, "reference", "-"), (student, "student", "--")):
        if any(math.isfinite(v) for v in values):
            xs, ys = thin(values)
            ax.plot(xs, [y if math.isfinite(y) else math.nan for y in ys], style,
                    color=COLORS[who], linewidth=1.6, label="yours" if who == "student" else who)
    bad = first_bad_step(student)
    if not student:
        _note(ax, "no losses were recorded")
    elif bad is not None:
        if bad <= len(student):
            ax.axvline(bad, color=COLORS["zero"], linestyle=":", linewidth=1)
        _note(ax, f"your loss is not a finite number from step {bad} on", 0.85)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False)


def draw_boundary(ax, boundary: dict, show_reference: bool) -> None:
    """One panel: the data coloured by class, and where each trained model puts the
    boundary (probability 0.5: ``x @ W + b = 0``)."""
    _style(ax, str(boundary.get("label") or "decision boundary"))
    x1s, x2s, classes = points(boundary.get("inputs"), boundary.get("targets"))
    if not x1s:
        _note(ax, "no data to draw")
        return
    for cls in (0, 1, None):
        chosen = [i for i, c in enumerate(classes) if c == cls]
        if chosen:
            ax.scatter([x1s[i] for i in chosen], [x2s[i] for i in chosen], s=6, linewidths=0,
                       color=COLORS.get(f"class{cls}", "#999"),
                       label=f"class {cls}" if cls is not None else "data")
    pad_x = (max(x1s) - min(x1s)) * 0.08 or 1.0
    pad_y = (max(x2s) - min(x2s)) * 0.08 or 1.0
    box = (min(x1s) - pad_x, max(x1s) + pad_x, min(x2s) - pad_y, max(x2s) + pad_y)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    notes = []
    for who, style in (("reference", "-"), ("student", "--")):
        if who == "reference" and not show_reference:
            continue
        model = linear_model(boundary.get(who))
        segment = boundary_segment(model, box) if model else None
        name = "your model" if who == "student" else "the reference"
        if segment:
            (xa, ya), (xb, yb) = segment
            ax.plot([xa, xb], [ya, yb], style, color=COLORS[who], linewidth=2,
                    label="your boundary" if who == "student" else "reference boundary")
        elif model:
            notes.append(f"{name}'s boundary lies outside this view")
        else:
            notes.append(f"{name} has no boundary to draw (weights missing, not finite or zero)")
    ax.legend(fontsize=6, loc="best", frameon=True, framealpha=0.85, edgecolor="none")
    if notes:
        _note(ax, "\n".join(notes), 0.1)


def exercise_png(curves, boundary, show_reference: bool = True) -> bytes | None:
    """One figure for a training exercise: a panel per loss curve (at most two) and one
    for the decision boundary; None when there is nothing to draw."""
    curves = [c for c in curves if isinstance(c, dict)][:2] if isinstance(curves, list) else []
    boundary = boundary if isinstance(boundary, dict) else None
    panels = len(curves) + (boundary is not None)
    if not panels:
        return None
    figure = _figure(3.4 * panels, 2.9)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    for ax, curve in zip(axes, curves):
        draw_curve(ax, curve, show_reference)
    if boundary is not None:
        draw_boundary(axes[-1], boundary, show_reference)
    figure.subplots_adjust(left=0.18 / panels + 0.04, right=0.98, bottom=0.16, top=0.84,
                           wspace=0.32)
    return _png(figure)


@functools.lru_cache(maxsize=512)
def score_bars_png(rows: tuple) -> bytes:
    """The summary figure every student gets: a bar per exercise, the share of its
    points earned. ``rows`` is a tuple of ``(name, score, max)``."""
    figure = _figure(6.4, 0.24 * len(rows) + 0.7)
    ax = figure.add_subplot()
    names = [name for name, _, _ in rows]
    shares = [max(0.0, min(1.0, score / top)) if top else 0.0 for _, score, top in rows]
    colors = [COLORS["full"] if s >= 1 else COLORS["zero"] if s <= 0 else COLORS["partial"]
              for s in shares]
    ax.barh(range(len(rows)), [max(s, 0.005) for s in shares], color=colors, height=0.7)
    ax.set_yticks(range(len(rows)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0", "25%", "50%", "75%", "100%"], fontsize=7)
    for i, (_, score, top) in enumerate(rows):
        ax.text(1.01, i, f"{score:g} / {top:g}", va="center", fontsize=7,
                transform=ax.get_yaxis_transform(), parse_math=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.subplots_adjust(left=0.27, right=0.86, bottom=0.5 / (0.24 * len(rows) + 0.7),
                           top=1 - 0.15 / (0.24 * len(rows) + 0.7))
    return _png(figure)


def histogram_png(values: list, top: float, xlabel: str, bins: int = 20) -> bytes:
    """A histogram of ``values`` from 0 to ``top`` (the class report's)."""
    figure = _figure(6.4, 2.6)
    ax = figure.add_subplot()
    finite = [v for v in (number(x) for x in values) if math.isfinite(v)]
    if finite:
        ax.hist(finite, bins=bins, range=(0, max(top, max(finite)) or 1), color=COLORS["bar"],
                edgecolor="white")
    else:
        _note(ax, "no values")
    ax.set_xlabel(xlabel, fontsize=8, parse_math=False)
    ax.set_ylabel("students", fontsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.95)
    return _png(figure)
