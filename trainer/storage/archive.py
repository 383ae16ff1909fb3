"""Safe .npz archives: numeric arrays plus one JSON metadata record, read without pickle.

Model files and checkpoints use this container. Reading never unpickles and never
decompresses: every member must be stored (not compressed), carry an allowed name and a
plain numeric dtype, and hold exactly the bytes its .npy header declares. So a reader
allocates at most the file's own size, and a zip bomb or a huge declared shape is refused
before any memory is taken. Every failure is a ModelFileError naming the file and the check.
"""

import hashlib
import io
import math
import struct
import zipfile
import zlib

import numpy as np

from trainer.errors import ModelFileError, first_line
from trainer.storage.files import dumps, loads

SAFE_DTYPES = frozenset(np.dtype(t) for t in ("uint8", "int64", "float32", "float64"))
MAX_HEADER_BYTES = 10_000  # an .npy header is ~128 bytes; numpy's own default limit
NPY_VERSIONS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
PICKLE_STARTS = (b"\x80", b"(d", b"(l", b"}q", b"]q")  # protocol 2+ opcode PROTO; protocols 0-1 dict/list
# what zipfile, zlib, struct and numpy's header parser raise on damaged bytes
DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    RecursionError,
)


def digest(arrays):
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def pack(arrays, meta):
    """The .npz bytes of `arrays` (name -> numeric ndarray) and `meta` as strict JSON in member 'metadata'."""
    buf = io.BytesIO()
    np.savez(buf, metadata=np.frombuffer(dumps(meta).encode("utf-8"), dtype=np.uint8), **arrays)
    return buf.getvalue()


def unpack(data, path, allowed, what, max_metadata_bytes):
    """(arrays, metadata dict) from .npz bytes, refusing anything but what `pack` writes.

    allowed: a compiled regex that member names (without .npy) must fully match.
    what: the kind of file for messages ("model file", "checkpoint").
    Raises ModelFileError saying which check failed.
    """
    _check_signature(data, path, what)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = _members(zf, len(data), path, allowed, what)
            if "metadata" not in infos:
                raise ModelFileError(f"{path}: missing member metadata; not a trainer {what}")
            if infos["metadata"].file_size > max_metadata_bytes + MAX_HEADER_BYTES:
                raise ModelFileError(
                    f"{path}: metadata is {infos['metadata'].file_size} bytes, "
                    f"more than the {max_metadata_bytes} allowed"
                )
            arrays = {name: _read_member(zf, info, path) for name, info in infos.items()}
    except ModelFileError:
        raise
    except DAMAGED as e:
        raise ModelFileError(f"{path}: truncated or damaged {what} ({first_line(e)})") from None
    return arrays, _metadata(arrays.pop("metadata"), path, max_metadata_bytes)


def _check_signature(data, path, what):
    """Refuse pickles, bare .npy files and anything that is not a zip archive, by their first bytes."""
    if data.startswith(PICKLE_STARTS):
        raise ModelFileError(
            f"{path}: is a Python pickle, not a trainer {what}; refusing to load it (unpickling can run code)"
        )
    if data.startswith(b"\x93NUMPY"):
        raise ModelFileError(f"{path}: is a single .npy array, not a trainer {what} (.npz archive)")
    if not data.startswith(b"PK"):
        raise ModelFileError(f"{path}: not a trainer {what} (not an .npz archive)")


def _members(zf, size, path, allowed, what):
    """name -> ZipInfo, after checking names, duplicates, encryption, compression and sizes."""
    infos = {}
    unknown = [
        i.filename
        for i in zf.infolist()
        if not (i.filename.endswith(".npy") and allowed.fullmatch(i.filename[:-4]))
    ]
    if unknown:
        raise ModelFileError(
            f"{path}: unexpected member(s) {', '.join(map(repr, unknown[:5]))}; not part of a trainer {what}"
        )
    for info in zf.infolist():
        name = info.filename[:-4]
        if name in infos:
            raise ModelFileError(f"{path}: member {name} appears twice")
        if info.compress_type != zipfile.ZIP_STORED:
            raise ModelFileError(
                f"{path}: member {name} is compressed; a trainer {what} stores its arrays "
                "uncompressed (a compressed member could expand without bound)"
            )
        if info.flag_bits & 0x1 or info.file_size != info.compress_size or info.file_size > size:
            raise ModelFileError(
                f"{path}: truncated or damaged {what} (member {name} declares "
                f"{info.file_size} bytes in a {size}-byte file)"
            )
        infos[name] = info
    return infos


def _read_member(zf, info, path):
    """One member's array: .npy header checked, then exactly the bytes it declares (never pickle)."""
    name = info.filename[:-4]
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in NPY_VERSIONS:
            raise ModelFileError(
                f"{path}: member {name} has .npy format version {version}; expected 1.0 or 2.0"
            )
        shape, fortran_order, dtype = NPY_VERSIONS[version](f, max_header_size=MAX_HEADER_BYTES)
        if dtype.hasobject:
            raise ModelFileError(
                f"{path}: member {name} holds a Python object array; refusing to load it "
                "(only numeric arrays are allowed: unpickling objects can run code)"
            )
        if dtype not in SAFE_DTYPES or fortran_order:
            raise ModelFileError(
                f"{path}: member {name} has dtype {dtype}{' in Fortran order' if fortran_order else ''}; "
                f"expected one of {', '.join(sorted(str(d) for d in SAFE_DTYPES))}"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if f.tell() + nbytes != info.file_size:  # before allocating: the header must match the member's size
            raise ModelFileError(
                f"{path}: member {name} declares shape {shape} ({nbytes} bytes) but holds "
                f"{info.file_size - f.tell()} bytes of data"
            )
        raw = f.read(nbytes)
        if len(raw) != nbytes or f.read(1):  # reading to the end also checks the member's CRC-32
            raise ModelFileError(f"{path}: member {name} is truncated")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _metadata(raw, path, max_bytes):
    """The metadata member as a dict: at most max_bytes of uint8 strict JSON (no NaN or Infinity)."""
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > max_bytes:
        raise ModelFileError(f"{path}: metadata must be at most {max_bytes} bytes of uint8 JSON")
    try:
        meta = loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ModelFileError(f"{path}: metadata is not valid JSON") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata is not a JSON object")
    return meta


def check_fields(meta, kinds, path):
    """Each metadata field in `kinds` (name -> type or tuple of types) is present with that type."""
    for key, kind in kinds.items():
        value = meta.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            names = " or ".join(t.__name__ for t in _tuple(kind))
            raise ModelFileError(f"{path}: metadata field '{key}' is missing or not a {names}")


def _tuple(kind):
    return kind if isinstance(kind, tuple) else (kind,)
