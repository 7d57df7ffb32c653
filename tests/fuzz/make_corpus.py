#!/usr/bin/python3
"""Writes the fuzz harnesses' seed corpora (tests/fuzz/README.md) from the test data.

    tests/fuzz/make_corpus.py [OUT]      (default: tests/fuzz/corpus)

Python standard library only. Seeds, per harness:
  ismrmrd_xml  the ISMRMRD XML headers stored in tests/data's HDF5 files (found in their bytes),
               plus a Gadgetron stream configuration
  mrd          MRD streams built from those headers: config, header, acquisitions (with and
               without trajectory), an image with attributes, a waveform, close
  config       the network configs of tests/data (LPN's model_config.json files, the JSON
               `config` attributes found in the golden weight files), one per architecture
  npy          the small .npy files of tests/data
  fastmri, ismrmrd, weights   (structure-aware: the bytes are choices, see fuzz_h5.h) the
               all-zero inputs, which describe a well-formed file, and a few seeded random ones
Every seed is at most 16 KiB; the output is deterministic.
"""
import glob
import json
import os
import random
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
MAX_SEED = 16 << 10
ARCHS = ["e2evn", "cirim", "recurrentvarnet", "lpn"]  # networks/registry.c order


def write(harness, name, data):
    if len(data) > MAX_SEED:
        return
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def h5_files():
    return sorted(glob.glob(os.path.join(DATA, "**", "*.h5"), recursive=True))


def xml_headers():
    seen = []
    for p in h5_files():
        with open(p, "rb") as f:
            raw = f.read()
        for m in re.finditer(rb"<\?xml[^\x00]*?</ismrmrdHeader>", raw):
            if m.group(0) not in seen:
                seen.append(m.group(0))
    return seen


GADGETRON_CONFIG = b"""<?xml version="1.0"?>
<gadgetronStreamConfiguration xmlns="http://gadgetron.sf.net/gadgetron">
  <gadget><name>Recon</name><dll>mrirecon</dll><classname>Recon</classname>
    <property><name>method</name><value>cg</value></property>
    <property name="iterations" value="10"/></gadget>
</gadgetronStreamConfiguration>
"""


def acq_header(ns, nc, td, scan, step):
    h = struct.pack("<HQIII3I", 1, 0, 1, scan, 0, 0, 0, 0)
    h += struct.pack("<HHH", ns, nc, nc) + struct.pack("<16Q", (1 << nc) - 1, *[0] * 15)
    h += struct.pack("<HHHHH", 0, 0, ns // 2, 0, td) + struct.pack("<f", 5.0)
    h += struct.pack("<15f", *([0.0] * 3 + [1, 0, 0] + [0, 1, 0] + [0, 0, 1] + [0.0] * 3))
    h += struct.pack("<17H", step, 0, 0, 0, 0, 0, 0, 0, 0, *[0] * 8)
    h += struct.pack("<8i", *[0] * 8) + struct.pack("<8f", *[0.0] * 8)
    assert len(h) == 340
    return h


def acquisition(ns, nc, td, scan, step):
    body = acq_header(ns, nc, td, scan, step)
    body += struct.pack("<%df" % (ns * td), *[0.1 * i for i in range(ns * td)])
    body += struct.pack("<%df" % (2 * ns * nc), *[((i * 7) % 11) / 11.0 for i in range(2 * ns * nc)])
    return struct.pack("<H", 1008) + body


def image(nx, ny, attr):
    h = struct.pack("<HHQI3H3fH", 1, 7, 0, 1, nx, ny, 1, 200.0, 200.0, 3.0, 1)
    h += struct.pack("<15f", *([0.0] * 3 + [1, 0, 0] + [0, 1, 0] + [0, 0, 1] + [0.0] * 3))
    h += struct.pack("<6HI3IHHH", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0)
    h += struct.pack("<8i", *[0] * 8) + struct.pack("<8f", *[0.0] * 8)
    h += struct.pack("<I", len(attr))
    assert len(h) == 198
    data = struct.pack("<%df" % (2 * nx * ny), *[float(i % 5) for i in range(2 * nx * ny)])
    return struct.pack("<H", 1022) + h + struct.pack("<Q", len(attr)) + attr + data


def waveform(ns, ch):
    h = struct.pack("<H6xQIIIHHfH2x", 1, 0, 1, 0, 0, ns, ch, 2.5, 0)
    assert len(h) == 40
    return struct.pack("<H", 1026) + h + struct.pack("<%dI" % (ns * ch), *range(ns * ch))


def text(mid, payload):
    return struct.pack("<HI", mid, len(payload)) + payload


def mrd_streams(headers):
    close = struct.pack("<H", 4)
    cfg_file = struct.pack("<H", 1) + b"default.xml".ljust(1024, b"\0")
    for i, hdr in enumerate(headers[:3]):
        s = cfg_file + text(3, hdr)
        for k in range(4):
            s += acquisition(16, 2, 0, k, k)
        write("mrd", "stream_%d" % i, s + close)
    small = (b'<?xml version="1.0"?><ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">'
             b"<encoding><encodedSpace><matrixSize><x>8</x><y>4</y><z>1</z></matrixSize>"
             b"</encodedSpace><reconSpace><matrixSize><x>8</x><y>4</y><z>1</z></matrixSize>"
             b"</reconSpace><trajectory>cartesian</trajectory></encoding></ismrmrdHeader>")
    write("mrd", "config_text", text(2, GADGETRON_CONFIG) + text(3, small) + close)
    write("mrd", "trajectory", text(3, small) + acquisition(8, 1, 2, 0, 0) + close)
    write("mrd", "image", image(4, 4, b"<ismrmrdMeta/>") + close)
    write("mrd", "waveform", waveform(5, 2) + text(5, b"hello") +
          struct.pack("<HQ", 8, 5) + b"error" + close)


def configs():
    found = []
    for p in sorted(glob.glob(os.path.join(DATA, "**", "*.json"), recursive=True)):
        if "model_config" in p:
            with open(p, "rb") as f:
                found.append(("lpn", f.read()))
    dec = json.JSONDecoder()
    for p in h5_files():
        arch = next((a for a in ARCHS if "/%s/" % a in p.replace(os.sep, "/")), None)
        if arch is None:
            continue
        with open(p, "rb") as f:
            raw = f.read()
        for m in re.finditer(rb"\{\"", raw):
            try:
                obj, end = dec.raw_decode(raw[m.start():m.start() + 8192].decode("latin-1"))
            except ValueError:
                continue
            if isinstance(obj, dict):
                j = json.dumps(obj).encode()
                if (arch, j) not in found:
                    found.append((arch, j))
                break
    for i, (arch, j) in enumerate(found):
        for opt in (0, 1):
            write("config", "%s_%d_%d" % (arch, i, opt), bytes([ARCHS.index(arch), opt]) + j)
    for a, arch in enumerate(ARCHS):
        write("config", "%s_empty" % arch, bytes([a, 0]) + b"{}")


def npys():
    for p in sorted(glob.glob(os.path.join(DATA, "**", "*.npy"), recursive=True)):
        if os.path.getsize(p) <= MAX_SEED:
            with open(p, "rb") as f:
                write("npy", os.path.basename(p), f.read())


def structured():
    rng = random.Random(15)
    for h in ("fastmri", "ismrmrd", "weights"):
        for n in (64, 512):
            write(h, "zeros_%d" % n, bytes(n))
        for k in range(4):
            write(h, "random_%d" % k, bytes(rng.randrange(256) for _ in range(256 << k)))


def main():
    headers = xml_headers()
    for i, hdr in enumerate(headers):
        write("ismrmrd_xml", "header_%d.xml" % i, hdr)
    write("ismrmrd_xml", "gadgetron.xml", GADGETRON_CONFIG)
    mrd_streams(headers)
    configs()
    npys()
    structured()


if __name__ == "__main__":
    main()
