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
    polynomial=True,
    line_geolocation=True,
    step_deg=0.001,
    sparse_shape=None,
    patch_at=(0, 0),
):
    """Write IMG-<pol>-..., LED-... and a summary.txt for a complex ``slc`` (lines, pixels).

    The scene lies near Tokyo: pixel centre (p, l), 0-based, is at lat 35 - step_deg l, lon
    139 + step_deg p. Line records carry it (unless ``line_geolocation`` is False: zeros), and
    so does facility record 5's polynomial pair (unless ``polynomial`` is False: blank fields).
    With ``sparse_shape`` (lines, pixels) the image is that large but sparse on disk: only
    ``slc``'s lines, placed at ``patch_at`` (line, pixel), are written (line records elsewhere
    are zeros), so a product of many gigabytes costs a few kilobytes of disk.
    """
    os.makedirs(folder, exist_ok=True)
    suffix = f"{scene}-FBDR1.1__D"
    lines, pixels = sparse_shape or slc.shape
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
    image_path = os.path.join(folder, f"IMG-{pol}-{suffix}")
    big_endian = np.asarray(slc, dtype=">c8")
    row0, col0 = patch_at if sparse_shape else (0, 0)
    with open(image_path, "wb") as handle:
        handle.write(descriptor)
        handle.truncate(720 + lines * record_bytes)  # sparse where nothing is written
        for k in range(big_endian.shape[0]):
            i = row0 + k
            lat = int((35.0 - step_deg * i) * 1e6)  # lines southwards
            lons = [int((139.0 + step_deg * p) * 1e6) for p in (0, (pixels - 1) / 2, pixels - 1)]
            geo = struct.pack(">6i", lat, lat, lat, *lons) if line_geolocation else b"\x00" * 24
            head = struct.pack(">I", i + 2) + b"\x32\x0a\x12\x14" + struct.pack(">I", record_bytes)
            handle.seek(720 + i * record_bytes)
            handle.write(head + b"\x00" * (192 - 12) + geo + b"\x00" * (prefix - 216))
            handle.seek(720 + i * record_bytes + prefix + 8 * col0)
            handle.write(big_endian[k].tobytes())
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
    facility = [_record(4 + k, b"\x12\xc8\x12\x14", 1000, {12: f"{k + 1:4d}"}) for k in range(4)]
    facility.append(_facility_record_5(8, pixels, lines, polynomial, step_deg))
    with open(os.path.join(folder, f"LED-{suffix}"), "wb") as handle:
        handle.write(leader_fd + dss + radiometric + b"".join(facility))
    with open(os.path.join(folder, "summary.txt"), "w", encoding="utf-8") as handle:
        handle.write(
            f'Scs_SceneID="{scene}"\nImg_SceneStartDateTime="20230401 11:59:55.000"\n'
            f'Img_SceneEndDateTime="20230401 12:00:05.000"\nLbi_ProcessLevel="1.1"\n'
        )
    return image_path


def _facility_record_5(sequence, pixels, lines, with_polynomial, step_deg):
    """Facility-related record 5 with the exact polynomials of the writer's affine geometry."""
    fields = {12: "   5"}
    if with_polynomial:
        p0, l0 = float(pixels // 2), float(lines // 2)
        lat0, lon0 = 35.0 - step_deg * l0, 139.0 + step_deg * p0
        lat, lon, pix, lin = (np.zeros(25) for _ in range(4))
        lat[24], lat[23] = lat0, -step_deg  # 5 i + j multiplies dp**(4 - i) dl**(4 - j)
        lon[24], lon[19] = lon0, step_deg
        pix[24], pix[23] = p0, 1.0 / step_deg  # 5 i + j multiplies dlat**(4 - i) dlon**(4 - j)
        lin[24], lin[19] = l0, -1.0 / step_deg
        for start, values in (
            (1024, [*lat, *lon, p0, l0]),
            (2064, [*pix, *lin, lat0, lon0]),
        ):
            for k, value in enumerate(values):
                fields[start + 20 * k] = f"{value:20.10E}"
    return _record(sequence, b"\x12\xc8\x12\x14", 5000, fields)
