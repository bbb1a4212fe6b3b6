"""CEOS records and fields (big-endian, 0-based offsets) and the IMG file descriptor."""

import os
import struct
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

DESCRIPTOR_BYTES = 720


L11_PREFIX_BYTES = 544


#: Record type codes (bytes 4-7) of the IMG and LED file descriptors.
IMAGE_DESCRIPTOR_CODE = b"\x32\xc0\x12\x12"


class CeosError(ValueError):
    """The file is not a readable CEOS product (wrong type, truncated, corrupt)."""


def _ascii(record: bytes, start: int, stop: int) -> str:
    return record[start:stop].decode("ascii", errors="replace").strip()


def _number(record: bytes, start: int, stop: int, kind=float, name="field"):
    """The ASCII number of ``record[start:stop]``; a :class:`CeosError` for text, NaN or infinity."""
    text = _ascii(record, start, stop)
    try:
        value = kind(text)
    except (ValueError, OverflowError) as exc:
        raise CeosError(f"{name} at bytes {start}-{stop} is not a number: {text!r}") from exc
    if kind is float and not np.isfinite(value):
        raise CeosError(f"{name} at bytes {start}-{stop} is not a finite number: {text!r}")
    return value


def _read_file(path: str, what: str) -> bytes:
    if not os.path.isfile(path):
        raise CeosError(f"{what} {os.path.basename(path)!r} is not a file")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CeosError(f"cannot read {what} {os.path.basename(path)}: {exc.strerror or exc}") from None


def walk_records(data: bytes) -> List[Tuple[int, bytes]]:
    """Split a CEOS file into records by their length fields; returns (offset, record) pairs."""
    records = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 12:
            raise CeosError(f"truncated record header at byte {offset}")
        length = struct.unpack(">I", data[offset + 8 : offset + 12])[0]
        if length < 12 or offset + length > len(data):
            raise CeosError(f"record at byte {offset} claims {length} bytes; the file has {len(data) - offset} left")
        records.append((offset, data[offset : offset + length]))
        offset += length
    return records


@dataclass
class ImageDescriptor:
    """The IMG file descriptor: lines, pixels per line, prefix bytes, sample type."""

    path: str
    lines: int
    pixels: int
    record_bytes: int
    prefix_bytes: int
    bits_per_sample: int
    sample_format: str  # e.g. 'C*8' (complex float32) or 'IU2' (uint16)

    @property
    def complex(self) -> bool:
        return self.sample_format.startswith("C")


def read_image_descriptor(path: str, *, check_size: bool = True) -> ImageDescriptor:
    """Parse the 720-byte file descriptor of an ``IMG-`` file.

    With ``check_size`` (the default) the file must be as long as its lines claim, so a corrupt
    header fails here, before any output is made; ``check_size=False`` reads the header of a
    headers-only extract."""
    if not os.path.isfile(path):
        raise CeosError(f"image file {os.path.basename(path)!r} is not a file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(DESCRIPTOR_BYTES)
    except OSError as exc:
        raise CeosError(f"cannot read {os.path.basename(path)}: {exc.strerror or exc}") from None
    if len(head) < DESCRIPTOR_BYTES:
        raise CeosError(f"{os.path.basename(path)}: {len(head)} bytes, shorter than a CEOS file descriptor (720)")
    if struct.unpack(">I", head[8:12])[0] != DESCRIPTOR_BYTES or head[4:8] != IMAGE_DESCRIPTOR_CODE:
        raise CeosError(f"{os.path.basename(path)} is not a CEOS image file (no 720-byte file descriptor)")
    sample_format = _ascii(head, 428, 432)
    descriptor = ImageDescriptor(
        path=path,
        lines=_number(head, 236, 244, int, "lines"),
        pixels=_number(head, 248, 256, int, "pixels"),
        record_bytes=_number(head, 186, 192, int, "record length"),
        prefix_bytes=_number(head, 276, 280, int, "prefix bytes"),
        bits_per_sample=_number(head, 216, 220, int, "bits per sample"),
        sample_format=sample_format,
    )
    name = os.path.basename(path)
    if descriptor.lines < 1 or descriptor.pixels < 1:
        raise CeosError(f"{name}: the descriptor claims {descriptor.lines} lines of {descriptor.pixels} pixels")
    if descriptor.prefix_bytes < 0 or descriptor.record_bytes < 12:
        raise CeosError(
            f"{name}: impossible line layout (prefix {descriptor.prefix_bytes} bytes, "
            f"record {descriptor.record_bytes} bytes)"
        )
    if not descriptor.complex and descriptor.bits_per_sample not in (8, 16, 32, 64):
        raise CeosError(f"{name}: {descriptor.bits_per_sample} bits per sample is not a CEOS sample size")
    sample_bytes = 8 if descriptor.complex else descriptor.bits_per_sample // 8
    if descriptor.prefix_bytes + descriptor.pixels * sample_bytes > descriptor.record_bytes:
        raise CeosError(f"{name}: {descriptor.pixels} pixels do not fit a {descriptor.record_bytes}-byte line")
    # every size is checked against the file before anything is read or written
    expected = DESCRIPTOR_BYTES + descriptor.lines * descriptor.record_bytes
    actual = os.path.getsize(path)
    if check_size and actual < expected:
        raise CeosError(
            f"{name} is truncated or its header is corrupt: {actual} bytes, but "
            f"{descriptor.lines} lines of {descriptor.record_bytes} bytes need {expected}"
        )
    return descriptor
