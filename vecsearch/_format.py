"""The vecsearch index file format, and atomic, checksummed reading and writing.

Layout (all integers little-endian; version 2)::

    offset  size  field
    0       8     magic        b"VECSRCH\\0"
    8       4     version      uint32, FORMAT_VERSION
    12      4     n_sections   uint32
    16      8     file_size    uint64, the whole file's length (catches truncation and appends)
    24      28    reserved     zero
    52      4     header_crc   CRC-32 of bytes 0..52 and of the section table
    56      8     reserved     zero
    64      48*n  section table, one entry per section:
                    name 16s (ASCII, NUL-padded) | offset u64 | length u64 | crc32 u32 | 12 bytes zero
    ...           sections, each starting at a multiple of 64 bytes (so an mmap is SIMD-aligned)

Sections of an HNSW index (version 1): ``meta`` (UTF-8 JSON: parameters and counts),
``vectors`` float32 [count, dim], ``ids`` uint64 [count], ``levels`` int32 [count],
``deleted`` uint8 [count], ``links0`` uint32 [count, 1 + 2M], ``upper`` uint32 [...]; from
version 2, when the index has attribute columns, the sections of vecsearch/attributes/persist.py.
Version 3 is written only for ACORN-gamma graphs: their ``links0`` rows are
``1 + level0_degree`` wide (meta ``acorn_gamma``, ``acorn_m_beta``), so older readers must refuse
them; every other index is still written as version 2. Version 4 is written only for indexes
with quantized storage: sections ``codec`` (uint8, the quantizer's serialised parameters,
vecsearch/quant) and ``codes`` (uint8 [count, code_size]), meta ``storage`` and ``rerank``; a
PQ index built on disk may add a refine code (vecsearch/quant/refine.py): ``refine_codec``,
``refine_codes`` uint8 [count, m], ``refine_terms`` and ``refine_errors`` float32 [count], which
older version 4 readers skip.

Reading checks, in order: magic, version (an unknown one raises FormatVersionError naming both
versions), header CRC, that every section lies inside the file, then each section's CRC, before
any content is trusted; the native core then validates every count and link (FormatError).

Saving writes a temporary file beside the target, fsyncs it, renames it over the target and
fsyncs the directory, so a crash leaves either the old or the new file, never a mix. A leftover
temporary file of a killed writer is removed by the next save to the same path.
"""
from __future__ import annotations

import json
import mmap
import io
import os
import secrets
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

import numpy as np

from vecsearch.errors import FormatError, FormatVersionError

MAGIC = b"VECSRCH\x00"
# Version 2 added the attribute sections (vecsearch/attributes/persist.py); version 1 files,
# which have none, still load. Version 3 marks ACORN-gamma level-0 rows; a file is written with
# the lowest version that can hold it, so plain indexes stay readable by older releases.
FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
HEADER = struct.Struct("<8sIIQ28sI8s")  # 64 bytes
ENTRY = struct.Struct("<16sQQI12s")  # 48 bytes
ALIGN = 64
# Bounds that keep a corrupt header from asking for absurd work before its CRC is checked.
MAX_SECTIONS = 64
# Sections are checksummed (read and written) through buffers of this size.
READ_CHUNK = 1 << 24

assert HEADER.size == 64 and ENTRY.size == 48


@dataclass
class FileRegion:
    """A section payload that stays in another file (`nbytes` bytes at `offset` of `path`),
    checksummed and copied through a buffer: an out-of-core build's vectors, which may not fit
    in RAM and should not be mapped into the writer."""
    path: str
    offset: int
    nbytes: int

    def chunks(self) -> Iterable[memoryview]:
        with open(self.path, "rb") as f:
            short = f"{self.path}: ends before its {self.nbytes} bytes of vectors"
            yield from read_chunks(f, self.offset, self.nbytes, short)


@dataclass
class Section:
    name: str
    payload: Any  # memoryview or FileRegion

    @property
    def nbytes(self) -> int:
        return self.payload.nbytes

    def chunks(self) -> Iterable:
        return self.payload.chunks() if isinstance(self.payload, FileRegion) else (self.payload,)


def _crc(data) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def read_chunks(f: io.BufferedIOBase, offset: int, length: int, short: str) -> Iterable[memoryview]:
    """`length` bytes of `f` from `offset`, through one reused buffer of up to READ_CHUNK bytes
    (each chunk is valid until the next is read); FormatError(`short`) if the file ends first."""
    buf = bytearray(min(length, READ_CHUNK))
    f.seek(offset)
    done = 0
    while done < length:
        view = memoryview(buf)[:min(len(buf), length - done)]
        got = f.readinto(view)
        if not got:
            raise FormatError(short)
        yield view[:got]
        done += got


def _payload_crc(section: Section) -> int:
    crc = 0
    for chunk in section.chunks():
        crc = zlib.crc32(chunk, crc)
    return crc & 0xFFFFFFFF


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def encode(meta: Mapping, arrays: Mapping[str, Any], version: int = 2) -> Tuple[bytes, Iterable]:
    """Returns (header + table, iterator of payload chunks with padding) for one index file."""
    sections = [Section("meta", memoryview(json.dumps(dict(meta), sort_keys=True).encode()))]
    for name, arr in arrays.items():
        if isinstance(arr, FileRegion):
            sections.append(Section(name, arr))
            continue
        raw = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)  # bytes, empty arrays included
        sections.append(Section(name, raw.data))
    offset = _aligned(HEADER.size + ENTRY.size * len(sections))
    table = b""
    layout = []
    for s in sections:
        table += ENTRY.pack(s.name.encode("ascii"), offset, s.nbytes, _payload_crc(s), b"")
        layout.append(offset)
        offset = _aligned(offset + s.nbytes)
    file_size = offset
    head = HEADER.pack(MAGIC, version, len(sections), file_size, b"", 0, b"")
    header_crc = _crc(head[:52] + table)
    head = HEADER.pack(MAGIC, version, len(sections), file_size, b"", header_crc, b"")
    prefix = head + table
    prefix += b"\0" * (layout[0] - len(prefix)) if layout else b""

    def chunks():
        pos = len(prefix)
        for s, start in zip(sections, layout):
            if start > pos:
                yield b"\0" * (start - pos)
            yield from s.chunks()
            pos = start + s.nbytes
        if file_size > pos:
            yield b"\0" * (file_size - pos)

    return prefix, chunks()


def write_atomic(path: str, meta: Mapping, arrays: Mapping[str, Any], version: int = 2) -> None:
    """Writes an index file at `path` so that readers only ever see a complete file."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _remove_stale_temporaries(directory, base)
    tmp = os.path.join(directory, f".{base}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    prefix, chunks = encode(meta, arrays, version)
    try:
        with open(tmp, "wb") as f:
            f.write(prefix)
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(directory: str, base: str) -> None:
    """Deletes `.{base}.tmp-{pid}-*` files whose writer process no longer exists."""
    prefix = f".{base}.tmp-"
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_text = name[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and _process_alive(int(pid_text)):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def section_lengths(path: str) -> Dict[str, int]:
    """Section name -> length from a file's section table, checking only the header: enough to
    size a file before loading it (IndexFile verifies everything)."""
    with open(path, "rb") as f:
        head = f.read(HEADER.size)
        if len(head) < HEADER.size:
            raise FormatError(f"{path}: not a vecsearch index (too short for a header)")
        magic, version, n_sections, *_ = HEADER.unpack(head)
        if magic != MAGIC:
            raise FormatError(f"{path}: not a vecsearch index (bad magic bytes)")
        if not 1 <= n_sections <= MAX_SECTIONS:
            raise FormatError(f"{path}: header claims {n_sections} sections")
        table = f.read(ENTRY.size * n_sections)
        if len(table) < ENTRY.size * n_sections:
            raise FormatError(f"{path}: section table runs past the end of the file")
    lengths = {}
    for i in range(n_sections):
        raw_name, _, length, _, _ = ENTRY.unpack_from(table, i * ENTRY.size)
        lengths[raw_name.rstrip(b"\0").decode("ascii", errors="replace")] = length
    return lengths


class IndexFile:
    """A validated, memory-mapped index file: `meta` and read-only numpy views of sections."""

    def __init__(self, path: str, inspect: Optional[Mapping[str, Callable[[memoryview], None]]] = None,
                 unverified: Iterable[str] = ()):
        """Opens and verifies `path`. `inspect` maps section names to a function called on each
        chunk of that section as its checksum is computed (e.g. to check values), so a large
        section is read once, through a small buffer. Sections named in `unverified` are not
        read at all (their checksum is not checked: the caller takes that risk)."""
        self.path = os.fspath(path)
        self._inspect = dict(inspect or {})
        self._unverified = frozenset(unverified)
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < HEADER.size:
                raise FormatError(f"{self.path}: not a vecsearch index (file has {size} bytes, too short for a header)")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self.sections: Dict[str, Tuple[int, int]] = {}
            self._check(size, f)
        self.meta = self._read_meta()

    def _fail(self, what: str) -> FormatError:
        return FormatError(f"{self.path}: {what}")

    def _check(self, size: int, f: io.BufferedIOBase) -> None:
        view = memoryview(self._map)
        try:
            magic, version, n_sections, file_size, reserved1, header_crc, reserved2 = HEADER.unpack_from(view, 0)
            if magic != MAGIC:
                raise self._fail("not a vecsearch index (bad magic bytes)")
            if version not in READABLE_VERSIONS:
                raise FormatVersionError(
                    f"{self.path}: file format version {version} is not supported; "
                    f"this vecsearch reads versions {', '.join(map(str, READABLE_VERSIONS))} "
                    f"(and writes version {FORMAT_VERSION})"
                )
            self.version = version
            if file_size != size:
                raise self._fail(f"file is {size} bytes but its header says {file_size} (truncated or appended to)")
            if reserved1.strip(b"\0") or reserved2.strip(b"\0"):
                raise self._fail("reserved header bytes are not zero (the file is corrupt)")
            if not 1 <= n_sections <= MAX_SECTIONS:
                raise self._fail(f"header claims {n_sections} sections")
            table_end = HEADER.size + ENTRY.size * n_sections
            if table_end > size:
                raise self._fail("section table runs past the end of the file")
            table = view[HEADER.size:table_end]
            if _crc(bytes(view[:52]) + bytes(table)) != header_crc:
                raise self._fail("header checksum mismatch (the file is corrupt)")
            for i in range(n_sections):
                raw_name, offset, length, crc, _ = ENTRY.unpack_from(table, i * ENTRY.size)
                name = raw_name.rstrip(b"\0").decode("ascii", errors="replace")
                if offset % ALIGN or offset < table_end or offset + length > size:
                    raise self._fail(f"section {name!r} lies outside the file")
                if name in self.sections:
                    raise self._fail(f"section {name!r} appears twice")
                if name not in self._unverified and self._section_crc(f, name, offset, length) != crc:
                    raise self._fail(f"section {name!r} checksum mismatch (the file is corrupt)")
                self.sections[name] = (offset, length)
            # The alignment padding lies outside every CRC: it must be zero, so that no byte of
            # the file can change unnoticed.
            spans = sorted(self.sections.values())
            gaps = [(table_end, spans[0][0])] + [(a + n, b) for (a, n), (b, _) in zip(spans, spans[1:])]
            gaps.append((spans[-1][0] + spans[-1][1], size))
            for start, stop in gaps:
                if start > stop:
                    raise self._fail("sections overlap (the file is corrupt)")
                if start < stop and any(view[start:stop]):
                    raise self._fail(f"padding bytes {start}..{stop} are not zero (the file is corrupt)")
        finally:
            view.release()

    def _section_crc(self, f: io.BufferedIOBase, name: str, offset: int, length: int) -> int:
        # Read through a buffer rather than the mapping: touching a mapped section would make its
        # pages part of this process's resident memory, and sections (the vectors) can be larger
        # than RAM.
        inspect = self._inspect.get(name)
        crc = 0
        for chunk in read_chunks(f, offset, length, f"{self.path}: section {name!r} is cut short"):
            crc = zlib.crc32(chunk, crc)
            if inspect is not None:
                inspect(chunk)
        return crc & 0xFFFFFFFF

    def section_offset(self, name: str) -> int:
        """Where section `name` starts in the file."""
        if name not in self.sections:
            raise self._fail(f"section {name!r} is missing")
        return self.sections[name][0]

    def _read_meta(self) -> dict:
        raw = self.raw("meta")
        try:
            meta = json.loads(bytes(raw).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise self._fail(f"meta section is not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise self._fail("meta section is not a JSON object")
        return meta

    def has(self, name: str) -> bool:
        return name in self.sections

    def release(self, name: str) -> None:
        """Lets the kernel drop the pages of a section from this process (they are read again
        from the file, or the page cache, when touched) and read them one at a time rather than
        ahead, as random single-row reads want. The mapping stays valid."""
        offset, length = self.sections[name]
        page = mmap.PAGESIZE
        start = offset // page * page
        span = offset + length - start
        if span <= 0:
            return
        for advice in ("MADV_DONTNEED", "MADV_RANDOM"):
            if hasattr(mmap, advice):  # Linux and most Unixes; elsewhere a no-op
                self._map.madvise(getattr(mmap, advice), start, span)

    def release_all(self, only: Iterable[str]) -> None:
        """:meth:`release` for each of the sections named in `only` that the file has."""
        for name in only:
            if name in self.sections:
                self.release(name)

    def raw(self, name: str) -> memoryview:
        if name not in self.sections:
            raise self._fail(f"section {name!r} is missing")
        offset, length = self.sections[name]
        return memoryview(self._map)[offset:offset + length]

    def array(self, name: str, dtype) -> np.ndarray:
        """A read-only view of a section as a flat array of `dtype`."""
        raw = self.raw(name)
        itemsize = np.dtype(dtype).itemsize
        if raw.nbytes % itemsize:
            raise self._fail(f"section {name!r} length {raw.nbytes} is not a multiple of {itemsize}")
        return np.frombuffer(raw, dtype=dtype)
