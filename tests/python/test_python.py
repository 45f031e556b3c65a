# SPDX-License-Identifier: MIT
"""test_python.py - tools/python/brigade/shm.py (brigade.shm) against the C library: format, zero-copy, codes.

Run with /usr/bin/python3 (meson passes --peer PATH-OF-py_peer --module-dir tools/python
--header include/brigade.h).  Prints one line per check; exits 0, 1 on any failure, 77 when
numpy is missing.  Segments are named brgt-<pid>-py-* and removed at exit even on failure.
"""

import argparse
import atexit
import ctypes
import gc
import io
import mmap
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

try:
    import numpy as np
except ImportError as e:
    print("SKIP: numpy cannot be imported (%s)" % e)
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--peer", required=True)
ap.add_argument("--module-dir", required=True)
ap.add_argument("--header", required=True)
ARGS = ap.parse_args()
sys.path.insert(0, ARGS.module_dir)
from brigade import shm as bs  # noqa: E402

SHM = "/dev/shm"
PAGE = 4096
failures = []
made = []


def shm_name(tag):
    return "brgt-%d-py-%s" % (os.getpid(), tag)


def name(tag):
    """A unique segment name, removed at exit (raw unlink: corrupted ones too)."""
    n = shm_name(tag)
    if n not in made:
        made.append(n)
    return n


def path(n):
    return SHM + "/" + n


@atexit.register
def cleanup():
    for n in made:
        p = path(n)
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                os.rmdir(p)
            else:
                os.unlink(p)
        except FileNotFoundError:
            pass
        except OSError as e:
            print("cleanup %s: %s" % (p, e))


def check(label, cond, detail=""):
    why = ": %s" % (detail,) if detail and not cond else ""
    print("%s %s%s" % ("ok  " if cond else "FAIL", label, why))
    if not cond:
        failures.append(label)
    return cond


def peer(*args):
    r = subprocess.run([ARGS.peer] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def c_code(n, any_owner=False):
    """brg_err_name(brg_array_open(n)) from C: "OK", "BRG_ECHECKSUM", "ENOENT"..."""
    rc, out, err = peer("code", n, *(["any"] if any_owner else []))
    return out if rc == 0 else "peer failed: " + err


def py_code(n, **kw):
    """The same from Python: "OK", the SegmentError code, or the errno name."""
    try:
        a = bs.open(n, **kw)
        del a
        return "OK"
    except bs.SegmentError as e:
        return e.code
    except OSError as e:
        return __import__("errno").errorcode.get(e.errno, str(e))


def expect(label, n, code, **kw):
    """Python and C agree that opening n gives code."""
    got = py_code(n, **kw)
    cgot = c_code(n, any_owner=kw.get("allow_other_owner", False))
    check("%s: python %s, C %s, want %s" % (label, got, cgot, code), got == code and cgot == code)


def raises(label, fn, exc, code=None):
    try:
        fn()
    except exc as e:
        return check(label, code is None or getattr(e, "code", None) == code,
                     "code %s, want %s" % (getattr(e, "code", None), code))
    except Exception as e:  # noqa: BLE001 - reported as the failure
        return check(label, False, "raised %r, want %s %s" % (e, exc.__name__, code or ""))
    return check(label, False, "no exception, want %s %s" % (exc.__name__, code or ""))


def read_file(n):
    with open(path(n), "rb") as f:
        return f.read()


def patch(n, offset, data):
    with open(path(n), "r+b") as f:
        f.seek(offset)
        f.write(data)


def flip(n, offset):
    """Inverts one byte (so the edit always changes it)."""
    with open(path(n), "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


def header_at(n, needle, skip=0):
    """Offset of needle in n's header page, plus skip."""
    return read_file(n)[:PAGE].index(needle) + skip


def trailer_offset(n):
    return os.stat(path(n)).st_size - PAGE


def spec_checksum(header_page, trailer):
    """The checksum as the format describes it, computed here without the module."""
    t = bytearray(trailer[:252])
    t[40:48] = bytes(8)
    return zlib.crc32(bytes(t), zlib.crc32(header_page[:PAGE]))


def reseal(n):
    """Recomputes the trailer checksum after a deliberate edit (the trailer is at the end)."""
    data = read_file(n)
    t = len(data) - PAGE
    patch(n, t + 252, struct.pack("<I", spec_checksum(data[:PAGE], data[t:t + 256])))


def set_header_text(n, text):
    raw = text.encode("ascii")
    patch(n, 10, raw + b" " * (4085 - len(raw)) + b"\n")


def c_info(n):
    rc, out, err = peer("info", n)
    if rc:
        return {"error": out or err}
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        d[k] = v
    return {"kind": int(d["kind"]), "dtype_code": int(d["dtype_code"]),
            "dtype_name": d["dtype_name"], "ndim": int(d["ndim"]),
            "shape": tuple(int(x) for x in d["shape"].split()), "nbytes": int(d["nbytes"]),
            "file_bytes": int(d["file_bytes"]), "flags": int(d["flags"]),
            "mode": int(d["mode"], 8), "creator_uid": int(d["creator_uid"]),
            "creator_pid": int(d["creator_pid"]), "creator_alive": bool(int(d["creator_alive"])),
            "created_ns": int(d["created_ns"]), "generation": int(d["generation"])}


def same_info(label, n):
    """bs.info(n) and C's brg_segment_stat agree on every field C has."""
    pi = bs.info(n)
    ci = c_info(n)
    diff = {k: (pi.get(k), v) for k, v in ci.items() if pi.get(k) != v}
    check(label + ": info() equals C brg_segment_stat", not diff, diff)
    return pi


def byte_exact(label, n):
    """The file holds exactly what the module's writers produce for its fields (the same bytes
    the C writers produce), its checksum is the spec's formula, and padding is zero."""
    data = read_file(n)
    inf = bs.info(n)
    lay = bs._layout(inf["dtype_code"], inf["shape"])
    hdr = bs._header_page(lay)
    tr = bs._trailer_bytes(lay, hdr, inf["flags"], inf["kind"], inf["creator_uid"],
                           inf["creator_pid"], inf["created_ns"], inf["generation"])
    t = lay.trailer_offset
    ok = (len(data) == t + PAGE and data[:PAGE] == hdr
          and data[t:t + 256] == b"BRIGADE\x00" + tr[8:]
          and not any(data[t + 256:]) and not any(data[PAGE + lay.nbytes:t])
          and struct.unpack_from("<I", data, t + 252)[0] == spec_checksum(data[:PAGE], data[t:]))
    check(label + ": header and trailer bytes as the writers and the spec say", ok)
    # numpy's own header writer spells the dict the same way.
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, {"descr": bs.DTYPES[lay.dtype][1],
                                             "fortran_order": False, "shape": lay.shape})
    theirs = f.getvalue()[10:].rstrip(b" \n")
    check(label + ": dict text as numpy writes it", data[10:PAGE].rstrip(b" \n") == theirs,
          (data[10:80], theirs))


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


# ---- tests ------------------------------------------------------------------------------------

@test
def error_table_matches_header():
    with open(ARGS.header) as f:
        text = f.read()
    rows = re.findall(r'X\((\w+),\s*(-\d+),\s*"((?:[^"\\]|\\.)*)"\)', text)
    table = {"BRG_E" + nm: (int(v), m.replace('\\"', '"')) for nm, v, m in rows}
    diff = {k: (v, table.get(k)) for k, v in bs.ERRORS.items() if table.get(k) != v}
    check("module ERRORS (%d codes) agree with brigade.h's X-macro table" % len(bs.ERRORS),
          len(bs.ERRORS) >= 22 and not diff, diff)


@test
def c_creates_python_reads():
    n = name("cmake")
    rc, _, err = peer("make", n)
    if not check("py_peer make", rc == 0, err):
        return
    want = (np.arange(700) * 0.5 + 1).reshape(100, 7)
    m = np.load(path(n), mmap_mode="r+")
    check("numpy.load(mmap_mode='r+') of a C segment: dtype, shape, values",
          m.dtype == np.dtype("<f8") and m.shape == (100, 7) and np.array_equal(m, want))
    a = bs.open(n)
    check("open(): values, read-only, not a copy",
          np.array_equal(a, want) and not a.flags.writeable and not a.flags.owndata)
    m[3, 4] = -1.25
    m.flush()
    del m
    check("a write through numpy.load's memmap is seen by open()", bs.open(n)[3, 4] == -1.25)
    check("... and by the array opened before it (zero-copy)", a[3, 4] == -1.25)
    w = bs.open(n, write=True)
    check("open(write=True) is writable", w.flags.writeable)
    w[99, 6] = 1e300
    check("a write through one open() is seen by another", a[99, 6] == 1e300)
    mm = w.base.base.obj
    cell = ctypes.c_char.from_buffer(mm)
    addr = ctypes.addressof(cell)
    del cell
    check("open() returns a view at the mapping's byte 4096, not a copy",
          isinstance(mm, mmap.mmap) and w.ctypes.data == addr + 4096 and len(mm) == 16384)
    del mm
    inf = same_info("C segment", n)
    check("info(): f64 (100, 7), generation 1, not persistent, pid of the exited peer",
          inf["dtype"] == np.dtype("<f8") and inf["dtype_name"] == "f64"
          and inf["shape"] == (100, 7) and inf["generation"] == 1 and not inf["persistent"]
          and inf["creator_pid"] != os.getpid() and not inf["creator_alive"]
          and inf["nbytes"] == 5600 and inf["file_bytes"] == 4096 + 8192 + 4096)
    byte_exact("C segment", n)
    with tempfile.TemporaryDirectory() as tmp:
        snap = os.path.join(tmp, "snap.npy")
        shutil.copy(path(n), snap)
        check("cp snapshot: numpy.load of the copy equals the segment",
              np.array_equal(np.load(snap), a))
    check("list() names it", n in bs.list())


@test
def python_creates_c_checks():
    n = name("pymake")
    a = bs.create(n, "i32", (13, 5, 3), fill=np.arange(195).reshape(13, 5, 3))
    check("create(): i32 (13, 5, 3), writable, filled",
          a.dtype == np.dtype("<i4") and a.shape == (13, 5, 3) and a.flags.writeable
          and a[12, 4, 2] == 194)
    check("file is 0600", stat.S_IMODE(os.stat(path(n)).st_mode) == 0o600)
    rc, _, err = peer("check", n)
    check("py_peer check validates and reads every value", rc == 0, err)
    check("the creator's array sees C's write of -7", a[0, 0, 0] == -7)
    check("open() sees -7", bs.open(n)[0, 0, 0] == -7)
    check("numpy.load sees -7 and the rest", np.array_equal(
        np.load(path(n)).ravel(), np.concatenate([[-7], np.arange(1, 195)])))
    inf = same_info("Python segment", n)
    check("info(): creator is this process, alive, uid is ours",
          inf["creator_pid"] == os.getpid() and inf["creator_alive"]
          and inf["creator_uid"] == os.geteuid() and inf["kind"] == 0)
    byte_exact("Python segment", n)
    p = name("persist")
    bs.create(p, np.uint16, 3, persistent=True)
    inf = same_info("persistent segment", p)
    check("persistent=True sets flag bit 0", inf["persistent"] and inf["flags"] == 1)
    s = name("shared")
    bs.create(s, "f32", (2, 2), mode=0o660, shared=True)
    inf = same_info("shared segment", s)
    check("shared=True, mode 0660: flag bit 1, mode kept despite umask",
          inf["shared"] and inf["flags"] == 2 and inf["mode"] == 0o660)
    expect("shared 0660 segment opens", s, "OK")
    bs.unlink(n)
    check("unlink() removes it", not os.path.exists(path(n)))
    check("the mapping stays valid after unlink",
          a[0, 0, 0] == -7 and a.sum() == 194 * 195 // 2 - 7)


def shapes_for(ndim):
    full = tuple((i % 3) + 2 for i in range(ndim))
    yield full
    yield full[:-1] + (0,)
    if ndim > 1:
        yield (0,) + full[1:]


@test
def every_dtype_and_ndim():
    bad = []
    for code, (bname, descr, npname) in bs.DTYPES.items():
        for ndim in range(1, 9):
            for shape in shapes_for(ndim):
                tag = "%s-%d-%s" % (bname, ndim, "x".join(map(str, shape)))
                n = name("rt-" + tag)
                count = int(np.prod(shape))
                fill = (np.arange(count) % 100 + 1).astype(descr).reshape(shape)
                a = bs.create(n, bname if ndim % 2 else np.dtype(npname), shape, fill=fill)
                b = bs.open(n)
                size = os.stat(path(n)).st_size
                want_size = 4096 + -(-count * np.dtype(descr).itemsize // 4096) * 4096 + 4096
                if not (a.dtype == b.dtype == np.dtype(descr) and b.shape == shape
                        and np.array_equal(b, fill) and size == want_size
                        and np.array_equal(np.load(path(n)), fill)
                        and c_code(n) == "OK"):
                    bad.append("python " + tag)
                c = name("rtc-" + tag)
                rc, _, err = peer("create", c, bname, *shape)
                if rc or read_file(c)[:PAGE] != read_file(n)[:PAGE]:
                    bad.append("C header " + tag + " " + err)
                else:
                    z = bs.open(c)
                    if not (z.dtype == np.dtype(descr) and z.shape == shape and not z.any()):
                        bad.append("C open " + tag)
                del a, b
                bs.unlink(n)
                bs.unlink(c)
    check("10 dtypes x ndim 1..8, zero extents included: Python creates, Python, numpy and C "
          "read; C creates the same header byte for byte; Python reads it", not bad, bad[:5])
    n = name("zero")
    z = bs.create(n, "f64", (0,))
    check("a zero-count array: file is two pages, view is empty and writable",
          os.stat(path(n)).st_size == 8192 and z.size == 0 and z.flags.writeable)
    byte_exact("zero-count segment", n)
    with tempfile.TemporaryDirectory() as tmp:
        snap = os.path.join(tmp, "zero.npy")
        shutil.copy(path(n), snap)
        check("cp snapshot of a zero-count segment loads", np.load(snap).shape == (0,))


@test
def arguments():
    raises("create: bad name", lambda: bs.create("a/b", "f64", 3), ValueError, "BRG_EBADNAME")
    raises("open: '..' is not a name", lambda: bs.open(".."), bs.SegmentError, "BRG_EBADNAME")
    raises("open: 201 chars", lambda: bs.open("x" * 201), bs.SegmentError, "BRG_EBADNAME")
    raises("create: complex dtype", lambda: bs.create(name("c8"), np.complex64, 3), ValueError,
           "BRG_EBADDTYPE")
    raises("create: big-endian dtype", lambda: bs.create(name("be"), ">f8", 3), ValueError,
           "BRG_EBADDTYPE")
    raises("create: ndim 9", lambda: bs.create(name("nd9"), "u8", (1,) * 9), ValueError,
           "BRG_EBADNDIM")
    raises("create: ndim 0", lambda: bs.create(name("nd0"), "u8", ()), ValueError,
           "BRG_EBADNDIM")
    raises("create: overflowing shape", lambda: bs.create(name("ovf"), "f64", (2**40, 2**40)),
           ValueError, "BRG_EOVERFLOW")
    raises("create: negative extent", lambda: bs.create(name("neg"), "f64", (-1,)), ValueError,
           "BRG_EOVERFLOW")
    raises("create: mode 0644 without shared", lambda: bs.create(name("m644"), "f64", 3,
                                                                  mode=0o644),
           ValueError, "BRG_EMODE")
    raises("create: mode 0400", lambda: bs.create(name("m400"), "f64", 3, mode=0o400),
           ValueError, "BRG_EMODE")
    check("no file left by refused arguments", not [n for n in made
                                                    if os.path.lexists(path(n))
                                                    and n.endswith(("c8", "be", "nd9", "nd0",
                                                                    "ovf", "neg", "m644",
                                                                    "m400"))])
    check("dtype names: 'i8' is int8, 'u8' uint8, 'float64'/'<f8'/float are f64",
          bs._dtype_code("i8") == 3 and bs._dtype_code("u8") == 7
          and bs._dtype_code("float64") == bs._dtype_code("<f8") == bs._dtype_code(float) == 2
          and bs._dtype_code(np.int64) == 6)
    # numpy bounds even an empty array's non-zero extents x itemsize by INT64_MAX; C and
    # Python apply the same bound, so neither makes an array numpy cannot describe.
    n = name("huge")
    rc, _, err = peer("create", n, "f64", 0, 2**61)
    check("C refuses an empty f64 (0, 2**61) and leaves nothing",
          rc != 0 and not os.path.lexists(path(n)), err)
    raises("create: empty f64 (0, 2**61)", lambda: bs.create(name("huge2"), "f64", (0, 2**61)),
           ValueError, "BRG_EOVERFLOW")
    n = name("exists")
    bs.create(n, "f64", 4, fill=1.5)
    raises("create over an existing name", lambda: bs.create(n, "f64", 4), FileExistsError)
    check("... leaves the existing one intact", np.array_equal(bs.open(n), [1.5] * 4))
    f = name("badfill")
    raises("create with a fill that fails", lambda: bs.create(f, "f64", 4, fill="abc"),
           ValueError)
    check("... leaves nothing in /dev/shm", not os.path.lexists(path(f)))
    raises("open of a missing name", lambda: bs.open(name("missing")), FileNotFoundError)
    check("C says ENOENT too", c_code(name("missing")) == "ENOENT")


def cut_data(n, t):
    """Cuts the last data page out, keeping the header and the trailer page."""
    data = read_file(n)
    with open(path(n), "r+b") as f:
        f.seek(t - PAGE)
        f.write(data[t:t + PAGE])
        f.truncate(t)


@test
def corruption_codes():
    def fresh(tag, dtype="f64", shape=(100, 7)):
        n = name("bad-" + tag)
        bs.create(n, dtype, shape, fill=1)
        return n

    n = fresh("ok")
    expect("untouched", n, "OK")
    t = trailer_offset(n)

    cases = [
        ("descr <f8 -> <i8 (same size)", lambda n: patch(n, header_at(n, b"<f8", 1), b"i"),
         "BRG_ECHECKSUM"),
        ("shape (100, 7) -> (900, 7)", lambda n: patch(n, header_at(n, b"(100", 1), b"9"),
         "BRG_ECHECKSUM"),
        ("NPY magic", lambda n: patch(n, 1, b"M"), "BRG_ENOTNPY"),
        ("NPY version 2.0", lambda n: patch(n, 6, b"\x02"), "BRG_ENPYVERSION"),
        ("NPY header length", lambda n: patch(n, 8, b"\x00"), "BRG_EDATAOFFSET"),
        ("last header byte not newline", lambda n: patch(n, 4095, b" "), "BRG_EHEADER"),
        ("tab in the padding", lambda n: patch(n, 3000, b"\t"), "BRG_EHEADER"),
        ("fortran_order True", lambda n: patch(n, header_at(n, b"False"), b"True "),
         "BRG_EFORTRAN"),
        ("descr <c8", lambda n: patch(n, header_at(n, b"<f8", 1), b"c"), "BRG_EDESCR"),
        ("a data byte (not checksummed)", lambda n: patch(n, 5000, b"\x55"), "OK"),
        ("generation bumped (not checksummed)",
         lambda n: patch(n, t + 40, struct.pack("<Q", 77)), "OK"),
        ("creator pid in the trailer", lambda n: flip(n, t + 28), "BRG_ECHECKSUM"),
        ("created_ns in the trailer", lambda n: flip(n, t + 32), "BRG_ECHECKSUM"),
        ("checksum itself", lambda n: flip(n, t + 252), "BRG_ECHECKSUM"),
        ("trailer magic zeroed", lambda n: patch(n, t, bytes(8)), "BRG_EINCOMPLETE"),
        ("trailer magic changed", lambda n: patch(n, t + 6, b"F"), "BRG_ENOTBRIGADE"),
        ("trailer version 2", lambda n: patch(n, t + 8, b"\x02"), "BRG_ETRAILERVERSION"),
        ("trailer ndim 3, resealed", lambda n: (patch(n, t + 68, b"\x03"), reseal(n)),
         "BRG_EMISMATCH"),
        ("trailer nbytes, resealed", lambda n: (patch(n, t + 48, b"\x01"), reseal(n)),
         "BRG_EMISMATCH"),
        ("trailer dtype, resealed", lambda n: (patch(n, t + 64, b"\x06"), reseal(n)),
         "BRG_EMISMATCH"),
        ("unused shape entry, resealed", lambda n: (patch(n, t + 72 + 16, b"\x01"), reseal(n)),
         "BRG_EMISMATCH"),
        ("reserved byte, resealed", lambda n: (patch(n, t + 200, b"\x01"), reseal(n)),
         "BRG_EMISMATCH"),
        ("flag bit 2, resealed", lambda n: (patch(n, t + 16, b"\x04"), reseal(n)),
         "BRG_EMISMATCH"),
        ("kind 6, resealed", lambda n: (patch(n, t + 20, b"\x06"), reseal(n)), "BRG_EMISMATCH"),
        ("kind 2 (lock), resealed: not an array", lambda n: (patch(n, t + 20, b"\x02"), reseal(n)),
         "BRG_ENOTARRAY"),
        ("trailer size field, resealed", lambda n: (patch(n, t + 12, b"\x00\x02"), reseal(n)),
         "BRG_EMISMATCH"),
        ("data offset field, resealed", lambda n: (patch(n, t + 56, b"\x00\x20"), reseal(n)),
         "BRG_EMISMATCH"),
        ("kind 1 (pool), resealed: a segment, not an array",
         lambda n: (patch(n, t + 20, b"\x01"), reseal(n)), "BRG_ENOTARRAY"),
        ("truncated by a page", lambda n: os.truncate(path(n), t), "BRG_ETRUNCATED"),
        ("truncated to 100 bytes", lambda n: os.truncate(path(n), 100), "BRG_ETRUNCATED"),
        ("truncated to 0 bytes", lambda n: os.truncate(path(n), 0), "BRG_EEMPTY"),
        ("grown by a page", lambda n: os.truncate(path(n), t + 2 * PAGE), "BRG_EOVERSIZE"),
        ("grown by a byte", lambda n: os.truncate(path(n), t + PAGE + 1), "BRG_EOVERSIZE"),
        ("data pages cut, the trailer kept at the end", lambda n: cut_data(n, t),
         "BRG_ETRUNCATED"),
        ("a byte past the trailer", lambda n: patch(n, t + 300, b"\x01"), "BRG_EPADDING"),
        ("a byte past the data", lambda n: patch(n, PAGE + 100 * 7 * 8 + 3, b"\x01"),
         "BRG_EPADDING"),
        ("generation 0", lambda n: patch(n, t + 40, bytes(8)), "BRG_EGENERATION"),
        ("mode 0622", lambda n: os.chmod(path(n), 0o622), "BRG_EEXPOSED"),
    ]
    for i, (label, mutate, code) in enumerate(cases):
        n = fresh("c%d" % i)
        mutate(n)
        expect(label, n, code)
        if code in ("BRG_EPADDING", "BRG_EGENERATION"):
            # The content is damaged, not the identity: info describes it, unlink removes it.
            check("%s: info describes it" % label, bs.info(n)["name"] == n)
            bs.unlink(n)
            check("%s: unlink removes it" % label, not os.path.exists(path(n)))

    # The header parser takes what Python's syntax allows for these keys and nothing more, the
    # same as npy.c: each text is written into the header and the checksum recomputed.
    texts = [
        ('{"descr": "<f8", "fortran_order": False, "shape": (100, 7)}', "OK"),
        ("{'shape':(100,7,),'fortran_order':False,'descr':'<f8'}", "OK"),
        ("  { 'descr' : '<f8' , 'fortran_order' : False , 'shape' : ( 100 , 7 ) , }", "OK"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (0x64, 7), }", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (1_00, 7), }", "BRG_EHEADER"),
        # Python's syntax, and so numpy, refuse a leading zero; "00" is 0.
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (0100, 7), }", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (100, 07), }", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (100, 00), }", "BRG_EMISMATCH"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (True, 7), }", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (100, 7), 'x': 1}", "BRG_EHEADER"),
        ("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (100, 7)}",
         "BRG_EHEADER"),
        ("{'descr': '<f8', 'shape': (100, 7), }", "BRG_EHEADER"),
        ("{'descr': '<' '<f8', 'fortran_order': False, 'shape': (100, 7), }", "BRG_EHEADER"),
        ("{'descr': '<\\x66', 'fortran_order': False, 'shape': (100, 7), }", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': 0, 'shape': (100, 7), }", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (100, 7), }}", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (100, 7, }", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (700), }", "BRG_EHEADER"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", "BRG_EBADNDIM"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,100,7), }",
         "BRG_EBADNDIM"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616, 0), }",
         "BRG_EOVERFLOW"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
         "BRG_EOVERFLOW"),
        ("{'descr': '>f8', 'fortran_order': False, 'shape': (100, 7), }", "BRG_EDESCR"),
        ("{'descr': '<f8', 'fortran_order': True, 'shape': (100, 7), }", "BRG_EFORTRAN"),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (100, 8), }", "BRG_EMISMATCH"),
        ("{'descr': '<i8', 'fortran_order': False, 'shape': (100, 7), }", "BRG_EMISMATCH"),
    ]
    for i, (text, code) in enumerate(texts):
        n = fresh("h%d" % i)
        set_header_text(n, text)
        reseal(n)
        expect("header %s" % text.strip()[:70], n, code)
        if "0100" in text:  # a segment brigade refuses for its syntax, numpy refuses too
            raises("numpy refuses the header %s" % text.strip()[:60],
                   lambda: np.load(path(n), mmap_mode="r"), ValueError)
    n = fresh("i1", "i8", (5,))
    set_header_text(n, "{'descr': '<i1', 'fortran_order': False, 'shape': (5,), }")
    reseal(n)
    expect("'<i1' for '|i1', as numpy accepts it", n, "OK")

    # Files that are not brigade segments at all.
    n = name("npysave")
    np.save(path(n), np.arange(1000.0))  # more than a page: fails on its header
    os.rename(path(n) + ".npy", path(n))
    expect("a plain numpy.save file", n, "BRG_EDATAOFFSET")
    n = name("text")
    with open(path(n), "w") as f:
        f.write("hello, world\n" * 1000)
    os.chmod(path(n), 0o600)
    expect("a text file", n, "BRG_ENOTNPY")
    raises("unlink() refuses a non-brigade file", lambda: bs.unlink(n), bs.SegmentError,
           "BRG_ENOTNPY")
    check("... and leaves it", os.path.exists(path(n)))
    n = name("zeros")
    with open(path(n), "wb") as f:
        f.write(bytes(8192))
    expect("8192 zero bytes: a header not written yet", n, "BRG_EINCOMPLETE")
    src = fresh("src", "u8", (10,))
    page = read_file(src)[:PAGE]
    n = name("notrailer")
    with open(path(n), "wb") as f:
        f.write(page + bytes(PAGE) + b"\xaa" * PAGE)
    expect("an NPY file with our header and a foreign last page", n, "BRG_ENOTBRIGADE")
    n = name("exact")
    with open(path(n), "wb") as f:
        f.write(page + bytes(10))
    expect("an NPY file with our header and no trailer page", n, "BRG_ETRUNCATED")
    n = name("dir")
    os.mkdir(path(n), 0o700)
    expect("a directory", n, "BRG_ENOTREG")
    n = name("link")
    os.symlink(path(src), path(n))
    expect("a symlink to a segment (O_NOFOLLOW)", n, "ELOOP")
    # A FIFO: C's shm_open would block on it (no O_NONBLOCK there), so it is made in a private
    # directory the module is pointed at - a C process listing /dev/shm meanwhile would hang on
    # it - and asked about in a child with a time limit.
    with tempfile.TemporaryDirectory() as tmp:
        os.mkfifo(os.path.join(tmp, "fifo"), 0o600)
        script = ("import sys; sys.path.insert(0, sys.argv[1]); from brigade import shm as b\n"
                  "b.SHM_DIR = sys.argv[2]\n"
                  "try:\n    b.open('fifo')\nexcept b.SegmentError as e:\n    print(e.code)")
        try:
            r = subprocess.run([sys.executable, "-c", script, ARGS.module_dir, tmp],
                               capture_output=True, text=True, timeout=10)
            out = r.stdout.strip() or r.stderr.strip()
        except subprocess.TimeoutExpired:
            out = "blocked"
        check("a FIFO: Python says BRG_ENOTREG without blocking", out == "BRG_ENOTREG", out)

    # Exposure and ownership.
    n = fresh("exposed")
    os.chmod(path(n), 0o666)
    expect("mode 0666, not shared", n, "BRG_EEXPOSED")
    expect("mode 0666 with allow_other_owner", n, "OK", allow_other_owner=True)
    if os.geteuid() == 0:
        n = fresh("owner")
        os.chown(path(n), 4242, -1)
        expect("owned by uid 4242", n, "BRG_EOWNER")
        expect("owned by uid 4242 with allow_other_owner", n, "OK", allow_other_owner=True)
        check("info(allow_other_owner=True) of it", bs.info(n, allow_other_owner=True)["shape"]
              == (100, 7))
        check("list() skips it, list(allow_other_owner=True) has it",
              n not in bs.list() and n in bs.list(allow_other_owner=True))
    else:
        print("skip owner check: needs root to chown")

    listed = bs.list()
    mine = [x for x in listed if x.startswith("brgt-%d-py-" % os.getpid())]
    check("list(): sorted, has the good segments, none of the corrupted",
          listed == sorted(listed) and shm_name("bad-ok") in mine
          and shm_name("bad-c0") not in mine and shm_name("text") not in mine
          and shm_name("dir") not in mine)
    e = None
    bad = shm_name("bad-c0")
    try:
        bs.open(bad)
    except bs.SegmentError as exc:
        e = exc
    check("SegmentError: an OSError with code, value, segment, filename and a message",
          isinstance(e, OSError) and e.code == "BRG_ECHECKSUM" and e.value == -4020
          and e.segment == bad and e.filename == path(bad) and "checksum" in str(e))
    check("SegmentError pickles with its code",
          __import__("pickle").loads(__import__("pickle").dumps(e)).code == "BRG_ECHECKSUM")


@test
def mappings_outlive_handles():
    n = name("life")
    bs.create(n, "i64", (1000,), fill=np.arange(1000))
    a = bs.open(n)
    v = a[10:20]
    del a
    gc.collect()
    check("a view outlives the array it came from", v[0] == 10 and v[-1] == 19)
    base = v
    while not isinstance(base, __import__("mmap").mmap):
        base = base.base if not isinstance(base, memoryview) else base.obj
    raises("closing the mmap under a live view is refused", base.close, BufferError)
    check("... and the view still reads", int(v.sum()) == sum(range(10, 20)))
    del base
    r = bs.open(n)
    try:
        r.flags.writeable = True
        check("a read-only array cannot be made writable", False)
    except ValueError:
        check("a read-only array cannot be made writable", True)
    raises("writing a read-only array", lambda: r.__setitem__(0, 1), ValueError)
    del r, v
    gc.collect()
    check("dropping every array leaves the segment", py_code(n) == "OK" and c_code(n) == "OK")


CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from brigade import shm as brigade_shm; import numpy
mode, name = sys.argv[2], sys.argv[3]
if mode == "open":
    a = brigade_shm.open(name)
    assert a.shape == (100, 7) and a[1, 0] == 4.5, a[1, 0]
    w = brigade_shm.open(name, write=True)
    w[0, 0] = 123.0
elif mode == "create":
    a = brigade_shm.create(name, "u16", (6, 4), fill=numpy.arange(24).reshape(6, 4))
elif mode == "control":
    from multiprocessing import shared_memory
    shared_memory.SharedMemory(name=name).close()
bad = [m for m in ("multiprocessing.resource_tracker", "multiprocessing.shared_memory")
       if m in sys.modules and mode != "control"]
assert not bad, bad
"""


def child(mode, n):
    return subprocess.run([sys.executable, "-c", CHILD, ARGS.module_dir, mode, n],
                          capture_output=True, text=True, timeout=30)


@test
def resource_tracker_leaves_segments():
    opened, created, control = name("rt-open"), name("rt-create"), name("rt-control")
    for n in (opened, control):
        rc, _, err = peer("make", n)
        check("py_peer make " + n, rc == 0, err)
    r = child("open", opened)
    check("a child opens a C segment via the module and exits 0 (no resource tracker "
          "loaded)", r.returncode == 0, r.stderr)
    r = child("create", created)
    check("a child creates a segment via the module and exits 0", r.returncode == 0, r.stderr)
    # The control: multiprocessing.shared_memory attaching to a C segment in a child gets it
    # unlinked by the resource tracker (gh-82300) once the child exits.  The tracker acts
    # after the child is gone; wait for that (bounded) so the checks below see any unlink.
    r = child("control", control)
    # (run() already waited for the tracker: it inherits the child's stderr pipe.)
    gone = False
    for _ in range(100):
        if not os.path.exists(path(control)):
            gone = True
            break
        time.sleep(0.05)  # bounded poll of the file itself
    print("info control: multiprocessing.shared_memory in a child %s the C segment (%s)" % (
        "REMOVED" if gone else "left", "gh-82300 as expected" if gone
        else "this Python's tracker did not unlink it"))
    check("the segment the child opened still exists and validates in Python and C",
          os.path.exists(path(opened)) and py_code(opened) == "OK" and c_code(opened) == "OK")
    check("... and holds the child's write", bs.open(opened)[0, 0] == 123.0)
    check("the segment the child created still exists and validates in Python and C",
          os.path.exists(path(created)) and py_code(created) == "OK" and c_code(created) == "OK")
    a = bs.open(created)
    inf = bs.info(created)
    check("... with its values, and its creator recorded as not alive",
          np.array_equal(a, np.arange(24).reshape(6, 4)) and not inf["creator_alive"])
    del a
    bs.unlink(created)
    check("the parent removes it with unlink()", not os.path.exists(path(created)))


def main():
    print("brigade.shm from %s, numpy %s, python %s" % (bs.__file__, np.__version__,
                                                       sys.version.split()[0]))
    for fn in TESTS:
        print("== " + fn.__name__)
        try:
            fn()
        except Exception:  # noqa: BLE001 - a crash in one test fails it, the others run
            traceback.print_exc()
            check(fn.__name__ + " ran to the end", False)
    if failures:
        print("%d check(s) failed: %s" % (len(failures), "; ".join(failures)))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
