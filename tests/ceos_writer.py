"""Write small ALOS-2 Level 1.1 CEOS products to the JAXA layout, for the reader's tests."""

import os
import struct

import numpy as np


def _record(sequence, code, length, fields):
    """A record of ``length`` bytes: 12-byte header, then ASCII ``fields`` {offset: text} on blanks."""
    body = bytearray(b" " * length)
    body[0:12] = struct.pack(">I", sequence) + code + struct.pack(">I", length)
    for offset, text in fields.items():
        data = text.encode("ascii") if isinstance(text, str) else text
        body[offset : offset + len(data)] = data
    return bytes(body)


def write_l11_product(
    folder,
    slc,
    *,
    pol="HH",
    scene="ALOS2123456789-230401",
    calibration_db=-83.0,
    wavelength_m=0.2424525,
    direction="DESCEND",
    prefix=544,
):
    """Write IMG-<pol>-..., LED-... and a summary.txt for a complex ``slc`` (lines, pixels)."""
    os.makedirs(folder, exist_ok=True)
    suffix = f"{scene}-FBDR1.1__D"
    lines, pixels = slc.shape
    record_bytes = prefix + 8 * pixels
    descriptor = _record(
        1,
        b"\x32\xc0\x12\x12",
        720,
        {
            180: f"{lines:6d}",
            186: f"{record_bytes:6d}",
            216: f"{32:4d}",
            220: f"{2:4d}",
            224: f"{8:4d}",
            236: f"{lines:8d}",
            244: f"{0:4d}",
            248: f"{pixels:8d}",
            276: f"{prefix:4d}",
            428: "C*8 ",
        },
    )
    rows = bytearray()
    big_endian = np.asarray(slc, dtype=">c8")
    for i in range(lines):
        rows += struct.pack(">I", i + 2) + b"\x32\x0a\x12\x14" + struct.pack(">I", record_bytes)
        lat = int((35.0 - 0.001 * i) * 1e6)  # a small scene near Tokyo, lines southwards
        lons = [int((139.0 + 0.001 * p) * 1e6) for p in (0, (pixels - 1) / 2, pixels - 1)]
        geo = struct.pack(">6i", lat, lat, lat, *lons)
        rows += b"\x00" * (192 - 12) + geo + b"\x00" * (prefix - 216) + big_endian[i].tobytes()
    with open(os.path.join(folder, f"IMG-{pol}-{suffix}"), "wb") as handle:
        handle.write(descriptor + bytes(rows))
    leader_fd = _record(
        1,
        b"\x0b\xc0\x12\x12",
        720,
        {
            48: "AL2",
            180: "     1",
            186: "  4096",
            192: "     0",
            198: "     0",
            204: "     0",
            210: "     0",
            216: "     0",
            222: "     0",
            228: "     1",
            234: "  9860",
            252: "     0",
            258: "     0",
        },
    )
    dss = _record(
        2,
        b"\x12\x0a\x12\x14",
        4096,
        {
            20: f"{scene:32s}",
            68: "20230401120000000",
            324: f"{lines // 2:8d}",
            332: f"{pixels // 2:8d}",
            500: f"{wavelength_m:16.7f}",
            1174: f"{1.0:16.7f}",
            1190: f"{1.0:16.7f}",
            1534: f"{direction:8s}",
            1686: f"{3.2:16.7f}",
            1702: f"{2.86:16.7f}",
        },
    )
    radiometric = _record(3, b"\x12\x32\x12\x14", 9860, {20: f"{calibration_db:16.7f}"})
    with open(os.path.join(folder, f"LED-{suffix}"), "wb") as handle:
        handle.write(leader_fd + dss + radiometric)
    with open(os.path.join(folder, "summary.txt"), "w", encoding="utf-8") as handle:
        handle.write(
            f'Scs_SceneID="{scene}"\nImg_SceneStartDateTime="20230401 11:59:55.000"\n'
            f'Img_SceneEndDateTime="20230401 12:00:05.000"\nLbi_ProcessLevel="1.1"\n'
        )
    return os.path.join(folder, f"IMG-{pol}-{suffix}")
