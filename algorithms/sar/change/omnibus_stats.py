"""The distributions of the omnibus statistics: p-values and critical values.

``-2 rho ln Q`` (and ``-2 rho_j ln R_j``) is chi-square with Box's second-order correction
``omega_2`` (Conradsen et al. 2016, equations for p = 1); with several independent channels the
statistics add, as do their degrees of freedom and ``omega_2``. The test at ``alpha`` compares a
statistic with its critical value (one per number of dates), which needs no special function
per pixel; the p-values are for the outputs that show them.
"""

import functools

import numpy as np

from ...common.deps import require


def _chi2_cdf_corrected(z, f, rho, omega2):
    # scipy.special's chdtr is what scipy.stats.chi2.cdf computes, without importing scipy.stats
    # (27 MB); chi-square has no mass below 0, where chdtr gives NaN
    chdtr = require("scipy.special").chdtr
    x = np.maximum(rho * z, 0.0)
    base = chdtr(f, x)
    return base + omega2 * (chdtr(f + 4, x) - base)


def _omnibus_terms(k, looks: float, channels: int):
    """Degrees of freedom, Box's rho and omega2 of the omnibus statistic over ``k`` dates."""
    k = np.asarray(k, dtype=np.float64)
    n = float(looks)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1 - (k / n - 1 / (n * k)) / (6 * (k - 1))
        return (k - 1) * channels, rho, -(k - 1) / 4 * (1 - 1 / rho) ** 2 * channels


def _sequential_terms(j, looks: float, channels: int):
    """Degrees of freedom, Box's rho and omega2 of ``ln R_j`` (a series of ``j`` dates)."""
    j = np.asarray(j, dtype=np.float64)
    n = float(looks)
    rho = 1 - (1 / n + 1 / (n * j * (j - 1))) / 6
    return np.full(j.shape, float(channels)), rho, -0.25 * (1 - 1 / rho) ** 2 * channels


def omnibus_pvalue(ln_q: np.ndarray, k, looks: float, channels: int = 1) -> np.ndarray:
    """p-value of the omnibus statistic ``ln Q`` for ``k`` dates (scalar or array) of ``looks`` looks.

    With several independent ``channels`` (polarisations, their intensities only), ``ln Q`` is the
    sum of theirs: the degrees of freedom and Box's second-order term add up."""
    f, rho, omega2 = _omnibus_terms(k, looks, channels)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 1 - _chi2_cdf_corrected(-2 * ln_q, f, rho, omega2)
    return np.where(np.asarray(k) >= 2, np.clip(p, 0, 1), 1.0)


def sequential_pvalue(ln_r: np.ndarray, j, looks: float, channels: int = 1) -> np.ndarray:
    """p-value of ``ln R_j`` (date ``j`` of a series of ``j`` dates, j >= 2) with ``looks`` looks
    (the sum over independent ``channels``, as for :func:`omnibus_pvalue`)."""
    f, rho, omega2 = _sequential_terms(j, looks, channels)
    return np.clip(1 - _chi2_cdf_corrected(-2 * ln_r, f, rho, omega2), 0, 1)


def critical_values(kind: str, dates: int, looks: float, channels: int, alpha: float) -> np.ndarray:
    """``-2 ln Q`` (``kind='omnibus'``) or ``-2 ln R_j`` (``'sequential'``) above which the p-value of
    :func:`omnibus_pvalue` or :func:`sequential_pvalue` is under ``alpha``, for series of
    ``0..dates`` dates (index = number of dates; infinite where no test exists, under 2 dates).

    Comparing a statistic with these is the test at ``alpha`` without a special function per pixel
    (the corrected chi-square is increasing over the range where ``1 - alpha`` is reached).
    Computed once per set of arguments (every block of a raster asks for the same ones).
    """
    return np.array(_critical_values(str(kind), int(dates), float(looks), int(channels), float(alpha)))


@functools.lru_cache(maxsize=64)
def _critical_values(kind: str, dates: int, looks: float, channels: int, alpha: float) -> tuple:
    optimize = require("scipy.optimize")
    terms = _omnibus_terms if kind == "omnibus" else _sequential_terms

    def excess(z, f, rho, omega2):
        return float(_chi2_cdf_corrected(np.array([z]), f, rho, omega2)[0]) - (1 - alpha)

    out = np.full(dates + 1, np.inf)
    for m in range(2, dates + 1):
        args = tuple(float(v) for v in terms(np.array([m]), looks, channels))
        high = 1.0
        while excess(high, *args) <= 0 and high < 1e9:
            high *= 2
        out[m] = optimize.brentq(excess, 0.0, high, args=args, xtol=1e-12, rtol=4 * np.finfo(float).eps)
    return tuple(out)


def floor_margins(dates: int, looks: float, alpha: float) -> np.ndarray:
    """Factor over the noise floor that a mean of ``n`` dates of ``looks``-look intensities must
    exceed to be significantly above it at ``alpha``, for ``n = 0..dates`` (1 at ``n = 0``).

    A level at the floor is ``floor * Gamma(n L, 1 / (n L))`` distributed, so the factor is that
    gamma's ``1 - alpha`` quantile: 2.5 (+4.0 dB) for one date of 4 looks at ``alpha = 0.01``,
    1.36 (+1.3 dB) for one date of 50 looks, 1.17 (+0.7 dB) for four dates of 50 looks.
    """
    special = require("scipy.special")
    shape = np.arange(dates + 1, dtype=np.float64) * float(looks)
    out = np.ones(dates + 1)
    out[1:] = special.gammaincinv(shape[1:], 1 - alpha) / shape[1:]
    return out
