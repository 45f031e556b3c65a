# SPDX-License-Identifier: MIT
"""brigade.shm - brigade's shared-memory arrays from Python: validate, map, create, list, unlink.

A brigade segment is /dev/shm/NAME holding a valid NPY 1.0 file (a 4096-byte header page, the
data, then a brigade trailer page).  This module reads and writes that format byte for byte as
engine/segment/npy.c, engine/segment/trailer.c and engine/segment/segment.c do, with the standard library and numpy
only, and validates every field in the same order so a failure carries the same code name
(SegmentError.code) that brg_err_name() gives for it in C.

Why not multiprocessing.shared_memory: SharedMemory registers every segment it touches - also
ones it only attaches to - with CPython's resource tracker, which unlinks them when the process
exits (cpython gh-82300).  A Python reader would then delete arrays that C processes still use.
This module opens /dev/shm/NAME with os.open and maps it with mmap directly, so nothing is ever
registered with the resource tracker; tests/python/test_python.py proves a child interpreter
leaves both attached and created segments in place.

System failures propagate as the ordinary OSError subclasses (FileNotFoundError for a missing
segment, FileExistsError when creating over one, PermissionError...); everything brigade itself
rejects raises SegmentError, or SegmentArgumentError (also a ValueError) for bad arguments.
"""

import errno as _errno
import io as _io
import mmap as _mmap
import operator as _operator
import os as _os
import re as _re
import stat as _stat
import struct as _struct
import time as _time
import zlib as _zlib

import numpy as _np

__all__ = ["SegmentError", "SegmentArgumentError", "open", "create", "info", "unlink", "list",
           "ERRORS", "DTYPES", "SHM_DIR"]

SHM_DIR = "/dev/shm"
NAME_MAX = 200
MAX_NDIM = 8
DATA_OFFSET = 4096
PAGE = 4096
KIND_ARRAY = 0
KIND_POOL = 1
KIND_LOCK = 2
KIND_EVENT = 3
KIND_BARRIER = 4
KIND_STREAM = 5
CREATE_PERSISTENT = 0x1
CREATE_SHARED = 0x2

_NPY_MAGIC = b"\x93NUMPY"
_NPY_HEADER_LEN = DATA_OFFSET - 10  # magic 6 + version 2 + length 2
_TRAILER_MAGIC = b"BRIGADE\x00"
_TRAILER_VERSION = 1
_TRAILER_BYTES = 256
_TRAILER_FLAGS = CREATE_PERSISTENT | CREATE_SHARED
_SIZE_MAX = (1 << 64) - 1
_INT64_MAX = (1 << 63) - 1

# Trailer layout (tools/man/brigade-segment.5.md is the reference): magic, version, size,
# flags, kind, uid, pid, created_ns, generation, nbytes, data offset, dtype, ndim, shape[8];
# reserved up to 252, then the checksum.
_TRAILER = _struct.Struct("<8s5Ii4Q2I8Q")
_T_GENERATION = 40
_T_RESERVED = 136
_T_CHECKSUM = 252
assert _TRAILER.size == _T_RESERVED

# The part of include/brigade.h's X-macro table this module can raise (the segment format's
# codes, -4000..-4022): name -> (value, message).  The test checks it against the header.
ERRORS = {
    "BRG_EBADNAME": (-4000, 'invalid name: 1-200 of [A-Za-z0-9._-], not "." or ".."'),
    "BRG_EBADDTYPE": (-4001, "unknown dtype"),
    "BRG_EBADNDIM": (-4002, "ndim must be 1 to 8"),
    "BRG_EOVERFLOW": (-4003, "shape product or byte size overflows"),
    "BRG_EBADFLAGS": (-4004, "unknown flag bits"),
    "BRG_EMODE": (-4005, "mode grants access beyond the owner without BRG_CREATE_SHARED"),
    "BRG_ENOTREG": (-4006, "not a regular shared-memory object"),
    "BRG_EOWNER": (-4007, "segment is owned by another user"),
    "BRG_EEXPOSED": (-4008, "segment is writable by group or others"),
    "BRG_EEMPTY": (-4009, "segment is a zero-length file"),
    "BRG_ETRUNCATED": (-4010, "segment is smaller than its header says"),
    "BRG_EOVERSIZE": (-4011, "segment is larger than its header says"),
    "BRG_ENOTNPY": (-4012, "not an NPY file (bad magic)"),
    "BRG_ENPYVERSION": (-4013, "unsupported NPY format version"),
    "BRG_EHEADER": (-4014, "malformed NPY header"),
    "BRG_EDESCR": (-4015, "unsupported descr in NPY header"),
    "BRG_EFORTRAN": (-4016, "Fortran-ordered arrays are not supported"),
    "BRG_EDATAOFFSET": (-4017, "NPY data does not start at byte 4096"),
    "BRG_ENOTBRIGADE": (-4018, "no brigade trailer (not a brigade segment)"),
    "BRG_ETRAILERVERSION": (-4019, "unsupported brigade trailer version"),
    "BRG_ECHECKSUM": (-4020, "header or trailer checksum mismatch"),
    "BRG_EMISMATCH": (-4021, "NPY header disagrees with brigade trailer"),
    "BRG_EINCOMPLETE": (-4022, "segment is still being created"),
    "BRG_ENOTARRAY": (-4038, "segment is not an array (a pool control block, a lock...)"),
    "BRG_EPADDING": (-4039, "bytes the format keeps zero are not (trailer page, data padding)"),
    "BRG_EGENERATION": (-4040, "generation counter is 0 (it starts at 1)"),
    "BRG_EWRONGKIND": (-4041, "segment is another kind of brigade object"),
    "BRG_EOWNERDEAD": (-4042, "acquired a lock whose last holder died holding it"),
    "BRG_EBROKEN": (-4043, "barrier is broken: a party died or timed out, or it was reset"),
}

# engine/segment/dtype.c's table: code -> (brigade name, NPY descr, numpy name).
DTYPES = {
    1: ("f32", "<f4", "float32"),
    2: ("f64", "<f8", "float64"),
    3: ("i8", "|i1", "int8"),
    4: ("i16", "<i2", "int16"),
    5: ("i32", "<i4", "int32"),
    6: ("i64", "<i8", "int64"),
    7: ("u8", "|u1", "uint8"),
    8: ("u16", "<u2", "uint16"),
    9: ("u32", "<u4", "uint32"),
    10: ("u64", "<u8", "uint64"),
}
_NP_DTYPE = {code: _np.dtype(row[1]) for code, row in DTYPES.items()}


class SegmentError(OSError):
    """A segment brigade refuses; .code is brg_err_name()'s name ("BRG_ECHECKSUM"), .value its
    number, .segment the segment name."""

    def __init__(self, code, segment=None, detail=None):
        value, message = ERRORS[code]
        text = message if detail is None else "%s: %s" % (message, detail)
        if segment is not None:
            text = "%s: %s" % (segment, text)
        super().__init__("%s (%s)" % (text, code))
        self.code = code
        self.value = value
        self.segment = segment
        self.detail = detail
        if segment is not None:
            self.filename = SHM_DIR + "/" + segment

    def __str__(self):
        # OSError would print "[Errno None] None: 'filename'" once filename is set.
        return self.args[0]

    def __reduce__(self):
        return (type(self), (self.code, self.segment, self.detail))


class SegmentArgumentError(SegmentError, ValueError):
    """A bad argument (name, dtype, shape, mode): the C library's BRG_EBADNAME, BRG_EBADDTYPE,
    BRG_EBADNDIM, BRG_EOVERFLOW, BRG_EMODE; a ValueError too."""


# ---- names and layouts ------------------------------------------------------------------------

_NAME_RE = _re.compile(r"[A-Za-z0-9._-]{1,%d}" % NAME_MAX)


def _check_name(name):
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or name in (".", ".."):
        raise SegmentArgumentError("BRG_EBADNAME", None, repr(name))
    return SHM_DIR + "/" + name


class _Layout:
    """engine/segment/npy.c's struct brg__layout."""
    __slots__ = ("dtype", "shape", "count", "nbytes", "trailer_offset", "file_bytes")


def _layout(dtype, shape, segment=None, argument=False):
    """brg__layout_make: the sizes of a (dtype code, shape), with its overflow rules."""
    err = SegmentArgumentError if argument else SegmentError
    if dtype not in DTYPES:
        raise err("BRG_EBADDTYPE", segment)
    if not 1 <= len(shape) <= MAX_NDIM:
        raise err("BRG_EBADNDIM", segment, "ndim %d" % len(shape))
    count = 1
    nonzero = 1
    for extent in shape:
        count *= extent
        if count > _SIZE_MAX:
            raise err("BRG_EOVERFLOW", segment)
    # A zero extent makes count 0, but the others times the item size must stay within
    # numpy's bound (INT64_MAX), as engine/segment/npy.c checks.
    nonzero = _NP_DTYPE[dtype].itemsize
    for extent in shape:
        if extent:
            nonzero *= extent
            if nonzero > _INT64_MAX:
                raise err("BRG_EOVERFLOW", segment)
    nbytes = count * _NP_DTYPE[dtype].itemsize
    if nbytes > _SIZE_MAX or nbytes > _INT64_MAX - 3 * PAGE:
        raise err("BRG_EOVERFLOW", segment)
    lay = _Layout()
    lay.dtype = dtype
    lay.shape = tuple(shape)
    lay.count = count
    lay.nbytes = nbytes
    lay.trailer_offset = DATA_OFFSET + (nbytes + PAGE - 1) // PAGE * PAGE
    lay.file_bytes = lay.trailer_offset + PAGE
    return lay


def _check_numpy_limit(lay, segment, err):
    """numpy bounds the product of the non-zero extents times the itemsize by INT64_MAX even
    for an empty array; the C side bounds it by SIZE_MAX, so an empty segment such as
    (0, 2**62) f64 passes validation but has no ndarray."""
    n = _NP_DTYPE[lay.dtype].itemsize
    for extent in lay.shape:
        n *= extent or 1
    if n > _INT64_MAX:
        raise err("BRG_EOVERFLOW", segment, "numpy cannot describe shape %r" % (lay.shape,))


def _dtype_code(dtype):
    """brg_dtype_parse for Python: brigade names ("f64"; note "i8"/"u8" are one byte, as in C)
    first, then anything numpy.dtype() takes that is one of the ten little-endian types."""
    if isinstance(dtype, str):
        for code, (name, descr, npname) in DTYPES.items():
            if dtype in (name, npname):
                return code
    try:
        dt = _np.dtype(dtype)
    except TypeError:
        raise SegmentArgumentError("BRG_EBADDTYPE", None, repr(dtype)) from None
    for code, want in _NP_DTYPE.items():
        if dt == want and not dt.fields and dt.subdtype is None:
            return code
    raise SegmentArgumentError("BRG_EBADDTYPE", None, repr(dtype))


def _shape_tuple(shape):
    if isinstance(shape, (int, _np.integer)):
        shape = (shape,)
    out = []
    for extent in shape:
        extent = _operator.index(extent)  # TypeError for a non-integer, as numpy gives
        if extent < 0:
            # size_t in C: a negative extent is a huge one there.
            raise SegmentArgumentError("BRG_EOVERFLOW", None, "negative extent %d" % extent)
        out.append(extent)
    return tuple(out)


# ---- the NPY header page (engine/segment/npy.c) ---------------------------------------------------------

def _header_page(lay):
    """brg__npy_write: the 4096-byte header page, as numpy itself would spell the dict."""
    dims = ", ".join(str(x) for x in lay.shape)
    if len(lay.shape) == 1:
        dims += ","
    text = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        DTYPES[lay.dtype][1], dims)
    raw = text.encode("ascii")
    page = (_NPY_MAGIC + b"\x01\x00" + _struct.pack("<H", _NPY_HEADER_LEN) + raw
            + b" " * (_NPY_HEADER_LEN - len(raw) - 1) + b"\n")
    assert len(page) == DATA_OFFSET
    return page


class _Cursor:
    """The C parser's cursor: every step checks the end; whitespace as npy.c skips it."""
    __slots__ = ("s", "p", "segment")

    def __init__(self, s, segment):
        self.s = s
        self.p = 0
        self.segment = segment

    def fail(self, code="BRG_EHEADER"):
        raise SegmentError(code, self.segment)

    def ws(self):
        s, p = self.s, self.p
        while p < len(s) and s[p] in " \t\n\r":
            p += 1
        self.p = p

    def eat(self, ch):
        self.ws()
        if self.p < len(self.s) and self.s[self.p] == ch:
            self.p += 1
            return True
        return False

    def string(self):
        """A quoted string without escapes (none of the keys or descrs needs one)."""
        self.ws()
        s = self.s
        if self.p >= len(s) or s[self.p] not in ("'", '"'):
            self.fail()
        quote = s[self.p]
        self.p += 1
        start = self.p
        while self.p < len(s) and s[self.p] != quote:
            if s[self.p] == "\\":
                self.fail()
            self.p += 1
        if self.p >= len(s):
            self.fail()
        out = s[start:self.p]
        self.p += 1
        return out

    def size(self):
        self.ws()
        s = self.s
        if self.p >= len(s) or not "0" <= s[self.p] <= "9":
            self.fail()
        first = s[self.p]
        x = 0
        while self.p < len(s) and "0" <= s[self.p] <= "9":
            x = x * 10 + ord(s[self.p]) - 48
            if x > _SIZE_MAX:
                self.fail("BRG_EOVERFLOW")
            self.p += 1
        # Python's syntax, which numpy parses the header with: "007" is refused, "00" is 0.
        if first == "0" and x:
            self.fail()
        return x

    def shape(self):
        if not self.eat("("):
            self.fail()
        dims = []
        comma = False
        while True:
            if self.eat(")"):
                break
            if len(dims) == MAX_NDIM:
                self.fail("BRG_EBADNDIM")
            dims.append(self.size())
            comma = self.eat(",")
            if not comma:
                if not self.eat(")"):
                    self.fail()
                break
        # "(5)" is the integer 5 in Python, not a tuple.
        if len(dims) == 1 and not comma:
            self.fail()
        if not dims:
            self.fail("BRG_EBADNDIM")
        return tuple(dims)


def _dtype_from_descr(descr):
    for code, (_, want, _) in DTYPES.items():
        if len(descr) != len(want):
            continue
        # numpy writes one-byte types with '|' but accepts '<' too; so does the C side.
        if descr[1:] == want[1:] and (descr[0] == want[0] or (want[0] == "|" and descr[0] == "<")):
            return code
    return None


_NONPRINTABLE = _re.compile(rb"[^\x20-\x7e]")


def _parse_header(page, segment=None):
    """brg__npy_parse: a strict parser of exactly what numpy writes (not ast.literal_eval,
    which takes 0x10, 1_0, True as an extent and string concatenation), same codes as C."""
    if page[:6] != _NPY_MAGIC:
        # Sized but no header yet: its creator is between fallocate and the first write.
        raise SegmentError("BRG_EINCOMPLETE" if page[:16] == bytes(16) else "BRG_ENOTNPY",
                           segment)
    if page[6] != 1 or page[7] != 0:
        raise SegmentError("BRG_ENPYVERSION", segment)
    if page[8] | page[9] << 8 != _NPY_HEADER_LEN:
        raise SegmentError("BRG_EDATAOFFSET", segment)
    if page[DATA_OFFSET - 1] != 0x0A:
        raise SegmentError("BRG_EHEADER", segment)
    raw = page[10:DATA_OFFSET - 1]
    if _NONPRINTABLE.search(raw):
        raise SegmentError("BRG_EHEADER", segment)
    c = _Cursor(raw.decode("ascii"), segment)
    descr = fortran = shape = None
    if not c.eat("{"):
        c.fail()
    while True:
        if c.eat("}"):
            break
        key = c.string()
        if not c.eat(":"):
            c.fail()
        if key == "descr" and descr is None:
            descr = c.string()
        elif key == "fortran_order" and fortran is None:
            c.ws()
            if c.s.startswith("False", c.p):
                c.p += 5
            elif c.s.startswith("True", c.p):
                c.fail("BRG_EFORTRAN")
            else:
                c.fail()
            fortran = False
        elif key == "shape" and shape is None:
            shape = c.shape()
        else:
            c.fail()  # unknown or repeated key
        if not c.eat(","):
            if not c.eat("}"):
                c.fail()
            break
    c.ws()
    if c.p != len(c.s) or descr is None or fortran is None or shape is None:
        c.fail()
    dtype = _dtype_from_descr(descr)
    if dtype is None:
        raise SegmentError("BRG_EDESCR", segment, repr(descr))
    return _layout(dtype, shape, segment)


# ---- the trailer page (engine/segment/trailer.c) --------------------------------------------------------

def _checksum(trailer, header_page):
    """CRC-32 (zlib's) of the header page, then of the trailer up to the checksum with the
    generation - the one field that changes after creation - read as zero and the magic as
    written when sealed (so it can be computed before the magic is)."""
    copy = bytearray(trailer[:_T_CHECKSUM])
    copy[_T_GENERATION:_T_GENERATION + 8] = bytes(8)
    copy[0:8] = _TRAILER_MAGIC
    return _zlib.crc32(copy, _zlib.crc32(header_page[:DATA_OFFSET]))


def _trailer_bytes(lay, header_page, flags, kind, uid, pid, created_ns, generation):
    """brg__trailer_write: the 256 trailer bytes, magic still zero (sealed last)."""
    tr = bytearray(_TRAILER_BYTES)
    shape = lay.shape + (0,) * (MAX_NDIM - len(lay.shape))
    _TRAILER.pack_into(tr, 0, bytes(8), _TRAILER_VERSION, _TRAILER_BYTES, flags, kind, uid, pid,
                       created_ns, generation, lay.nbytes, DATA_OFFSET, lay.dtype,
                       len(lay.shape), *shape)
    _struct.pack_into("<I", tr, _T_CHECKSUM, _checksum(tr, header_page))
    return bytes(tr)


def _parse_trailer(tr, header_page, lay, segment=None):
    """brg__trailer_parse: the trailer's fields as a dict, checked against the header."""
    if tr[:8] == bytes(8):
        raise SegmentError("BRG_EINCOMPLETE", segment)
    if tr[:8] != _TRAILER_MAGIC:
        raise SegmentError("BRG_ENOTBRIGADE", segment)
    (_, version, size, flags, kind, uid, pid, created_ns, generation, nbytes, data_offset,
     dtype, ndim, *shape) = _TRAILER.unpack_from(tr, 0)
    if version != _TRAILER_VERSION:
        raise SegmentError("BRG_ETRAILERVERSION", segment, "version %d" % version)
    (checksum,) = _struct.unpack_from("<I", tr, _T_CHECKSUM)
    if checksum != _checksum(tr, header_page):
        raise SegmentError("BRG_ECHECKSUM", segment)
    # From here on the bytes are as their creator wrote them; check they agree.
    want_shape = lay.shape + (0,) * (MAX_NDIM - len(lay.shape))
    if (size != _TRAILER_BYTES or data_offset != DATA_OFFSET or nbytes != lay.nbytes
            or dtype != lay.dtype or ndim != len(lay.shape) or flags & ~_TRAILER_FLAGS
            or kind > KIND_STREAM or tuple(shape) != want_shape
            or any(tr[_T_RESERVED:_T_CHECKSUM])):
        raise SegmentError("BRG_EMISMATCH", segment)
    return {"flags": flags, "kind": kind, "creator_uid": uid, "creator_pid": pid,
            "created_ns": created_ns, "generation": generation}


# ---- validation (engine/segment/segment.c validate_fd) --------------------------------------------------

def _pread_full(fd, length, offset, segment):
    chunks = []
    while length:
        chunk = _os.pread(fd, length, offset)  # EINTR is retried by Python (PEP 475)
        if not chunk:
            raise SegmentError("BRG_ETRUNCATED", segment)
        chunks.append(chunk)
        length -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _validate_fd(fd, segment, allow_other_owner, content=True):
    """Every check that can be made from the descriptor, in segment.c's order, before
    anything is mapped: the segment's identity always, its content's invariants (zero
    padding, a generation of at least 1) when content (an open; info, ls and unlink describe
    or remove a damaged segment).  Returns (layout, trailer fields, stat)."""
    st = _os.fstat(fd)
    if not _stat.S_ISREG(st.st_mode):
        raise SegmentError("BRG_ENOTREG", segment)
    if not allow_other_owner and st.st_uid != _os.geteuid():
        raise SegmentError("BRG_EOWNER", segment, "uid %d" % st.st_uid)
    if st.st_size == 0:
        raise SegmentError("BRG_EEMPTY", segment)
    if st.st_size < DATA_OFFSET:
        raise SegmentError("BRG_ETRUNCATED", segment)
    header = _pread_full(fd, DATA_OFFSET, 0, segment)
    lay = _parse_header(header, segment)
    if st.st_size != lay.file_bytes:
        # A trailer at the end of the object that does not agree with the header means the
        # header, not the size, was changed (its checksum, or its fields, say how); one that
        # agrees, that pages were cut or added.
        if st.st_size >= 2 * PAGE and st.st_size % PAGE == 0:
            try:
                last = _pread_full(fd, _TRAILER_BYTES, st.st_size - PAGE, segment)
            except OSError:
                last = b""
            if last[:8] == _TRAILER_MAGIC:
                _parse_trailer(last, header, lay, segment)
        code = "BRG_ETRUNCATED" if st.st_size < lay.file_bytes else "BRG_EOVERSIZE"
        raise SegmentError(code, segment, "%d bytes, header says %d" % (st.st_size,
                                                                         lay.file_bytes))
    page = _pread_full(fd, PAGE, lay.trailer_offset, segment)
    t = _parse_trailer(page[:_TRAILER_BYTES], header, lay, segment)
    # Anyone who can write the object can rewrite it under us; allow that only when the
    # creator asked for sharing or the caller accepts foreign segments.
    if st.st_mode & 0o022 and not t["flags"] & CREATE_SHARED and not allow_other_owner:
        raise SegmentError("BRG_EEXPOSED", segment, "mode %o" % (st.st_mode & 0o7777))
    if not content:
        return lay, t, st
    if t["generation"] == 0:
        raise SegmentError("BRG_EGENERATION", segment)
    # What the format keeps zero: the trailer page after the trailer, the data's page after
    # the data (written through a mapping, it is not covered by the checksum).
    pad = lay.trailer_offset - DATA_OFFSET - lay.nbytes
    if any(page[_TRAILER_BYTES:]) or (
            pad and any(_pread_full(fd, pad, DATA_OFFSET + lay.nbytes, segment))):
        raise SegmentError("BRG_EPADDING", segment)
    return lay, t, st


def _open_validated(name, write, allow_other_owner, content=True):
    """Opens /dev/shm/NAME and validates it; returns (fd, layout, trailer, stat)."""
    path = _check_name(name)
    # O_NONBLOCK: a FIFO planted in /dev/shm must fail as BRG_ENOTREG, not block the open;
    # it changes nothing for the regular files that pass.
    flags = (_os.O_RDWR if write else _os.O_RDONLY) | _os.O_CLOEXEC | _os.O_NOFOLLOW
    fd = _os.open(path, flags | _os.O_NONBLOCK)
    try:
        lay, t, st = _validate_fd(fd, name, allow_other_owner, content)
    except BaseException:
        _os.close(fd)
        raise
    return fd, lay, t, st


def _view(mm, lay):
    """A zero-copy ndarray over the data of mapping mm.  np.frombuffer holds a buffer export
    on the mmap (through a memoryview), so mm.close() raises BufferError while any view is
    alive instead of unmapping memory under it; np.ndarray(buffer=mm) would not (numpy
    releases that export at once and keeps only a reference)."""
    flat = _np.frombuffer(mm, dtype=_NP_DTYPE[lay.dtype], count=lay.count, offset=DATA_OFFSET)
    return flat.reshape(lay.shape)


# ---- public API ---------------------------------------------------------------------------------

def open(name, write=False, allow_other_owner=False):  # noqa: A001 - mirrors brg_array_open
    """Validates the segment NAME and returns a zero-copy ndarray over its data (read-only
    unless write).  allow_other_owner accepts a segment of another uid or one writable by
    group/others (BRG_OPEN_ANY_OWNER).  Raises SegmentError (.code as brg_err_name), or
    OSError from the system (FileNotFoundError...)."""
    fd, lay, trailer, _ = _open_validated(name, write, allow_other_owner)
    try:
        if trailer["kind"] != KIND_ARRAY:
            raise SegmentError("BRG_ENOTARRAY", name)
        _check_numpy_limit(lay, name, SegmentError)
        # ACCESS_READ, not just PROT_READ: only access= makes the buffer (and so the ndarray)
        # read-only; a PROT_READ mapping with a writable buffer would crash on a store.
        mm = _mmap.mmap(fd, lay.file_bytes,
                        access=_mmap.ACCESS_WRITE if write else _mmap.ACCESS_READ)
    finally:
        _os.close(fd)  # the mapping keeps the object alive
    return _view(mm, lay)


def create(name, dtype, shape, persistent=False, mode=0o600, fill=None, *, shared=False):
    """Creates the segment NAME (zero-filled, or set to fill before it is sealed) and returns a
    writable zero-copy ndarray over it.  dtype: a brigade name ("f64", "i8" = int8) or anything
    numpy.dtype() takes that is one of the ten types.  mode: permission bits, 0 meaning 0600;
    it must include 0600, and group/other bits need shared=True.  Raises SegmentArgumentError
    (a ValueError) for bad arguments, FileExistsError when NAME exists, OSError (ENOSPC...)
    from the system; on any failure nothing is left in /dev/shm."""
    path = _check_name(name)
    code = _dtype_code(dtype)
    lay = _layout(code, _shape_tuple(shape), argument=True)
    _check_numpy_limit(lay, name, SegmentArgumentError)
    flags = (CREATE_PERSISTENT if persistent else 0) | (CREATE_SHARED if shared else 0)
    mode = int(mode) or 0o600
    if mode & ~0o777 or mode & 0o600 != 0o600 or (mode & 0o077 and not shared):
        raise SegmentArgumentError("BRG_EMODE", name, "mode %o" % mode)
    header = _header_page(lay)
    trailer = _trailer_bytes(lay, header, flags, KIND_ARRAY, _os.geteuid(), _os.getpid(),
                             _time.clock_gettime_ns(_time.CLOCK_REALTIME), 1)
    fd = _os.open(path, _os.O_RDWR | _os.O_CREAT | _os.O_EXCL | _os.O_CLOEXEC | _os.O_NOFOLLOW,
                  mode)
    done = False
    try:
        _os.fchmod(fd, mode)  # the umask may have taken bits the caller asked for
        # Reserve every page now: a full /dev/shm fails here, not with SIGBUS later.
        try:
            _os.posix_fallocate(fd, 0, lay.file_bytes)
        except OSError as e:
            if e.errno not in (_errno.EINVAL, _errno.EOPNOTSUPP):
                raise
            _os.ftruncate(fd, lay.file_bytes)
        mm = _mmap.mmap(fd, lay.file_bytes, access=_mmap.ACCESS_WRITE)
        mm[0:DATA_OFFSET] = header
        array = _view(mm, lay)
        if fill is not None:
            array[...] = fill
        t = lay.trailer_offset
        mm[t + 8:t + _TRAILER_BYTES] = trailer[8:]
        # The magic goes last: all-zero magic tells readers "still being created".  Each
        # slice store is a separate memcpy in a separate C call, so they are issued in order
        # (x86 keeps stores in order; the C side adds a release fence for weaker CPUs).
        mm[t:t + 8] = _TRAILER_MAGIC
        done = True
    finally:
        _os.close(fd)
        if not done:
            try:
                _os.unlink(path)
            except OSError:
                pass
    return array


def info(name, allow_other_owner=False):
    """Validates NAME (as brg_segment_stat does: its identity, not its content's padding) and
    returns its trailer fields without mapping the data:
    name, kind, dtype (numpy), dtype_name ("f64"), dtype_code, shape, ndim, nbytes,
    file_bytes, flags, persistent, shared, mode, creator_uid, creator_pid, creator_alive,
    created_ns, generation."""
    fd, lay, t, st = _open_validated(name, False, allow_other_owner, content=False)
    _os.close(fd)
    return {
        "name": name,
        "kind": t["kind"],
        "dtype": _NP_DTYPE[lay.dtype],
        "dtype_name": DTYPES[lay.dtype][0],
        "dtype_code": lay.dtype,
        "shape": lay.shape,
        "ndim": len(lay.shape),
        "nbytes": lay.nbytes,
        "file_bytes": lay.file_bytes,
        "flags": t["flags"],
        "persistent": bool(t["flags"] & CREATE_PERSISTENT),
        "shared": bool(t["flags"] & CREATE_SHARED),
        "mode": st.st_mode & 0o7777,
        "creator_uid": t["creator_uid"],
        "creator_pid": t["creator_pid"],
        "creator_alive": _pid_alive(t["creator_pid"], t["created_ns"]),
        "created_ns": t["created_ns"],
        "generation": t["generation"],
    }


def unlink(name):
    """Removes NAME after checking it is a brigade segment (of any owner, as
    brg_segment_unlink does); mappings stay valid.  Never removes a non-brigade file: raises
    SegmentError for one, FileNotFoundError when NAME is missing."""
    fd, _, _, _ = _open_validated(name, False, True, content=False)
    _os.close(fd)
    _os.unlink(SHM_DIR + "/" + name)


def list(allow_other_owner=False):  # noqa: A001 - mirrors brg_segment_foreach
    """Names of the valid brigade segments in /dev/shm, in name order; others are skipped."""
    names = []
    for entry in sorted(_os.listdir(SHM_DIR)):
        if not _NAME_RE.fullmatch(entry) or entry in (".", ".."):
            continue
        try:
            _open_validated_close(entry, allow_other_owner)
        except OSError:
            continue
        names.append(entry)
    return names


def _open_validated_close(name, allow_other_owner):
    fd, _, _, _ = _open_validated(name, False, allow_other_owner, content=False)
    _os.close(fd)


# ---- whether a creator still runs (engine/segment/proc.c) -----------------------------------------------

def _start_time_s(pid):
    """Start of pid in seconds since the epoch, from /proc; 0 when it cannot be read."""
    try:
        with _io.open("/proc/%d/stat" % pid, "rb") as f:
            buf = f.read(1023)
        with _io.open("/proc/stat", "rb") as f:
            btime = 0
            for line in f:
                if line.startswith(b"btime "):
                    btime = int(line.split()[1])
                    break
        hz = _os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return 0
    # The command name may hold spaces and parentheses: fields resume after the last ')'.
    p = buf.rfind(b")")
    fields = buf[p + 1:].split(b" ") if p >= 0 else []
    if len(fields) <= 20 or not btime or hz <= 0:
        return 0
    digits = _re.match(rb"\d+", fields[20])  # field 22, starttime in clock ticks
    if not digits:
        return 0
    return btime + int(digits.group()) // hz


def _pid_alive(pid, created_ns):
    if pid <= 0:
        return False
    try:
        _os.kill(pid, 0)
    except PermissionError:
        pass
    except OSError:
        return False
    # A recycled pid belongs to a process that started after the segment was made; btime has
    # one-second resolution, hence the slack.
    started = _start_time_s(pid)
    return not (started and started > created_ns // 1000000000 + 2)
