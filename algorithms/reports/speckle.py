"""The speckle-filter quality report: equivalent looks before and after, edge preservation."""

from typing import Sequence

from ..sar.speckle_qa import FilterQuality, format_enl


def html_report(
    qualities: Sequence[FilterQuality], blocks, noisy_enl: float, *, block: int, looks: float, title: str
) -> str:
    """An HTML page with the figures in a table and the ratio histograms as an inline SVG."""
    from .html import escape, page, svg_histogram

    rows = "\n".join(
        f"<tr><td>{escape(q.name)}</td><td>{format_enl(q.enl)}</td><td>{q.ratio_mean:.4f}</td>"
        f"<td>{q.ratio_variance:.4f}</td><td>{q.epi:.3f}</td></tr>"
        for q in qualities
    )
    block_list = ", ".join(f"({r}, {c})" for r, c in blocks)
    histogram = svg_histogram(
        [(q.name, *q.ratio_histogram) for q in qualities], markers=[("1", 1.0)], x_label="noisy / filtered"
    )
    body = f"""<p>Nominal looks of the input: {looks:g}.
ENL of the unfiltered input on the same blocks: {format_enl(noisy_enl)}.</p>
<table><tr><th>filter</th><th>ENL (higher smooths more)</th><th>mean of ratio (ideal 1)</th>
<th>variance of ratio (ideal {1 / looks:.3f} = 1/L)</th><th>edge preservation (ideal 1)</th></tr>
{rows}
</table>
<h2>Histogram of the ratio image (noisy / filtered)</h2>
<p>For an ideal filter the ratio is pure speckle: a gamma distribution of mean 1 and variance 1/L.
Structure left in the ratio means the filter removed signal.</p>
{histogram}
<h2>Homogeneous blocks used for the ENL</h2>
<p>{len(blocks)} blocks of {block} x {block} pixels, upper-left corners (row, column): {block_list}.</p>"""
    return page(title, body)
