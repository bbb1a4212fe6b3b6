"""The multi-date change report: changed area per first-change date and the gains removed."""

from ..sar.change.omnibus import StackModel


def years_between(codes) -> list:
    """Years since the previous date for YYYYMMDD ``codes`` (None for the first date); None when
    the codes are not calendar dates (date numbers 1, 2, ...)."""
    import datetime

    try:
        days = [datetime.date(c // 10000, c // 100 % 100, c % 100) for c in (int(c) for c in codes)]
    except ValueError:
        return None
    return [None] + [(b - a).days / 365.25 for a, b in zip(days, days[1:])]


def html_report(
    model: StackModel,
    labels,
    first_area_m2,
    *,
    alpha: float,
    min_change_db: float,
    regions: int,
    shift_px: int = 0,
    years: list = None,
    loss_area_m2=None,
) -> str:
    """The omnibus report: changed area per first-change date (bar chart), the gains removed per date,
    the looks (and each date's, when the test weighs them) and the noise floor used, and the parameters.
    ``years`` (since the previous date, see :func:`years_between`) adds the area per year: dates
    unevenly spaced gather unequal spans of change.
    ``loss_area_m2`` (per date, the area of the regions whose level fell at their first change) splits
    each date's area into losses and gains: what changed, not only when."""
    from .html import escape, page, svg_bars

    channels = model.channels or (model,)

    def per_year(i, area):
        if not years:
            return ""
        return "<td></td><td></td>" if not years[i] else f"<td>{years[i]:.2f}</td><td>{area / 1e4 / years[i]:.3g}</td>"

    def split(i, area):
        if loss_area_m2 is None:
            return ""
        loss = loss_area_m2[i]
        return f"<td>{loss / 1e4:.4g}</td><td>{max(area - loss, 0.0) / 1e4:.4g}</td>"

    rows = "\n".join(
        f"<tr><td>{escape(label)}</td>"
        + "".join(f"<td>{gains[i]:+.2f}</td>" for gains in [c.gains_db for c in channels])
        + (f"<td>{model.date_looks[i]:.1f}</td>" if model.date_looks else "")
        + f"<td>{area / 1e4:.4g}</td>{split(i, area)}{per_year(i, area)}</tr>"
        for i, (label, area) in enumerate(zip(labels, first_area_m2))
    )
    split_heads = (
        "<th>of which losses: level fell (ha)</th><th>gains: level rose (ha)</th>" if loss_area_m2 is not None else ""
    )
    year_heads = "<th>years since the previous date</th><th>per year (ha/yr)</th>" if years else ""
    gain_heads = "".join(
        f"<th>gain removed{'' if len(channels) == 1 else f', polarisation {n + 1}'} (dB)</th>"
        for n in range(len(channels))
    )
    floor = ", ".join("none" if c.floor is None else f"{c.floor_db:.2f} dB" for c in channels)
    dated = (
        ", shared out among the dates by the ENL of each date on the same homogeneous blocks (table below)"
        if model.date_looks
        else ""
    )
    unit = "pixel" if model.window <= 1 else f"{model.window} x {model.window} window mean"
    if len(channels) > 1:
        unit += f", {len(channels)} polarisations jointly"
    tolerance = (
        f", against the earlier level within {shift_px} pixel{'s' if shift_px > 1 else ''} too "
        "(misregistration tolerated)"
        if shift_px and min_change_db > 0
        else ""
    )
    looks_head = "<th>looks (the test's weight)</th>" if model.date_looks else ""
    body = f"""<p>Tested: each {unit}. Looks of its date-to-date variation: <b>{model.looks:.2f}</b>{dated}.
Noise floor: <b>{floor}</b>.
ALPHA = {alpha:g}; a change must also move the mean level by at least {min_change_db:g} dB{tolerance}.
{regions} changed regions kept.</p>
<h2>Changed area by date of first change (ha)</h2>
{svg_bars([(str(label), area / 1e4) for label, area in zip(labels[1:], first_area_m2[1:])], y_label="hectares")}
<h2>Dates</h2>
<table><tr><th>date</th>{gain_heads}{looks_head}<th>first changed here (ha)</th>{split_heads}{year_heads}</tr>
{rows}
</table>"""
    return page("Multi-date change report", body)
