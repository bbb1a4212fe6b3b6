"""HTML report of a change detection: statistic histogram, decision level, counts and areas."""

import numpy as np

from .change import GAIN, LOSS, NO_CHANGE, ChangeRegions, ChangeResult
from .report import escape, page, svg_histogram


def html_report(
    result: ChangeResult, regions: ChangeRegions, *, method: str, parameters: dict, pixel_area: float
) -> str:
    """The report page for one run of :func:`.change.detect_change` and :func:`.change.change_regions`."""
    stat = result.statistic_db[np.isfinite(result.statistic_db)]
    lo, hi = np.percentile(stat, [0.5, 99.5]) if stat.size else (-1.0, 1.0)
    lo, hi = min(lo, -6.0), max(hi, 6.0)
    series = [("all pixels", *np.histogram(stat, bins=100, range=(lo, hi)))]
    for value, name in ((LOSS, "loss"), (GAIN, "gain")):
        chosen = result.statistic_db[(regions.classes == value) & np.isfinite(result.statistic_db)]
        if chosen.size:
            series.append((name, *np.histogram(chosen, bins=100, range=(lo, hi))))
    markers = []
    if method == "threshold":
        markers = [
            ("loss threshold", float(parameters.get("THRESHOLD_LOSS", -3.0) or -3.0)),
            ("gain threshold", float(parameters.get("THRESHOLD_GAIN", 3.0) or 3.0)),
        ]
    counts = {
        name: int((regions.classes == value).sum())
        for value, name in ((NO_CHANGE, "no change"), (LOSS, "loss"), (GAIN, "gain"))
    }
    rows = "\n".join(
        f"<tr><td>{name}</td><td>{n}</td><td>{n * pixel_area:.6g}</td>"
        f"<td>{regions.change.count(name) if name != 'no change' else ''}</td></tr>"
        for name, n in counts.items()
    )
    settings = "".join(f"<li>{escape(k)} = {escape(v)}</li>" for k, v in parameters.items() if v is not None)
    level = ""
    if method == "likelihood_ratio":
        level = (
            f"<p>Test level: change declared where the likelihood-ratio p-value is below "
            f"ALPHA = {escape(parameters.get('ALPHA', 0.01))}."
        )
        if result.looks_efficiency is not None:
            level += f" Speckle correlation efficiency eta = {result.looks_efficiency:.3f}."
        level += "</p>"
    body = f"""<p>Method: <b>{escape(method)}</b>.</p>
<ul>{settings}</ul>
{level}
<table><tr><th>class</th><th>pixels</th><th>area (map units squared)</th><th>regions</th></tr>
{rows}
</table>
<h2>Histogram of the change statistic (dB, after / before)</h2>
{svg_histogram(series, markers=markers, x_label="change (dB)")}"""
    return page("Change detection report", body)
