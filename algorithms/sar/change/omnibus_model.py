"""The model a real stack needs before the omnibus test: gains, looks and noise floor of each date.

Fitted on a sample of the stack (:func:`fit_stack`); :func:`joint_model` joins the fits of two
polarisations of the same dates.
"""

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...common.deps import require


@dataclass
class StackModel:
    """What a real stack needs before the test: see :func:`fit_stack`.

    Attributes
    ----------
    looks : float
        Equivalent looks of the date-to-date variation (speckle, texture, sensor noise).
    gains_db : (k,) ndarray
        Gain of each date against the stack (dB), removed before testing (zeros without
        normalisation).
    floor : float or None
        Noise floor (linear intensity), or None when not estimated.
    window : int
        Side (pixels) of the window means the test compares; ``looks`` are theirs (1: pixels).
    pixel_looks : float or None
        Looks of one pixel of one date (the fewer of the channels'), for the floor test of the
        pixels' own levels beside window means; None: ``looks``.
    date_looks : tuple of float or None
        Looks of each date (:func:`date_looks`), by which the test weighs the dates: the dates of
        two sensors can differ (JAXA's ALOS mosaics have twice the ENL of ALOS-2's); None:
        ``looks`` for every date.
    floor_is_noise : bool
        The floor is a noise floor (given, or a dark population :data:`FLOOR_DEPTH_DB` or more
        under the median level), which a side must exceed significantly; else a percentile of a
        scene without one, a plain threshold.
    channels : tuple of StackModel
        With several polarisations tested jointly, the model of each (``gains_db`` and ``floor``
        above are the first one's); empty for one.
    """

    looks: float
    gains_db: np.ndarray
    floor: float = None
    window: int = 1
    channels: tuple = ()
    floor_is_noise: bool = True
    pixel_looks: float = None
    date_looks: tuple = None

    @property
    def floor_db(self):
        return None if self.floor is None else float(10 * np.log10(self.floor))

    @property
    def gain_factors(self) -> np.ndarray:
        """``(channels, dates, 1, 1)`` linear gains to divide a stack by before the test."""
        return np.stack([10 ** (channel.gains_db / 10) for channel in self.channels or (self,)])[:, :, None, None]

    @property
    def test_floor(self):
        """The ``floor`` of :func:`omnibus_changes`: one per channel, or None unless every channel has one."""
        floors = [channel.floor for channel in self.channels or (self,)]
        if any(floor is None for floor in floors):
            return None
        return floors[0] if len(floors) == 1 else floors


def joint_model(fits: Sequence[StackModel], *, looks: float = None, window: int = 1, dated: tuple = None) -> StackModel:
    """One model from the :func:`fit_stack` of each polarisation of the same dates.

    The joint test takes one number of looks: ``looks``, else the fewer of the fits' (and
    ``dated`` for each date, see :attr:`StackModel.date_looks`). Each
    channel keeps its gains and floor (in ``channels``, the first one's also on the model); a
    single fit comes back alone, with no ``channels``.
    """
    pooled = min(fit.looks for fit in fits) if looks is None else float(looks)
    noise, pixel = all(fit.floor_is_noise for fit in fits), min(fit.looks for fit in fits)
    channels = tuple(StackModel(pooled, fit.gains_db, fit.floor, window, (), noise, pixel, dated) for fit in fits)
    if len(channels) == 1:
        return channels[0]
    return StackModel(pooled, channels[0].gains_db, channels[0].floor, window, channels, noise, pixel, dated)


def _date_step(logs: np.ndarray, t: int) -> float:
    """Log-level step of date ``t`` against the median of the other dates: the mode over the
    pixels (:func:`.stats.mode_centre_scale`), 0 when the date has no spread against them."""
    from .stats import mode_centre_scale

    others = _median_over_dates(np.delete(logs, t, axis=0))
    try:
        return mode_centre_scale(logs[t] - others, f"log-ratio of date {t + 1} to the others")[0]
    except ValueError:  # the same image given twice: no step
        return float(np.median(logs[t] - others))


def _median_over_dates(logs: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """``np.median(logs, axis=0)`` of finite ``(k, n)`` values, a chunk of pixels at a time.

    The same values bit for bit: each chunk is sorted along the dates and the middle taken (the
    mean of the two middle ones for even ``k``), which for the few dates of a stack is ~1.6x
    faster than the median's partition along the first axis; the copy sorted is one chunk.
    """
    k = logs.shape[0]

    def middle(part):
        ordered = np.sort(part, axis=0)
        return ordered[k // 2] if k % 2 else 0.5 * (ordered[k // 2 - 1] + ordered[k // 2])

    if k == 0 or logs.shape[1] == 0:
        return np.median(logs, axis=0)
    return np.concatenate([middle(logs[:, start : start + chunk]) for start in range(0, logs.shape[1], chunk)])


#: A dark population this far (dB) or more under the median level is a noise floor (open water and
#: shadow lie 10 dB or more under land in every band: L-band HV -28 against -12 dB for forest);
#: nearer, it is a dark land class, and the floor is only a threshold.
FLOOR_DEPTH_DB = 6.0


#: Pixels of the sample (every n-th) that the medians of :func:`fit_stack` use: a median of 2**17
#: log-ratios spreading ~2 dB is within ~0.01 dB of that of the whole 0.5 Mpixel sample, at a
#: quarter of the time (the medians were two thirds of the fit).
MEDIAN_PIXELS = 1 << 17


def fit_stack(samples: np.ndarray, *, normalise: bool = True, looks: float = 0.0, floor_db=None) -> StackModel:
    """Gains, looks and noise floor of a stack from ``(k, n)`` samples (the same pixels at each date).

    - Gains: per date, the median over the pixels valid at every date of ``ln I_t`` minus the
      per-pixel median of the dates, iterated, then corrected by the mode over the pixels of
      ``ln I_t`` minus the per-pixel median of the other dates: a calibration step between
      sensors (ALOS to ALOS-2) is a gain of whole dates, not a change of the ground, while a
      flood or a harvest over much of one date is a change, not a gain (the median over the
      pixels moved with it: a flood over two fifths of a date made a gain of -2.5 dB).
    - Looks (when ``looks`` <= 0): from the robust spread of the log-ratio of consecutive dates
      (after the gains), solved for L as in the two-date test (:func:`.stats.looks_from_log_ratio_sd`),
      the median over the pairs. This is the variation the test must accept as no change: speckle
      and texture of multi-looked mosaics and the noise of each date, which the ENL of
      homogeneous blocks of one date underestimates.
    - Floor: the top of the dark population of the pixels' mean over the dates (open water,
      shadow; :func:`.auto.noise_floor`), or ``floor_db`` when given (``-inf``: none).
    """
    from .auto import noise_floor
    from .stats import looks_from_log_ratio_sd, robust_centre_scale

    samples = np.asarray(samples, np.float64)
    k = samples.shape[0]
    good = np.all(np.isfinite(samples) & (samples > 0), axis=0)
    logs = samples[:, good]
    del samples  # a (k, n) float64 sample is tens of MB: keep one or two of them at a time
    np.log(logs, out=logs)
    gains = np.zeros(k)
    few = logs[:, :: max(1, -(-logs.shape[1] // MEDIAN_PIXELS))]  # for the medians
    if normalise:
        # the median: with few dates the per-pixel median is often the date itself (no spread to
        # trim); iterated, since a step between two halves of the dates puts the first reference
        # between them
        few = few.copy()

        def remove(step):
            step = step - np.median(step)  # relative to the typical date: the stack keeps its level
            gains[...] += step
            few[...] -= step[:, None]

        for _ in range(4):
            centre = _median_over_dates(few)
            remove(np.array([np.median(few[t] - centre) for t in range(k)]))
        # each date against the median of the others, by the mode over the pixels: a flood or a
        # harvest over much of one date is a change, not a gain of that date
        remove(np.array([_date_step(few, t) for t in range(k)]))
        logs -= gains[:, None]
    if not looks > 0:
        spreads, problems = [], []
        for t in range(k - 1):  # a pair without spread (the same image given twice) is left out
            try:
                spreads.append(robust_centre_scale(few[t + 1] - few[t], f"log-ratio of dates {t + 1} and {t + 2}")[1])
            except ValueError as exc:
                problems.append(str(exc))
        if not spreads:
            raise ValueError(problems[0])
        looks = looks_from_log_ratio_sd(float(np.median(spreads)))
    is_noise = True
    if floor_db is None:
        mean = np.exp(logs[0])
        for t in range(1, k):
            mean += np.exp(logs[t])
        levels = 10 * np.log10(mean / k)
        floor_db = noise_floor(levels)
        is_noise = bool(np.median(levels) - floor_db >= FLOOR_DEPTH_DB)
    floor = None if np.isneginf(floor_db) else float(10 ** (floor_db / 10))  # -inf: no floor
    return StackModel(float(looks), 10 * np.log10(np.e) * gains, floor, floor_is_noise=is_noise)


#: Looks the test aims for when it works on window means (WINDOW=0): the smallest odd window
#: whose pixels hold this many looks. At 45 looks the log-ratio of two dates spreads ~0.9 dB, so a
#: 2-3 dB change of a field stands out; per pixel (4-5 looks, ~3.3 dB) the test found a fifth of
#: the changed pixels of simulated stacks and dated half of those right (benchmarks/omnibus_accuracy.py).
TARGET_LOOKS, MAX_WINDOW = 45.0, 9


def window_for_looks(pixel_looks: float, target_looks: float = TARGET_LOOKS) -> int:
    """Smallest odd window side (pixels) whose ``side**2 * pixel_looks`` reaches ``target_looks``,
    at most :data:`MAX_WINDOW`; 1 (per pixel) when a pixel already has them."""
    if not (np.isfinite(pixel_looks) and pixel_looks > 0):
        raise ValueError(f"pixel_looks must be > 0, got pixel_looks={pixel_looks!r}")
    side = int(np.ceil(np.sqrt(target_looks / pixel_looks)))
    side += 1 - side % 2
    return int(min(max(side, 1), MAX_WINDOW))


def window_means(stack: np.ndarray, window: int) -> np.ndarray:
    """``window`` x ``window`` mean of each date of a ``(k, rows, cols)`` stack, over its valid
    (finite, > 0) pixels; NaN where a window holds none. Edges repeat the nearest pixel, so a block
    read with a halo of ``window // 2`` gives the whole image's values inside it."""
    stack = np.asarray(stack, np.float64)
    if window <= 1:
        return stack
    uniform = require("scipy.ndimage").uniform_filter
    out = np.empty(stack.shape)
    for t, image in enumerate(stack):
        valid = np.isfinite(image) & (image > 0)
        total = uniform(np.where(valid, image, 0.0), window, mode="nearest")
        count = uniform(valid.astype(np.float64), window, mode="nearest")
        with np.errstate(invalid="ignore", divide="ignore"):
            out[t] = np.where(count > 0.5 / window**2, total / count, np.nan)
    return out


def sample_window_means(samples: np.ndarray, side: int, window_rows: int = None) -> np.ndarray:
    """Window means of a ``(k, rows, cols)`` sample, flattened to ``(k, n)``. A sample of a large
    raster is windows of ``window_rows`` rows stacked vertically (:func:`...io.raster.sample_band`):
    no mean crosses from one to the next; None: the sample is one piece of the scene."""
    k, rows, _ = samples.shape
    step = window_rows or rows
    parts = [window_means(samples[:, r : r + step], side) for r in range(0, rows, step)]
    return np.concatenate([part.reshape(k, -1) for part in parts], axis=1)


def fit_stack_model(
    samples: np.ndarray,
    *,
    normalise: bool = True,
    looks: float = 0.0,
    floor_db=None,
    window: int = 0,
    window_rows: int = None,
) -> StackModel:
    """The model ``sarchange:omnibus`` tests with, from a ``(channels, k, rows, cols)`` sample.

    :func:`fit_stack` per channel (gains, looks of a pixel, floor), joined (:func:`joint_model`);
    then the window: ``window`` (odd) or, when 0, the smallest reaching :data:`TARGET_LOOKS`
    (:func:`window_for_looks`), and the looks of its means measured from their own date-to-date
    spread (which takes in the correlation of the speckle). With ``looks`` <= 0 those looks are
    then shared out among the dates (:func:`date_looks`). ``window_rows``: see
    :func:`sample_window_means`.
    """
    fits = [
        fit_stack(part.reshape(part.shape[0], -1), normalise=normalise, looks=looks, floor_db=floor_db)
        for part in samples
    ]
    model = joint_model(fits)
    side = window_for_looks(model.looks) if window == 0 else int(window)
    if side <= 1:
        return joint_model(fits, dated=date_looks(samples, model.looks) if looks <= 0 else None)
    refits = [  # the gains and floor stay those of the pixels
        fit_stack(sample_window_means(part / s, side, window_rows), normalise=False, looks=0.0, floor_db=-np.inf)
        for part, s in zip(samples, model.gain_factors)
    ]
    pooled = min(fit.looks for fit in refits)
    return joint_model(fits, looks=pooled, window=side, dated=date_looks(samples, pooled) if looks <= 0 else None)


#: Side (pixels) and number of the homogeneous blocks on which :func:`date_looks` compares the
#: dates' speckle.
ENL_BLOCK, ENL_BLOCKS = 24, 24


def date_looks(samples: np.ndarray, looks: float):
    """Looks of each date: ``looks`` shared out by the speckle of each date.

    ``samples`` is ``(channels, k, rows, cols)`` linear intensities. Each date's ENL is measured on
    the same blocks, homogeneous at every date (:func:`..speckle_qa.homogeneous_blocks` of the
    stack: the same land, unchanged, so the ENL's texture bias is the same for all dates and a flood
    at one date does not make that date look noisier), the upper quartile over the blocks: date
    ``t`` varies as ``1 / ENL_t``, scaled so that the median over consecutive pairs of ``1 / ENL_t +
    1 / ENL_t+1`` is that of ``looks`` (``2 / looks``), which measured the date-to-date variation.
    The fewer of the channels' at each date, held within 4x of ``looks``. None when an ENL cannot be
    measured (the test then weighs the dates alike).

    JAXA's 25 m mosaics of Malaysia: ALOS dates 17-18, ALOS-2 dates 8-9 (HV and HH): the same
    ``looks`` for both made each ALOS-2 date look more variable than it is, and each ALOS date less.
    """
    from ..speckle_qa import enl, homogeneous_blocks

    per_channel = []
    for channel in np.asarray(samples):
        try:
            blocks = homogeneous_blocks(channel, ENL_BLOCK, ENL_BLOCKS)
        except ValueError:  # no block valid and varying at every date
            return None
        # a change within a block only lowers its ENL at that date: the upper quartile over the
        # blocks holds while up to three quarters of them changed at one date
        per_block = [[enl(date, [b], ENL_BLOCK) for date in channel] for b in blocks]
        enls = np.percentile(per_block, 75, axis=0)
        if not np.all(np.isfinite(enls) & (enls > 0)):
            return None
        pair = float(np.median(1 / enls[:-1] + 1 / enls[1:]))
        per_channel.append(np.clip(enls * looks * pair / 2, looks / 4, looks * 4))
    return tuple(float(v) for v in np.min(per_channel, axis=0))
