"""HTML report of a change detection: statistic histogram, decision level, counts and areas."""

import numpy as np

from ..sar.change.boundaries import filter_name
from ..sar.change.detect import ChangeResult
from ..sar.change.gate import describe_looks
from ..sar.change.pixel import GAIN, LOSS, hex_colour
from ..sar.change.regions import ChangeRegions
from .html import escape, page, svg_histogram

#: The histogram's loss and gain series in the product's colours; the whole sample in dark grey.
CHANGE_COLOURS = {
    "loss": hex_colour(LOSS),
    "gain": hex_colour(GAIN),
    "all pixels": "#555555",
    "sample pixels": "#555555",
}


def _class_rows(regions: ChangeRegions, pixel_area: float) -> str:
    """Table rows of pixels, area and regions per class."""
    counts = regions.class_pixels
    return "\n".join(
        f"<tr><td>{name}</td><td>{n}</td><td>{n * pixel_area:.6g}</td>"
        f"<td>{regions.change.count(name) if name != 'no change' else ''}</td></tr>"
        for name, n in counts.items()
    )


def html_report(
    result: ChangeResult, regions: ChangeRegions, *, method: str, parameters: dict, pixel_area: float
) -> str:
    """The report page for one run of :func:`..sar.change.detect.detect_change` and
    :func:`..sar.change.regions.change_regions`."""
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
    rows = _class_rows(regions, pixel_area)
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
<table><tr><th>class</th><th>pixels</th><th>area (m², from the pixel count)</th><th>regions</th></tr>
{rows}
</table>
<h2>Histogram of the change statistic (dB, after / before)</h2>
{svg_histogram(series, markers=markers, x_label="change (dB)", colours=CHANGE_COLOURS)}"""
    return page("Change detection report", body)


def automatic_report(run, regions: ChangeRegions, *, parameters: dict, pixel_area: float) -> str:
    """The report of an ``automatic`` run (:func:`..workflows.change.detect_change_rasters`).

    Shows the decision statistic's histogram (on the sample the model was fitted on) with the
    Kittler-Illingworth thresholds and the minimum change, the estimated looks, gain and noise
    floor per channel, the notes of the fit, and the counts and areas per class.
    """
    model = run.model
    stat = run.sample_statistic[np.isfinite(run.sample_statistic)]
    lo, hi = np.percentile(stat, [0.2, 99.8]) if stat.size else (-6.0, 6.0)
    lo, hi = min(lo, -6.0), max(hi, 6.0)
    series = [("sample pixels", *np.histogram(stat, bins=120, range=(lo, hi)))]
    for value, name in ((LOSS, "loss"), (GAIN, "gain")):
        chosen = run.sample_statistic[(run.sample_classes == value) & np.isfinite(run.sample_statistic)]
        if chosen.size:
            series.append((name, *np.histogram(chosen, bins=120, range=(lo, hi))))
    markers = [(f"-{model.min_change_db:g} dB minimum", -model.min_change_db)]
    markers.append((f"+{model.min_change_db:g} dB minimum", model.min_change_db))
    for name, side in (("loss threshold", model.loss), ("gain threshold", model.gain)):
        if side.threshold is not None:
            markers.append((f"{name} {side.threshold:+.2f} dB", side.threshold))
    for name, k in (("loss boundary", LOSS), ("gain boundary", GAIN)):
        level = model.boundary_threshold(k) if model.fine_window else None
        if level is not None:
            markers.append((f"{name} {level:+.2f} dB", level))
    channels = "\n".join(
        f"<tr><td>{c + 1}</td><td>{model.pixel_looks[c]:.2f}</td><td>{describe_looks(model.test_looks[c])}</td>"
        f"<td>{model.gain_db[c]:+.2f}</td><td>{model.noise_floor_db[c]:.2f}</td></tr>"
        for c in range(model.channels)
    )
    rows = _class_rows(regions, pixel_area)
    settings = "".join(f"<li>{escape(k)} = {escape(v)}</li>" for k, v in parameters.items() if v is not None)
    notes = "".join(f"<li>{escape(n)}</li>" for n in model.notes)

    fine = (
        f"; boundaries redrawn on the dates filtered by {filter_name(model.fine_window)}, "
        "half-way between the class centres"
        if model.fine_window
        else ""
    )

    def threshold(side):
        return "none (no separate population)" if side.threshold is None else f"{side.threshold:+.2f} dB"

    body = f"""<p>Method: <b>automatic</b>. Input scale: before <b>{escape(run.scale_before)}</b>,
after <b>{escape(run.scale_after)}</b>.</p>
<ul>{settings}</ul>
<p>Detection window {model.window} x {model.window} pixels{fine}. Thresholds (Kittler-Illingworth,
generalised Gaussian classes): loss {threshold(model.loss)}, gain {threshold(model.gain)}. A pixel is change only
where the likelihood-ratio test of its local means rejects at ALPHA = {model.alpha:g}, its change is at
least {model.min_change_db:g} dB, and it is not under the noise floor on both dates.</p>
<table><tr><th>channel</th><th>looks per pixel</th><th>looks of the window (the test's)</th>
<th>gain after/before (dB, removed)</th><th>noise floor (dB)</th></tr>
{channels}
</table>
<ul>{notes}</ul>
<table><tr><th>class</th><th>pixels</th><th>area (m², from the pixel count)</th><th>regions</th></tr>
{rows}
</table>
<h2>Histogram of the decision statistic (dB, after / before, gain removed)</h2>
{svg_histogram(series, markers=markers, x_label="change (dB)", colours=CHANGE_COLOURS)}"""
    return page("Change detection report", body)
