import numpy as np
import pytest

from sar_change.algorithms.reports.speckle import html_report
from sar_change.algorithms.sar import despeckle, speckle_qa
from sar_change.algorithms.simulation import pair as simulate


@pytest.fixture(scope="module")
def scene():
    return simulate.simulate_pair(256, 256, looks=1, seed=3)


def test_enl_of_unfiltered_single_look_speckle_is_about_one():
    rng = np.random.default_rng(0)
    image = rng.gamma(1.0, 1.0, (256, 256)).astype(np.float32)
    blocks = speckle_qa.homogeneous_blocks(image, 32, 10)
    assert len(blocks) == 10
    assert 0.8 < speckle_qa.enl(image, blocks, 32) < 1.25


def test_blocks_of_a_stack_are_homogeneous_at_every_date():
    rng = np.random.default_rng(1)
    stack = rng.gamma(4.0, 0.25, (3, 128, 128))
    assert speckle_qa.homogeneous_blocks(stack[:1], 32, 16) == speckle_qa.homogeneous_blocks(stack[0], 32, 16)
    stack[1, 32:48, :] *= 0.1  # half of four blocks flooded at the second date
    blocks = speckle_qa.homogeneous_blocks(stack, 32, 12)
    assert len(blocks) == 12 and all(r != 32 for r, _ in blocks)
    assert any(r == 32 for r, _ in speckle_qa.homogeneous_blocks(stack[0], 32, 16))


def _blocks_by_loop(stack, block, count):
    """The block ranking of :func:`speckle_qa.homogeneous_blocks`, one block at a time (reference)."""
    from scipy import ndimage

    worst, skipped = {}, set()
    for image in stack:
        smooth = ndimage.uniform_filter(np.nan_to_num(image.astype(np.float64), nan=0.0), 7, mode="nearest")
        for r in range(0, image.shape[0] - block + 1, block):
            for c in range(0, image.shape[1] - block + 1, block):
                window = image[r : r + block, c : c + block].astype(np.float64)
                if not np.isfinite(window).all() or not window.std() > 1e-6 * abs(window.mean()):
                    skipped.add((r, c))
                    continue
                s = smooth[r : r + block, c : c + block]
                if s.mean() > 0:
                    worst[(r, c)] = max(worst.get((r, c), 0.0), s.std() / s.mean())
                else:
                    skipped.add((r, c))
    return [(r, c) for _, r, c in sorted((v, r, c) for (r, c), v in worst.items() if (r, c) not in skipped)[:count]]


@pytest.mark.parametrize("block,count", [(32, 10), (24, 24), (8, 1000)])
def test_block_ranking_equals_the_block_by_block_reference(block, count):
    rng = np.random.default_rng(1)
    stack = rng.gamma(2.0, 1.0, (3, 130, 97)) * np.linspace(1, 3, 97)
    stack[0, :20, :40] = np.nan  # no data at one date
    stack[1, 50:90, :] = 5.0  # saturated at another
    stack[2, :, 80:] = 0.0  # zero (outside the swath)
    for image in (stack, stack[0], rng.gamma(4.0, 1.0, (301, 333)).astype(np.float32)):
        expected = _blocks_by_loop(image[None] if image.ndim == 2 else image, block, count)
        assert speckle_qa.homogeneous_blocks(image, block, count) == expected


def test_filters_raise_enl_and_keep_ratio_mean_near_one(scene):
    noisy = scene["before"]
    filtered = {m: despeckle.despeckle(noisy, m, window=7) for m in ("boxcar", "lee", "refined_lee")}
    qualities, blocks, noisy_enl = speckle_qa.assess(noisy, filtered, reference=scene["sigma0_before"])
    (unfiltered,), _, _ = speckle_qa.assess(noisy, {"none": noisy}, reference=scene["sigma0_before"])
    assert noisy_enl < 1.5
    for q in qualities:
        assert q.enl > 3 * noisy_enl
        assert abs(q.ratio_mean - 1) < 0.1
        assert unfiltered.epi < q.epi <= 1  # closer to the noise-free edges than the speckled input


def test_edge_preservation_favours_refined_lee_over_boxcar_on_sharp_edges():
    rng = np.random.default_rng(1)
    truth = np.where((np.arange(192)[:, None] // 48 + np.arange(192)[None, :] // 48) % 2, 1.0, 0.1)
    noisy = (truth * rng.gamma(4, 1 / 4, truth.shape)).astype(np.float32)
    filtered = {m: despeckle.despeckle(noisy, m, window=7, looks=4) for m in ("boxcar", "refined_lee")}
    qualities, _, _ = speckle_qa.assess(noisy, filtered, reference=truth, block=16)
    by_name = {q.name: q for q in qualities}
    assert by_name["refined_lee"].epi > by_name["boxcar"].epi


def test_identity_filter_has_unit_ratio_and_zero_ratio_variance(scene):
    noisy = scene["before"]
    (q,), _, _ = speckle_qa.assess(noisy, {"none": noisy})
    assert q.ratio_mean == pytest.approx(1.0)
    assert q.ratio_variance == pytest.approx(0.0, abs=1e-12)
    assert q.epi == pytest.approx(1.0)


def test_html_report_has_table_and_histogram(scene):
    noisy = scene["before"]
    qualities, blocks, noisy_enl = speckle_qa.assess(noisy, {"lee": despeckle.lee(noisy)})
    html = html_report(qualities, blocks, noisy_enl, block=32, looks=1, title="QA <test>")
    assert "<table>" in html and "<svg" in html and "polyline" in html
    assert "QA &lt;test&gt;" in html


def test_shape_mismatch_raises_naming_the_filter(scene):
    with pytest.raises(ValueError, match="'small'"):
        speckle_qa.assess(scene["before"], {"small": scene["before"][:10, :10]})
