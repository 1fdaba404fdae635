"""BigQuery's FARM_FINGERPRINT, vectorised with NumPy.

docs/realgraph.md §1.4: the Real Graph sample keeps a pair iff
``MOD(ABS(FARM_FINGERPRINT(CONCAT(source_id, '_', destination_id))), 100) = mod_remainder``, and §1.9 splits
train/eval by ``MOD(ABS(FARM_FINGERPRINT(CAST(source_id AS STRING))), 10) = 0``.  FARM_FINGERPRINT is FarmHash
``Fingerprint64`` (= ``farmhashna::Hash64``) read as a signed int64.  Hashing millions of pairs one call at a time in
Python is too slow at bench size, so this is the same algorithm on whole columns: every string of the column is laid out
in one byte buffer (Arrow's layout) and each 8-byte ``Fetch`` is a fancy-indexed gather.  Strings up to 64 bytes are
supported, which covers every "<int64>_<int64>" pair; ``tests/test_hashing.py`` checks it against ``pyfarmhash``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_K0 = np.uint64(0xC3A5C85C97CB3127)
_K1 = np.uint64(0xB492B66FBE98F273)
_K2 = np.uint64(0x9AE16A3B2F90404F)
_MAX_LEN = 64


def _rotate(v: np.ndarray, shift: int) -> np.ndarray:
    return (v >> np.uint64(shift)) | (v << np.uint64(64 - shift))


def _shift_mix(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> np.uint64(47))


def _hash_len16(u: np.ndarray, v: np.ndarray, mul: np.ndarray) -> np.ndarray:
    a = _shift_mix((u ^ v) * mul)
    b = _shift_mix((v ^ a) * mul)
    return b * mul


class _Bytes:
    """A column of byte strings as one padded buffer plus offsets, with vectorised little-endian fetches."""

    def __init__(self, strings: pa.Array):
        strings = pc.cast(strings, pa.large_binary())
        if strings.null_count:
            raise ValueError("cannot fingerprint null values")
        strings = strings.combine_chunks() if isinstance(strings, pa.ChunkedArray) else strings
        _, offsets_buf, data_buf = strings.buffers()
        n = len(strings)
        offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=n + 1, offset=strings.offset * 8)
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
        self.data = np.concatenate([data, np.zeros(_MAX_LEN + 8, np.uint8)])
        self.start = offsets[:-1]
        self.length = (offsets[1:] - offsets[:-1]).astype(np.int64)
        if n and self.length.max() > _MAX_LEN:
            raise ValueError(f"fingerprint64 supports strings up to {_MAX_LEN} bytes")
        # The buffer seen as an (unaligned) little-endian word starting at every byte offset: a fetch is one gather,
        # not an (n, 8) byte gather and a copy (the profile's top cost at 2.5M pairs a day).
        words = len(self.data) - 7
        self.u64 = np.ndarray((words,), "<u8", self.data, 0, (1,))
        self.u32 = np.ndarray((words,), "<u4", self.data, 0, (1,))

    def fetch(self, pos: np.ndarray, width: int = 8) -> np.ndarray:
        return (self.u64 if width == 8 else self.u32)[pos].astype(np.uint64)


def _len0to16(b: _Bytes, s: np.ndarray, n: np.ndarray) -> np.ndarray:
    out = np.full(len(s), _K2, dtype=np.uint64)
    mul = _K2 + n.astype(np.uint64) * np.uint64(2)
    big = n >= 8
    if big.any():
        ss, nn, m = s[big], n[big], mul[big]
        a = b.fetch(ss) + _K2
        bb = b.fetch(ss + nn - 8)
        c = _rotate(bb, 37) * m + a
        d = (_rotate(a, 25) + bb) * m
        out[big] = _hash_len16(c, d, m)
    mid = (n >= 4) & (n < 8)
    if mid.any():
        ss, nn, m = s[mid], n[mid], mul[mid]
        a = b.fetch(ss, 4)
        out[mid] = _hash_len16(nn.astype(np.uint64) + (a << np.uint64(3)), b.fetch(ss + nn - 4, 4), m)
    small = (n > 0) & (n < 4)
    if small.any():
        ss, nn = s[small], n[small]
        x = b.data[ss].astype(np.uint64)
        y = b.data[ss + (nn >> 1)].astype(np.uint64)
        z = b.data[ss + nn - 1].astype(np.uint64)
        yy = (x + (y << np.uint64(8))) & np.uint64(0xFFFFFFFF)
        zz = (nn.astype(np.uint64) + (z << np.uint64(2))) & np.uint64(0xFFFFFFFF)
        out[small] = _shift_mix(yy * _K2 ^ zz * _K0) * _K2
    return out


def _len17to32(b: _Bytes, s: np.ndarray, n: np.ndarray) -> np.ndarray:
    mul = _K2 + n.astype(np.uint64) * np.uint64(2)
    a = b.fetch(s) * _K1
    bb = b.fetch(s + 8)
    c = b.fetch(s + n - 8) * mul
    d = b.fetch(s + n - 16) * _K2
    return _hash_len16(_rotate(a + bb, 43) + _rotate(c, 30) + d, a + _rotate(bb + _K2, 18) + c, mul)


def _len33to64(b: _Bytes, s: np.ndarray, n: np.ndarray) -> np.ndarray:
    mul = _K2 + n.astype(np.uint64) * np.uint64(2)
    a = b.fetch(s) * _K2
    bb = b.fetch(s + 8)
    c = b.fetch(s + n - 8) * mul
    d = b.fetch(s + n - 16) * _K2
    y = _rotate(a + bb, 43) + _rotate(c, 30) + d
    z = _hash_len16(y, a + _rotate(bb + _K2, 18) + c, mul)
    e = b.fetch(s + 16) * mul
    f = b.fetch(s + 24)
    g = (y + b.fetch(s + n - 32)) * mul
    h = (z + b.fetch(s + n - 24)) * mul
    return _hash_len16(_rotate(e + f, 43) + _rotate(g, 30) + h, e + _rotate(f + a, 18) + g, mul)


def fingerprint64(strings) -> np.ndarray:
    """FarmHash Fingerprint64 of each string, as signed int64 (BigQuery's FARM_FINGERPRINT)."""
    b = _Bytes(pa.array(strings) if not isinstance(strings, (pa.Array, pa.ChunkedArray)) else strings)
    out = np.empty(len(b.start), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for lo, hi, fn in ((0, 16, _len0to16), (17, 32, _len17to32), (33, 64, _len33to64)):
            sel = (b.length >= lo) & (b.length <= hi)
            if sel.any():
                out[sel] = fn(b, b.start[sel], b.length[sel])
    return out.view(np.int64)


def _decimal(ids) -> pa.Array:
    # A ChunkedArray (what a query returns) is combined, not passed to pa.array: that converts it value by value in
    # Python (2.7 s for a 2.5M-row pair key, against 0.17 s).
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    return pc.cast(ids if isinstance(ids, pa.Array) else pa.array(ids, type=pa.int64()), pa.string())


def pair_key(*columns, sep: str = "_") -> pa.Array:
    """The string ``"<c1>_<c2>_…"`` of decimal values per row, as docs/realgraph.md §1.4 builds ``CONCAT(source_id, '_', destination_id)``."""
    return pc.binary_join_element_wise(*[_decimal(c) for c in columns], sep)


def bucket(fingerprints: np.ndarray, modulus: int) -> np.ndarray:
    """``MOD(ABS(fp), modulus)``; ABS(INT64 MIN) = 2**63 is taken exactly instead of overflowing."""
    out = np.abs(fingerprints) % modulus
    return np.where(fingerprints == np.iinfo(np.int64).min, (2**63) % modulus, out)


def pair_bucket(source_id, destination_id, modulus: int = 100) -> np.ndarray:
    """docs/realgraph.md §1.4 sampling bucket of each (source_id, destination_id) pair."""
    return bucket(fingerprint64(pair_key(source_id, destination_id)), modulus)


def user_bucket(user_id, modulus: int = 10) -> np.ndarray:
    """docs/realgraph.md §1.9 ``MOD(ABS(FARM_FINGERPRINT(CAST(source_id AS STRING))), modulus)``."""
    return bucket(fingerprint64(_decimal(user_id)), modulus)


def uniform(*columns) -> np.ndarray:
    """A deterministic U[0, 1) per row from the fingerprint of its key columns (replaces BigQuery's unseeded RAND())."""
    return uniform_of_fingerprints(fingerprint64(pair_key(*columns)))


def uniform_of_fingerprints(fingerprints: np.ndarray) -> np.ndarray:
    """The top 53 bits of each fingerprint (read as unsigned) as a double in [0, 1): SQL's ``fingerprint_uniform``."""
    return (fingerprints.view(np.uint64) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
