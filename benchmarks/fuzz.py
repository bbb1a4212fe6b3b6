"""Parser fuzzing, counted: mutated CEOS products, Tellus JSON answers and map tiles.

Run with ``/usr/bin/python3 benchmarks/fuzz.py [CASES]`` (default 1000 per parser). Each case is
seeded (case ``i`` uses ``random.Random(i)``), so a count is repeatable and a failing case can be
replayed. Prints the outcomes of each parser (``read``: accepted with sound values; ``clean``: the
reader's own error with a message; anything else is a defect: another exception, an empty message,
a hang over :data:`MAX_SECONDS` or an allocation over ``fuzz_cases.MAX_PEAK_BYTES``) and exits 1
when any case is a defect. The README's reliability section quotes these counts.
"""

import collections
import json
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from common import register_package  # noqa: E402

register_package()

#: A case slower than this (seconds) counts as a hang.
MAX_SECONDS = 5.0


def _timed_outcome(func, *args, clean):
    from fuzz_cases import outcome

    start = time.perf_counter()
    result = outcome(func, *args, clean=clean)
    if time.perf_counter() - start > MAX_SECONDS:
        return ("hang", f"{time.perf_counter() - start:.1f} s")
    return result


def fuzz_ceos(cases, folder):
    from fuzz_cases import ceos_product, mutate_ceos, read_ceos_like_readceos

    from sar_change.algorithms.readers import ceos

    source = os.path.join(folder, "valid")
    ceos_product(source)
    target = os.path.join(folder, "mutated")
    for i in range(cases):
        what = mutate_ceos(source, target, random.Random(i))
        images = [os.path.join(target, n) for n in os.listdir(target) if n.startswith("IMG")]
        path = images[0] if images else target
        yield what, _timed_outcome(read_ceos_like_readceos, path, clean=(ceos.CeosError,))


def fuzz_tellus_json(cases):
    from fake_tellus import FakeTellus
    from fuzz_cases import mutate_json

    from sar_change.algorithms.readers import tellus

    endpoints = [
        ("POST", "/api/traveler/v1/data-search/", lambda c: list(c.search(datasets=["d"]))),
        ("GET", "/api/traveler/v1/datasets/d/data/s/files/", lambda c: c.files("d", "s")),
        ("POST", "/api/traveler/v1/datasets/d/data/s/files/1/download-url/", lambda c: c.download_url("d", "s", 1)),
        ("GET", "/api/v1/origin/search/palsar2-l11", lambda c: list(c.legacy_search({}))),
    ]
    token = "t0ken-fuzz-" + os.urandom(6).hex()
    with FakeTellus() as server:
        settings = tellus.Settings.resolve(
            token=token, api_url=server.url + "/api/traveler/v1", file_api_url=server.url + "/api/v1/origin"
        )
        client = tellus.Client(settings, sleep=lambda s: None)
        for i in range(cases):
            rng = random.Random(i)
            method, path, call = endpoints[i % len(endpoints)]
            server.routes.clear()
            server.add(method, path, (200, {}, json.dumps(mutate_json(rng)).encode()))
            result = _timed_outcome(call, client, clean=(tellus.TellusError,))
            if token in result[1]:
                result = ("token in message", path)
            yield path, result


def fuzz_tiles(cases):
    from fuzz_cases import mutate_png

    sys.path.insert(0, os.path.join(HERE, "..", "tests", "unit"))
    from test_fuzz import _valid_png

    from sar_change.algorithms.readers import tellus

    valid = _valid_png()
    for i in range(cases):
        data = mutate_png(valid, random.Random(i))

        def decode(data=data):
            array = tellus.decode_png(data)
            assert array.ndim == 3 and array.dtype.name == "uint8"
            if array.shape[1:] == (256, 256):
                tellus.mosaic({(0, 0): array}, 1)

        result = _timed_outcome(decode, clean=(tellus.TellusError,))
        if result[0] == "clean" and "abcdef123456" in result[1] and "Bearer ***" not in result[1]:
            result = ("token in message", result[1][:80])
        yield f"tile {i}", result


def main(argv):
    from osgeo import gdal

    gdal.UseExceptions()
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # libpng's warnings on damaged tiles; errors still raise
    cases = int(argv[0]) if argv else 1000
    defects = 0
    with tempfile.TemporaryDirectory() as folder:
        runs = [
            ("CEOS L1.1 products", fuzz_ceos(cases, folder)),
            ("Tellus JSON answers", fuzz_tellus_json(cases)),
            ("map tiles (PNG)", fuzz_tiles(cases)),
        ]
        for name, run in runs:
            counts = collections.Counter()
            start = time.perf_counter()
            for what, (result, detail) in run:
                counts[result] += 1
                if result not in ("read", "clean"):
                    defects += 1
                    print(f"  DEFECT {name}: {what}: {result}: {detail}")
            other = sum(v for k, v in counts.items() if k not in ("read", "clean"))
            print(
                f"{name}: {sum(counts.values())} cases in {time.perf_counter() - start:.1f} s: "
                f"{counts['clean']} clean errors, {counts['read']} read, {other} other"
            )
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
