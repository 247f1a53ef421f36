"""Small mergeable sketches over whole pyarrow arrays: 64-bit hashes, HyperLogLog, an
exact-then-approximate distinct counter and a uniform row sample.

Every operation works on a whole batch with pyarrow or numpy kernels; nothing loops
over rows in Python.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, element-wise on uint64 (wrapping arithmetic)."""
    z = x + _GOLDEN
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def hash_array(arr: pa.Array) -> np.ndarray:
    """A 64-bit hash of every non-null value of ``arr`` (uint64 numpy array).

    Numbers, temporals and booleans hash their value (``1`` and ``1.0`` differ, which
    is fine within one column); strings and binaries hash every byte and the length.
    """
    if arr.null_count:
        arr = arr.drop_null()
    kind = arr.type
    if pa.types.is_dictionary(kind):
        return hash_array(arr.dictionary.take(pc.unique(arr.indices)))
    if pa.types.is_string_view(kind) or pa.types.is_binary_view(kind):
        arr = arr.cast(pa.large_binary())
        kind = arr.type
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        return _hash_binary(arr, np.int32)
    if pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        return _hash_binary(arr, np.int64)
    if pa.types.is_floating(kind):
        values = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False)) + 0.0
        return _mix(values.view(np.uint64))
    if pa.types.is_boolean(kind):
        return _mix(np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.uint64))
    if pa.types.is_decimal(kind):
        return hash_array(arr.cast(pa.string()))
    if pa.types.is_temporal(kind) or pa.types.is_integer(kind):
        values = arr.cast(pa.int64()) if not pa.types.is_int64(kind) else arr
        return _mix(np.asarray(values.to_numpy(zero_copy_only=False)).view(np.uint64))
    return hash_array(arr.cast(pa.string()))


def _hash_binary(arr: pa.Array, offset_type: type) -> np.ndarray:
    n = len(arr)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    buffers = arr.buffers()
    offsets: np.ndarray = np.frombuffer(buffers[1], dtype=offset_type)[arr.offset : arr.offset + n + 1]
    starts = offsets[:-1].astype(np.int64)
    lengths = (offsets[1:] - offsets[:-1]).astype(np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else None
    padded = np.zeros(last - first + 8, dtype=np.uint8)
    if data is not None and last > first:
        padded[: last - first] = data[first:last]
    starts -= first
    # Every byte position viewed as the start of a little-endian 8-byte word.
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded.data, strides=(1,))
    hashes = lengths.astype(np.uint64) * _MIX1
    longest = int(lengths.max())
    for step in range(0, longest, 8):
        # one multiply-xorshift round per word over every value (values already done
        # take a zero word, masked to their length); one full mix at the end
        remaining = np.clip(lengths - step, 0, 8).astype(np.uint64)
        word = words[np.minimum(starts + step, len(words) - 1)]
        cut = np.uint64(64) - np.uint64(8) * remaining
        word = np.where(remaining > 0, (word << cut) >> cut, np.uint64(0))
        hashes = (hashes ^ word) * _MIX2
        hashes ^= hashes >> np.uint64(29)
    return _mix(hashes)


class HyperLogLog:
    """HyperLogLog with 2**precision registers over 64-bit hashes.

    The standard error is about ``1.04 / sqrt(2**precision)`` (0.8 % at 14).
    """

    def __init__(self, precision: int = 14) -> None:
        self.precision = precision
        self.registers = np.zeros(1 << precision, dtype=np.uint8)

    def add_hashes(self, hashes: np.ndarray) -> None:
        if hashes.size == 0:
            return
        p = self.precision
        index = (hashes >> np.uint64(64 - p)).astype(np.intp)
        rest = hashes & np.uint64((1 << (64 - p)) - 1)
        # rest < 2**50 converts to float64 exactly, so frexp's exponent is its bit length.
        bit_length = np.frexp(rest.astype(np.float64))[1]
        rank = ((64 - p) - bit_length + 1).astype(np.uint8)
        np.maximum.at(self.registers, index, rank)

    def merge(self, other: HyperLogLog) -> None:
        np.maximum(self.registers, other.registers, out=self.registers)

    def estimate(self) -> int:
        m = float(len(self.registers))
        alpha = 0.7213 / (1.0 + 1.079 / m)
        raw = alpha * m * m / float(np.sum(np.ldexp(1.0, -self.registers.astype(np.int64))))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and zeros:
            return round(m * math.log(m / zeros))
        return round(raw)


class DistinctCounter:
    """Exact distinct count while it stays at or under ``limit``, then HyperLogLog."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.values: pa.Array | None = None
        self.hll: HyperLogLog | None = None
        self._pending: list[pa.Array] = []
        self._pending_len = 0

    @property
    def exact(self) -> bool:
        return self.hll is None

    def add(self, arr: pa.Array, *, distinct: bool = False) -> None:
        """Add the non-null values of ``arr``; ``distinct`` says they are already unique."""
        if self.hll is not None:
            self.hll.add_hashes(hash_array(arr))
            return
        batch = arr.drop_null() if arr.null_count else arr
        if pa.types.is_dictionary(batch.type):
            batch = batch.dictionary.take(pc.unique(batch.indices))
            distinct = True
        if not distinct:
            batch = pc.unique(batch)
        if len(batch) > self.limit:
            self._overflow(batch)
            return
        # Batches' unique values are merged a few at a time, not one by one: each merge
        # deduplicates everything held so far, which is what costs.
        self._pending.append(batch)
        self._pending_len += len(batch)
        if self._pending_len > self.limit:
            self._merge()

    def _merge(self) -> None:
        if not self._pending:
            return
        parts = ([self.values] if self.values is not None else []) + self._pending
        kind = parts[0].type
        merged = pc.unique(pa.concat_arrays([p if p.type == kind else p.cast(kind) for p in parts]))
        self._pending, self._pending_len = [], 0
        if len(merged) > self.limit:
            self.values = None
            self._overflow(merged)
        else:
            self.values = merged

    @property
    def exceeded(self) -> bool:
        """More distinct values than the limit were seen (merging what is pending)."""
        if (
            self.hll is None
            and self._pending_len + (len(self.values) if self.values is not None else 0) > self.limit
        ):
            self._merge()
        return self.hll is not None

    def _overflow(self, values: pa.Array) -> None:
        self.hll = HyperLogLog()
        self.hll.add_hashes(hash_array(values))
        for held in ([self.values] if self.values is not None else []) + self._pending:
            self.hll.add_hashes(hash_array(held))
        self.values = None
        self._pending, self._pending_len = [], 0

    def count(self) -> int:
        self._merge()
        if self.hll is not None:
            return self.hll.estimate()
        return 0 if self.values is None else len(self.values)


class RowSample:
    """A uniform sample of at most ``size`` rows of a stream of record batches.

    Bottom-k sampling: every row gets a random key and the rows with the ``size``
    smallest keys are kept, so the sample is uniform whatever the batch sizes. Only the
    keys under the current threshold are ever drawn.
    """

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self._rng = np.random.default_rng(seed)
        self._threshold = 1.0
        self._parts: list[tuple[pa.RecordBatch, np.ndarray]] = []
        self._held = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if self.size <= 0 or batch.num_rows == 0:
            return
        # Rows whose key would fall under the threshold are a Bernoulli(threshold)
        # draw and their keys uniform below it: draw those directly, not n keys.
        n = batch.num_rows
        hits = int(self._rng.binomial(n, self._threshold))
        if hits == 0:
            return
        keys = self._rng.random(hits) * self._threshold
        if hits < n:
            chosen = np.sort(self._rng.choice(n, size=hits, replace=False))
            batch = batch.take(pa.array(chosen))
        self._parts.append((batch, keys))
        self._held += batch.num_rows
        if self._held >= 2 * self.size:
            self._prune()

    def _prune(self) -> None:
        table = pa.Table.from_batches([b for b, _ in self._parts])
        keys = np.concatenate([k for _, k in self._parts])
        if len(keys) > self.size:
            # in row order: a sequential take of string columns is several times faster
            keep = np.sort(np.argpartition(keys, self.size - 1)[: self.size])
            self._threshold = float(keys[keep].max())
            table = table.take(pa.array(keep))
            keys = keys[keep]
        self._parts = [(b, k) for b, k in _split(table.combine_chunks(), keys)]
        self._held = len(keys)

    def table(self, schema: pa.Schema) -> pa.Table:
        if not self._parts:
            return schema.empty_table()
        self._prune()
        return pa.Table.from_batches([b for b, _ in self._parts], schema=self._parts[0][0].schema)


def _split(table: pa.Table, keys: np.ndarray) -> list[tuple[pa.RecordBatch, np.ndarray]]:
    batches = table.to_batches()
    out = []
    start = 0
    for batch in batches:
        out.append((batch, keys[start : start + batch.num_rows]))
        start += batch.num_rows
    return out
