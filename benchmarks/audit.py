"""Bad-input audit: every algorithm on degenerate rasters, outcomes counted.

Run with ``/usr/bin/python3 benchmarks/audit.py [-v]``. Prints one line per case that is not
``ok``/``clear`` (all cases with ``-v``) and the counts the README quotes. Exit status 1 when any
case ends in a traceback or a silent wrong result.
"""

import collections
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv):
    verbose = "-v" in argv
    from qgis.core import QgsApplication

    profile = tempfile.mkdtemp(prefix="sarchange-audit-")
    app = QgsApplication([], False, profile)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    import bad_inputs  # noqa: E402 - needs the path above (it registers the checkout as sar_change)

    from sar_change.processing_provider.provider import SarChangeProvider

    provider = SarChangeProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    counts = collections.Counter()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for case in bad_inputs.cases(folder):
            t0 = time.perf_counter()
            outcome, message = bad_inputs.run_case(case)
            counts[outcome] += 1
            if verbose or outcome not in ("ok", "clear"):
                print(f"{outcome:9s} {time.perf_counter() - t0:5.1f}s {case.name}: {message[:300]}")
    total = sum(counts.values())
    print(
        f"audit: {total} runs in {time.perf_counter() - start:.0f} s: {counts['ok']} ok, "
        f"{counts['clear']} clear errors, {counts['silent']} silent wrong results, {counts['traceback']} tracebacks"
    )
    return 1 if counts["silent"] or counts["traceback"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
