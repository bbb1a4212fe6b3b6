"""Mutations of valid inputs for the parser fuzz tests and ``benchmarks/fuzz.py``.

Each reader is run the way its Processing algorithm runs it; an outcome is ``"read"`` (the
input was accepted and every value produced is finite where it must be), ``"clean"`` (the
reader's own error: ``CeosError``/``TellusError``/``ValueError`` with a message) or the name of
any other exception, which is a defect.
"""

import os
import random
import shutil
import struct
import tracemalloc

import numpy as np
from ceos_writer import write_l11_product

#: The largest allocation a reader may make on a mutated product of a few kilobytes.
MAX_PEAK_BYTES = 64 << 20

# -- CEOS ------------------------------------------------------------------------------------------
#: Byte ranges of the numeric header fields the reader trusts (file, start, stop).
CEOS_FIELDS = [
    ("IMG", 186, 192),  # record length
    ("IMG", 216, 220),  # bits per sample
    ("IMG", 236, 244),  # lines
    ("IMG", 248, 256),  # pixels
    ("IMG", 276, 280),  # prefix bytes
    ("IMG", 428, 432),  # sample format
    ("LED", 180, 186),  # counts of the leader records
    ("LED", 192, 198),
    ("LED", 228, 234),
    ("LED", 252, 258),
    ("LED", 720 + 500, 720 + 516),  # wavelength
    ("LED", 720 + 1174, 720 + 1190),  # looks
    ("LED", 720 + 4096 + 20, 720 + 4096 + 36),  # calibration factor
]
FIELD_VALUES = ["0", "-1", "-544", "99999999", "nan", "inf", "-inf", "1e308", "  ", "abc", "C*8", "IU2", "7"]


def ceos_product(folder):
    """A small valid Level 1.1 product (12 lines x 10 pixels); returns its IMG path."""
    rng = np.random.default_rng(3)
    slc = (rng.normal(size=(12, 10)) + 1j * rng.normal(size=(12, 10))).astype(np.complex64) * 100
    return write_l11_product(folder, slc)


def mutate_ceos(source_folder, folder, rng: random.Random) -> str:
    """Copy the product of ``source_folder`` to ``folder`` and damage it one to three ways; return a
    description of what was done."""
    if os.path.exists(folder):
        shutil.rmtree(folder)
    shutil.copytree(source_folder, folder)
    names = {n[:3]: os.path.join(folder, n) for n in os.listdir(folder) if n[:3] in ("IMG", "LED")}
    done = []
    wanted = rng.randint(1, 3)
    while len(done) < wanted:
        kind = rng.choice(["truncate", "flip", "field", "record_length", "zero_pixels", "directory"])
        which = rng.choice(["IMG", "LED"])
        path = names[which]
        if not os.path.isfile(path):
            if all(not os.path.isfile(p) for p in names.values()):
                break
            continue
        size = os.path.getsize(path)
        if kind == "truncate":
            cut = rng.randrange(0, max(size, 1))
            os.truncate(path, cut)
            done.append(f"{which} truncated at {cut}")
        elif kind == "flip" and size:
            with open(path, "r+b") as handle:
                for _ in range(rng.randint(1, 16)):
                    at = rng.randrange(0, min(size, 6000))
                    handle.seek(at)
                    handle.write(bytes([rng.randrange(256)]))
            done.append(f"{which} bytes flipped")
        elif kind == "field":
            name, start, stop = rng.choice(CEOS_FIELDS)
            value = rng.choice(FIELD_VALUES).rjust(stop - start)[: stop - start]
            target = names[name]
            if os.path.isfile(target) and os.path.getsize(target) >= stop:
                with open(target, "r+b") as handle:
                    handle.seek(start)
                    handle.write(value.encode("ascii"))
                done.append(f"{name}[{start}:{stop}] = {value.strip()!r}")
        elif kind == "record_length" and which == "LED" and size > 12:
            starts = [0, 720, 720 + 4096, 720 + 4096 + 9860]
            at = rng.choice([s for s in starts if s + 12 <= size])
            with open(path, "r+b") as handle:
                handle.seek(at + 8)
                handle.write(struct.pack(">I", rng.choice([0, 11, 13, 2**31, 2**32 - 1, size * 2])))
            done.append(f"LED record at {at}: length changed")
        elif kind == "zero_pixels" and which == "IMG" and size >= 256:
            with open(path, "r+b") as handle:
                handle.seek(248)
                handle.write(b"       0")
            done.append("IMG pixels = 0")
        elif kind == "directory":
            os.remove(path)
            os.mkdir(path)
            done.append(f"{which} replaced by a folder")
    return "; ".join(done)


def read_ceos_like_readceos(image_path, extent=None):
    """What ``sarchange:readceos`` does with a product, without QGIS: every step, on every line."""
    from sar_change.algorithms.readers import ceos

    product = ceos.find_product(image_path)
    pol = product.polarisations[0]
    image = ceos.read_image_descriptor(product.images[pol])
    leader = ceos.read_leader(product.leader)
    if not image.complex:
        raise ceos.CeosError("not complex")
    window = (slice(0, image.lines), slice(0, image.pixels))
    if extent is not None:
        window = ceos.window_for_extent(image, *extent, polynomial=leader.polynomial)
    points = ceos.gcps(image, polynomial=leader.polynomial, window=window)
    slc = ceos.read_slc_window(image, *window)
    if leader.calibration_db is not None:
        sigma0 = ceos.calibrated_sigma0_db(slc, leader.calibration_db)
        assert sigma0.shape == slc.shape
    for col, row, lon, lat in points:
        assert np.isfinite([col, row, lon, lat]).all() and abs(lat) <= 90, "non-finite GCP"
    return slc.shape


def outcome(func, *args, clean=(ValueError,)):
    """Run ``func``; return ``("read" | "clean" | <exception name>, detail)``, checking the allocation peak."""
    tracemalloc.start()
    try:
        func(*args)
        result = ("read", "")
    except clean as exc:
        result = ("clean", str(exc)) if str(exc) else ("empty message", type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - any other exception is what the fuzzing looks for
        result = (type(exc).__name__, str(exc)[:200])
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    if peak > MAX_PEAK_BYTES:
        return ("huge allocation", f"{peak / 2**20:.0f} MiB")
    return result


# -- Tellus answers and tiles ----------------------------------------------------------------------
def mutate_json(rng: random.Random):
    """A Tellus-like JSON answer with random damage: wrong types, missing keys, odd values."""
    choices = [
        None,
        [],
        "text",
        12,
        {},
        {"features": None},
        {"features": "x"},
        {"features": [1, 2]},
        {"features": [{"id": 1}], "meta": "x"},
        {"features": [], "meta": {"search-condition": "x"}},
        {"features": [{}], "meta": {"search-condition": {"paginate": 5}}},
        {"results": "x"},
        {"results": [None]},
        {"results": [{"id": None, "name": "../.."}]},
        {"results": [{"id": 1, "name": "\x00", "size_bytes": -4}]},
        {"results": [{"id": 1, "name": "a", "size_bytes": "12"}]},
        {"download_url": None},
        {"download_url": "http://evil.example/x"},
        {"download_url": "file:///etc/passwd"},
        {"download_url": 7},
        {"items": None, "next": 5},
        {"items": [1], "next": "ftp://x"},
    ]
    value = rng.choice(choices)
    if isinstance(value, dict) and rng.random() < 0.3:
        value = dict(value, extra=rng.choice([None, [], {}, "y" * 10000]))
    return value


def mutate_png(valid: bytes, rng: random.Random) -> bytes:
    """A damaged PNG: truncated, bytes flipped, the header changed, or empty."""
    data = bytearray(valid)
    kind = rng.choice(["truncate", "flip", "header", "empty", "html"])
    if kind == "truncate":
        return bytes(data[: rng.randrange(0, len(data))])
    if kind == "flip":
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == "header":
        data[rng.randrange(8, 33)] = rng.randrange(256)
        return bytes(data)
    if kind == "empty":
        return b""
    return b"<html><body>Bearer abcdef123456 error</body></html>"
