"""Small HTML/SVG helpers for the reports (no plotting library needed)."""

from typing import Sequence, Tuple

import numpy as np

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
STYLE = (
    "body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse}"
    " td,th{border:1px solid #bbb;padding:4px 10px;text-align:right} td:first-child{text-align:left}"
)


def escape(text) -> str:
    """Escape text for HTML."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg_histogram(
    series: Sequence[Tuple[str, np.ndarray, np.ndarray]],
    *,
    markers: Sequence[Tuple[str, float]] = (),
    x_label: str = "",
    width: int = 640,
    height: int = 240,
    colours: dict = None,
) -> str:
    """Histograms as polylines in one inline SVG.

    Parameters
    ----------
    series : sequence of (name, counts, edges)
        As returned by ``numpy.histogram``; all on the same bin edges' range.
    markers : sequence of (label, x)
        Vertical lines (thresholds, test levels) in data units.
    colours : dict, optional
        ``#rrggbb`` by series name (e.g. the change classes' colours); others take :data:`COLOURS`.
    """
    lo = min(float(edges[0]) for _, _, edges in series)
    hi = max(float(edges[-1]) for _, _, edges in series)
    span = hi - lo or 1.0
    peak = max((float(np.max(counts)) for _, counts, _ in series), default=1.0) or 1.0

    def x_of(v):
        return (v - lo) / span * width

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 48}">',
        f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for i, (name, counts, edges) in enumerate(series):
        centres = (np.asarray(edges[:-1]) + np.asarray(edges[1:])) / 2
        points = " ".join(f"{x_of(c):.1f},{height - n / peak * (height - 10):.1f}" for c, n in zip(centres, counts))
        colour = (colours or {}).get(name) or COLOURS[i % len(COLOURS)]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.append(f'<text x="{10 + 150 * i}" y="{height + 44}" fill="{colour}" font-size="13">{escape(name)}</text>')
    for label, value in markers:
        x = x_of(value)
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#000" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x + 3:.1f}" y="14" font-size="11">{escape(label)}</text>')
    for k in range(5):
        v = lo + span * k / 4
        parts.append(f'<text x="{x_of(v) + 2:.1f}" y="{height + 14}" font-size="11">{v:.3g}</text>')
    if x_label:
        parts.append(f'<text x="{width / 2:.0f}" y="{height + 28}" font-size="12">{escape(x_label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def svg_bars(values: Sequence[Tuple[str, float]], *, y_label: str = "", width: int = 640, height: int = 220) -> str:
    """A bar chart (inline SVG) of ``(label, value)`` pairs, values >= 0, each bar labelled with its value."""
    peak = max((v for _, v in values), default=0.0) or 1.0
    step = width / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}">',
        f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for i, (label, value) in enumerate(values):
        bar = value / peak * (height - 24)
        x = i * step + step * 0.15
        box = f'x="{x:.1f}" y="{height - bar:.1f}" width="{step * 0.7:.1f}" height="{bar:.1f}"'
        parts.append(f'<rect {box} fill="{COLOURS[0]}"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - bar - 4:.1f}" font-size="11">{value:.4g}</text>')
        parts.append(f'<text x="{x:.1f}" y="{height + 16}" font-size="12">{escape(label)}</text>')
    if y_label:
        parts.append(f'<text x="4" y="{height + 34}" font-size="12">{escape(y_label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def page(title: str, body: str) -> str:
    """A complete HTML page."""
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n{body}\n</body></html>\n"
    )
