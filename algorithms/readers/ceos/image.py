"""A CEOS product's files, its pixels through a memory map, and sigma nought in dB."""

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .records import DESCRIPTOR_BYTES, CeosError, ImageDescriptor

CALIBRATION_OFFSET_DB = 32.0  # sigma0 = 10 log10(I^2 + Q^2) + CF - 32.0 (JAXA, Level 1.1)


@dataclass
class Product:
    """A CEOS product folder: its image files by polarisation, leader, summary and level."""

    folder: str
    images: Dict[str, str]
    leader: str
    summary: Optional[str]
    level: str

    @property
    def polarisations(self) -> List[str]:
        return sorted(self.images)


def find_product(path: str) -> Product:
    """Locate a product from its folder, an ``IMG-`` file or its ``LED-`` file."""
    if not os.path.exists(path):
        raise CeosError(f"CEOS product not found: {path!r}")
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    names = os.listdir(folder)
    leaders = sorted(n for n in names if n.startswith("LED-") and os.path.isfile(os.path.join(folder, n)))
    if not leaders:
        raise CeosError(f"no LED- leader file beside {path!r}: not a CEOS product folder")
    leader = leaders[0]
    suffix = leader[4:]
    images = {}
    for name in names:
        match = re.match(r"IMG-([HV]{2})-(.+)$", name)
        if match and match.group(2) == suffix and os.path.isfile(os.path.join(folder, name)):
            images[match.group(1)] = os.path.join(folder, name)
    if not images:
        raise CeosError(f"no IMG- file matching {leader} in {folder!r}")
    if os.path.isfile(path) and os.path.basename(path).startswith("IMG-"):
        match = re.match(r"IMG-([HV]{2})-", os.path.basename(path))
        if match is None:
            raise CeosError(f"{os.path.basename(path)}: an IMG- file name names its polarisation (IMG-HH-...)")
        images = {match.group(1): os.path.abspath(path)}
    level = re.search(r"(1\.0|1\.1|1\.5|2\.1|3\.1)", suffix)
    summary = os.path.join(folder, "summary.txt") if "summary.txt" in names else None
    return Product(folder, images, os.path.join(folder, leader), summary, level.group(1) if level else "")


# -- pixels ------------------------------------------------------------------------------------
def read_slc_window(descriptor: ImageDescriptor, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
    """Read a window of a Level 1.1 (complex float32) image through a memory map, as complex64."""
    if not descriptor.complex:
        raise CeosError(
            f"{os.path.basename(descriptor.path)} is not a Level 1.1 complex image "
            f"(sample format {descriptor.sample_format!r})"
        )
    expected = DESCRIPTOR_BYTES + descriptor.lines * descriptor.record_bytes
    actual = os.path.getsize(descriptor.path)
    if actual < expected:
        raise CeosError(
            f"{os.path.basename(descriptor.path)} is truncated: {actual} bytes, "
            f"{descriptor.lines} lines need {expected}"
        )
    r0, r1, _ = rows.indices(descriptor.lines)
    c0, c1, _ = cols.indices(descriptor.pixels)
    if r1 <= r0 or c1 <= c0:
        raise CeosError(
            f"empty window rows {r0}:{r1}, cols {c0}:{c1} of a {descriptor.lines} x {descriptor.pixels} image"
        )
    lines = np.memmap(
        descriptor.path,
        dtype=np.uint8,
        mode="r",
        offset=DESCRIPTOR_BYTES,
        shape=(descriptor.lines, descriptor.record_bytes),
    )
    start = descriptor.prefix_bytes + 8 * c0
    block = np.ascontiguousarray(lines[r0:r1, start : start + 8 * (c1 - c0)])
    return block.view(">c8").astype(np.complex64)


def calibrated_sigma0_db(slc: np.ndarray, calibration_db: float, looks: Tuple[int, int] = (1, 1)) -> np.ndarray:
    """sigma0 in dB: ``10 log10(<I^2 + Q^2>) + CF - 32.0``, averaged over ``looks`` (azimuth, range)."""
    samples = np.asarray(slc)
    # float64 throughout: |3e38 + 3e38j|^2 overflows float32 on damaged samples
    power = samples.real.astype(np.float64) ** 2 + samples.imag.astype(np.float64) ** 2
    la, lr = looks
    if la < 1 or lr < 1:
        raise ValueError(f"looks must be >= 1, got looks={looks!r}")
    if la > 1 or lr > 1:
        rows, cols = power.shape[0] // la * la, power.shape[1] // lr * lr
        power = power[:rows, :cols].reshape(rows // la, la, cols // lr, lr).mean(axis=(1, 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10 * np.log10(power) + calibration_db - CALIBRATION_OFFSET_DB
    return np.where(power > 0, db, np.nan).astype(np.float32)
