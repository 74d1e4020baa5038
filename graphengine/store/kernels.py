"""Numba kernels that build and edit the compressed adjacency arrays of a fragment.

Every kernel is a counting sort or a linear scan: O(V + E) time, no Python loop per edge.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import pyarrow as pa
from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def merge_csr(n: int, indptr: np.ndarray, nbrs: np.ndarray, eids: np.ndarray,
              keys: np.ndarray, new_nbrs: np.ndarray, new_eids: np.ndarray):
    """Append entries to an existing CSR (over ``len(indptr) - 1 <= n`` rows): old entries
    first, then the new ones in input order (a stable counting sort). The edge ids come out
    in the wider of the two id types."""
    common = np.result_type(eids, new_eids)
    return _merge_csr(n, indptr, nbrs, eids.astype(common, copy=False), keys, new_nbrs,
                      new_eids.astype(common, copy=False))


@numba.njit(cache=True, nogil=True)
def _merge_csr(n, indptr, nbrs, eids, keys, new_nbrs, new_eids):
    old_n = indptr.shape[0] - 1
    counts = np.zeros(n + 1, dtype=np.int64)
    for v in range(old_n):
        counts[v + 1] = indptr[v + 1] - indptr[v]
    for k in keys:
        counts[k + 1] += 1
    for i in range(n):
        counts[i + 1] += counts[i]
    total = counts[n]
    out_nbrs = np.empty(total, dtype=np.int64)
    out_eids = np.empty(total, dtype=eids.dtype)
    cursor = counts[:-1].copy()
    for v in range(old_n):
        for j in range(indptr[v], indptr[v + 1]):
            out_nbrs[cursor[v]] = nbrs[j]
            out_eids[cursor[v]] = eids[j]
            cursor[v] += 1
    for i in range(keys.shape[0]):
        pos = cursor[keys[i]]
        out_nbrs[pos] = new_nbrs[i]
        out_eids[pos] = new_eids[i]
        cursor[keys[i]] = pos + 1
    return counts, out_nbrs, out_eids


@numba.njit(cache=True, nogil=True)
def filter_csr(indptr: np.ndarray, nbrs: np.ndarray, eids: np.ndarray, keep: np.ndarray):
    """Keep the entries whose ``keep[j]`` is true."""
    n = indptr.shape[0] - 1
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    total = 0
    for v in range(n):
        for j in range(indptr[v], indptr[v + 1]):
            if keep[j]:
                total += 1
        out_indptr[v + 1] = total
    out_nbrs = np.empty(total, dtype=np.int64)
    out_eids = np.empty(total, dtype=eids.dtype)
    pos = 0
    for j in range(nbrs.shape[0]):
        if keep[j]:
            out_nbrs[pos] = nbrs[j]
            out_eids[pos] = eids[j]
            pos += 1
    return out_indptr, out_nbrs, out_eids


@numba.njit(cache=True, nogil=True, inline="always")
def _block_of(g, starts):
    """Index of the last block whose start is <= g (binary search over a tiny array)."""
    lo, hi = 0, starts.shape[0]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if starts[mid] <= g:
            lo = mid
        else:
            hi = mid
    return lo


@numba.njit(cache=True, nogil=True)
def locate(ids: np.ndarray, starts: np.ndarray, owner: np.ndarray, base: np.ndarray):
    """Map ids to ``(owner, base + offset)`` through sorted block ``starts`` (a tiny array)."""
    n = ids.shape[0]
    out_owner = np.empty(n, dtype=np.int64)
    out_offset = np.empty(n, dtype=np.int64)
    for i in range(n):
        g = ids[i]
        lo = _block_of(g, starts)
        out_owner[i] = owner[lo]
        out_offset[i] = base[lo] + g - starts[lo]
    return out_owner, out_offset


@numba.njit(cache=True, nogil=True)
def group_by_owner(owner: np.ndarray, fnum: int) -> np.ndarray:
    """Stable permutation that orders positions by owner fragment (a counting sort)."""
    counts = np.zeros(fnum + 1, dtype=np.int64)
    for f in owner:
        counts[f + 1] += 1
    for f in range(fnum):
        counts[f + 1] += counts[f]
    perm = np.empty(owner.shape[0], dtype=np.int64)
    for i in range(owner.shape[0]):
        perm[counts[owner[i]]] = i
        counts[owner[i]] += 1
    return perm


@numba.njit(cache=True, nogil=True)
def lookup_dense(query: np.ndarray, lo: int, table: np.ndarray) -> np.ndarray:
    """``table[q - lo]`` for each query id (-1 outside the table): the dense vertex map.
    Sequential: it is called per input chunk, where thread start-up would dominate."""
    out = np.empty(query.shape[0], dtype=np.int64)
    span = table.shape[0]
    for i in range(query.shape[0]):
        k = query[i] - lo
        out[i] = table[k] if 0 <= k < span else -1
    return out


@numba.njit(cache=True, nogil=True)
def row_lookup(id_space: int, starts: np.ndarray, counts: np.ndarray, row_base: np.ndarray):
    """``row_of[gid]``: the CSR row of every global id (-1 for ids no fragment has)."""
    row_of = np.full(id_space, -1, dtype=np.int64)
    for b in range(starts.shape[0]):
        for k in range(counts[b]):
            row_of[starts[b] + k] = row_base[b] + k
    return row_of


@numba.njit(cache=True, nogil=True, parallel=True)
def _touch_pages(a: np.ndarray) -> None:
    step = 4096 // a.itemsize  # one write per 4 KiB page
    for p in numba.prange((a.shape[0] + step - 1) // step):
        a[p * step] = 0


def empty(n: int, dtype=np.int64) -> np.ndarray:
    """An array of ``n`` unspecified values in Arrow's memory pool, its pages mapped.

    The big arrays of a build come from the pool rather than from numpy: the pool hands back
    the memory a loaded file's columns just freed, and numpy's huge-page allocations can stall
    in the kernel's memory compaction (0.1-0.3 s per array seen here). Every page is touched
    once, in order and in parallel: pages first touched inside a random scatter cost about
    2.5x more (0.63 s against 0.26 s for 128 MiB on this VM).
    """
    dtype = np.dtype(dtype)
    out = np.frombuffer(pa.allocate_buffer(n * dtype.itemsize), dtype=dtype)
    _touch_pages(out)
    return out


# --- int64 arrays in chunks -------------------------------------------------------------------
# A loaded column arrives as many chunks (one per Parquet row group or CSV block). Kernels read
# them in place through their addresses, so no column is ever concatenated (a copy of the file).


class Chunks:
    """Int64 arrays that kernels read as one sequence: their addresses and the running
    ``starts`` (``starts[c]`` is the position of chunk ``c``'s first value). Holds the arrays,
    so their memory lives as long as this object."""

    def __init__(self, arrays: list[np.ndarray]):
        self.arrays = [np.ascontiguousarray(a, dtype=np.int64) for a in arrays]
        self.ptrs = np.array([a.ctypes.data for a in self.arrays], dtype=np.int64)
        self.starts = np.zeros(len(self.arrays) + 1, dtype=np.int64)
        np.cumsum([len(a) for a in self.arrays], out=self.starts[1:])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def shares(self, threads: int) -> tuple[np.ndarray, np.ndarray]:
        """Thread ``t`` takes positions ``n*t//threads .. n*(t+1)//threads`` (in order, so
        sorts stay stable): the rows ``segs[first[t]:first[t+1]]`` of ``(chunk, k0, k1)``,
        values ``k0:k1`` of a chunk."""
        n, segs, first = len(self), [], [0]
        for t in range(threads):
            i, end = n * t // threads, n * (t + 1) // threads
            c = int(np.searchsorted(self.starts, i, side="right")) - 1
            while i < end:
                stop = min(end, int(self.starts[c + 1]))
                segs.append((c, i - self.starts[c], stop - self.starts[c]))
                i, c = stop, c + 1
            first.append(len(segs))
        return np.array(first, dtype=np.int64), np.array(segs, dtype=np.int64).reshape(-1, 3)


@intrinsic
def _pointer(typingctx, address):
    """An int64 address as a pointer to int64 values (for ``numba.carray``)."""
    sig = types.CPointer(types.int64)(types.int64)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.CPointer(types.int64)))

    return sig, codegen


# LLVM names the intrinsic by pointer type: "p0" since pointers became opaque (LLVM 17, the
# Numba 0.62+ builds), "p0i8" in the typed-pointer LLVMs of older Numba releases
_PREFETCH_INTRINSIC = "llvm.prefetch.p0" if llvm_version_info[0] >= 17 else "llvm.prefetch.p0i8"


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the CPU to start loading ``array[index]`` (LLVM's prefetch; never faults).

    The CSR scatter looks up two ~4 MiB tables per edge at random, out of L2: prefetching the
    entries ``PREFETCH`` edges ahead hides most of that latency (0.086-0.101 s -> 0.070 s on a
    quiet VM, 0.30-0.44 s -> 0.09-0.11 s while the host's shared L3 is busy). Where the
    random access is an increment of a thread's own counts (bitmaps, CSC counts) it did not
    help or hurt, so only the scatter and the key counts use it."""
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False, boundscheck=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            _PREFETCH_INTRINSIC)
        # for reading (a write hint would bounce tables both threads read), keep in all
        # cache levels, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


PREFETCH = 16


@numba.njit(cache=True, nogil=True, inline="always")
def _prefetch_via(table, key, lo):
    """Prefetch ``table[key - lo]`` when it is a real entry."""
    k = key - lo
    if 0 <= k < table.shape[0]:
        _prefetch(table, k)


@numba.njit(cache=True, nogil=True, inline="always")
def _chunk(ptrs, starts, c):
    return numba.carray(_pointer(ptrs[c]), (starts[c + 1] - starts[c],))


@numba.njit(cache=True, nogil=True, parallel=True)
def _mark(ptrs: np.ndarray, starts: np.ndarray, first: np.ndarray, segs: np.ndarray, lo: int,
          span: int) -> np.ndarray:
    threads = first.shape[0] - 1
    seen = np.zeros((threads, span), dtype=np.bool_)  # one bitmap per thread: no shared lines
    for t in numba.prange(threads):
        mine = seen[t]
        for c, k0, k1 in segs[first[t]:first[t + 1]]:
            a = _chunk(ptrs, starts, c)
            for k in range(k0, k1):
                mine[a[k] - lo] = True
    out = seen[0].copy()
    for t in range(1, threads):
        out |= seen[t]
    return out


def mark_seen(values: list[np.ndarray], lo: int, span: int) -> np.ndarray:
    """A bitmap of ``span`` entries with ``seen[v - lo]`` set for every value (all values must
    be in ``[lo, lo + span)``)."""
    chunks = Chunks(values)
    return _mark(chunks.ptrs, chunks.starts, *chunks.shares(numba.get_num_threads()), lo, span)


def outer_vertices(nbrs: list[np.ndarray], inner_ranges: np.ndarray, vertex_count: int) -> np.ndarray:
    """Sorted global ids in the ``nbrs`` arrays that fall outside the inner id ranges."""
    return outer_of(mark_seen(nbrs, 0, vertex_count), inner_ranges)


def outer_of(seen: np.ndarray, inner_ranges: np.ndarray) -> np.ndarray:
    """Sorted global ids marked in ``seen`` (cleared in place) outside the inner id ranges."""
    for start, count in np.asarray(inner_ranges).reshape(-1, 2):
        seen[start:start + count] = False
    return np.flatnonzero(seen).astype(np.int64, copy=False)


# --- CSR builds ---------------------------------------------------------------------------------
# Rows are grouped in buckets of 2**BUCKET_SHIFT consecutive rows. A CSR build first counts the
# entries of every row, then scatters each entry to its bucket (a few hundred sequential write
# streams) with the row's offset in the bucket packed into the low bits of the neighbor id, then
# sorts every bucket inside its own small window (in cache, buckets in parallel). Two
# cache-friendly passes beat one random scatter over the whole array by about 2x here. Each
# thread takes a contiguous share of the input and writes to its own slots of every bucket
# (per-thread row counts give the offsets), so the sort is stable. Counts are int32: one call
# places fewer than 2**31 entries. 2048-row buckets (316 here for R-MAT 20 in 4 fragments, ~400
# KiB of entries each) beat 4096-row ones by 5-8% of the whole load (the CSC's scatter 0.037-0.042
# -> 0.027 s, the sorts 0.057 -> 0.053 s); 1024 rows was slower again.
BUCKET_SHIFT = 11
_LOW = (1 << BUCKET_SHIFT) - 1
MAX_ENTRIES = (1 << 31) - 1


class Marks(NamedTuple):
    """Flags a CSR build sets while it places the entries: ``seen[f, v]`` for every neighbor
    ``v`` of a row of fragment ``f``, whose rows are ``frag_base[f]:frag_base[f+1]`` (a
    fragment's outer vertices, with no second read of the neighbor arrays)."""

    seen: np.ndarray  # bool (fragments, vertex id space)
    frag_base: np.ndarray  # int64 (fragments + 1)


_NO_MARKS = Marks(np.zeros((0, 0), dtype=np.bool_), np.zeros(1, dtype=np.int64))


@numba.njit(cache=True, nogil=True)
def _offsets(hist: np.ndarray):
    """From per-thread row counts: the CSR ``indptr`` and each thread's first slot per bucket.

    Within a bucket, thread 0's entries come first, then thread 1's, ...: threads take
    contiguous chunks of the input in order, so the sort stays stable.
    """
    threads, rows = hist.shape
    nb = (rows + _LOW) >> BUCKET_SHIFT
    indptr = np.zeros(rows + 1, dtype=np.int64)
    per_bucket = np.zeros((threads, nb), dtype=np.int64)
    for r in range(rows):
        c = 0
        for t in range(threads):
            c += hist[t, r]
            per_bucket[t, r >> BUCKET_SHIFT] += hist[t, r]
        indptr[r + 1] = indptr[r] + c
    cursor = np.empty((threads, nb), dtype=np.int64)
    for b in range(nb):
        pos = indptr[b << BUCKET_SHIFT]
        for t in range(threads):
            cursor[t, b] = pos
            pos += per_bucket[t, b]
    return indptr, cursor


@numba.njit(cache=True, nogil=True, parallel=True)
def _sort_buckets(indptr: np.ndarray, nbrs: np.ndarray, payload: np.ndarray, seen: np.ndarray,
                  frag_base: np.ndarray) -> None:
    """Second pass: order each bucket's entries by row, unpacking the neighbor ids (and moving
    ``payload`` along unless it is empty). Unless ``seen`` is empty, also sets
    ``seen[f, nbr]`` for every entry of a row of fragment ``f`` (rows ``frag_base[f]`` to
    ``frag_base[f+1]``): the marks outer vertices are found by, made while the neighbor is in
    hand (two threads may set the same flag; both write True)."""
    rows = indptr.shape[0] - 1
    nb = (rows + _LOW) >> BUCKET_SHIFT
    carry = payload.shape[0] > 0
    mark = seen.shape[0] > 0
    for b in numba.prange(nb):
        first = b << BUCKET_SHIFT
        end = min(rows, first + (1 << BUCKET_SHIFT))
        lo, hi = indptr[first], indptr[end]
        packed = nbrs[lo:hi].copy()
        pay = payload[lo:hi].copy()
        cursor = indptr[first:end].copy()
        f = _block_of(first, frag_base) if mark else 0
        whole = not mark or frag_base[f + 1] >= end  # the bucket's rows in one fragment
        for j in range(hi - lo):
            r = packed[j] & _LOW
            pos = cursor[r]
            v = packed[j] >> BUCKET_SHIFT
            nbrs[pos] = v
            if mark:
                seen[f if whole else _block_of(first + r, frag_base), v] = True
            if carry:
                payload[pos] = pay[j]
            cursor[r] = pos + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _via(table, key, lo):
    """``table[key - lo]``, ``key - lo`` itself for an empty table, -1 outside the table."""
    k = key - lo
    if table.shape[0] == 0:
        return k
    if k < 0 or k >= table.shape[0]:
        return -1
    return np.int64(table[k])


# Count passes increment per-thread tables at random. The increments go to a byte per key
# (``low``, a quarter of an int32 table's cache footprint: 1 MiB per million keys, about the
# L2 of a core here) and every 256th carries into the int32 counts, which are settled at the
# end. Census of R-MAT scale 20: 0.036-0.047 s with int32 counts, 0.018-0.034 s with bytes.


@numba.njit(cache=True, nogil=True, inline="always")
def _bump(low, counts, k):
    """Count one more ``k``: ``low[k]`` takes the increment, ``counts[k]`` each 256."""
    x = low[k]
    if x == 255:
        counts[k] += 256
        low[k] = 0
    else:
        low[k] = x + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _settle(low, counts):
    """Add the byte counts into ``counts``."""
    for k in range(counts.shape[0]):
        counts[k] += low[k]


@numba.njit(cache=True, nogil=True, parallel=True)
def _count_keys(starts, first, segs, src_ptrs, dst_ptrs, src_lo, src_span, dst_lo, dst_span,
                both):
    """Pass 1: per thread, how often every key ``k - lo`` occurs on each side (keys, not rows:
    no table lookup here); and how many keys fall outside the tables."""
    threads = first.shape[0] - 1
    src_hist = np.zeros((threads, src_span), dtype=np.int32)
    dst_hist = np.zeros((threads, dst_span if both else 0), dtype=np.int32)
    unknown = np.zeros(threads, dtype=np.int64)
    for t in numba.prange(threads):
        hs, hd = src_hist[t], dst_hist[t]
        ls = np.zeros(src_span, dtype=np.uint8)
        ld = np.zeros(hd.shape[0], dtype=np.uint8)
        for c, k0, k1 in segs[first[t]:first[t + 1]]:
            s = _chunk(src_ptrs, starts, c)
            d = _chunk(dst_ptrs, starts, c)
            for k in range(k0, k1):
                if k + PREFETCH < k1:
                    _prefetch_via(ls, s[k + PREFETCH], src_lo)
                    if both:
                        _prefetch_via(ld, d[k + PREFETCH], dst_lo)
                key = s[k] - src_lo
                if 0 <= key < src_span:
                    _bump(ls, hs, key)
                else:
                    unknown[t] += 1
                if both:
                    key = d[k] - dst_lo
                    if 0 <= key < dst_span:
                        _bump(ld, hd, key)
                    else:
                        unknown[t] += 1
        _settle(ls, hs)
        _settle(ld, hd)
    return src_hist, dst_hist, unknown.sum()


@numba.njit(cache=True, nogil=True, parallel=True)
def _census(starts, first, segs, src_ptrs, dst_ptrs, lo, span):
    """Per thread: how often each source key ``k - lo`` occurs, and which destination keys
    occur (a bitmap)."""
    threads = first.shape[0] - 1
    src_hist = np.zeros((threads, span), dtype=np.int32)
    dst_seen = np.zeros((threads, span), dtype=np.bool_)
    for t in numba.prange(threads):
        hs, seen = src_hist[t], dst_seen[t]
        low = np.zeros(span, dtype=np.uint8)
        for c, k0, k1 in segs[first[t]:first[t + 1]]:
            s = _chunk(src_ptrs, starts, c)
            d = _chunk(dst_ptrs, starts, c)
            for k in range(k0, k1):
                if k + PREFETCH < k1:
                    _prefetch(low, s[k + PREFETCH] - lo)
                _bump(low, hs, s[k] - lo)
                seen[d[k] - lo] = True
        _settle(low, hs)
    return src_hist, dst_seen


def census(src: Chunks, dst: Chunks, lo: int, span: int) -> tuple[np.ndarray, np.ndarray]:
    """For edges whose endpoint ids all lie in ``[lo, lo + span)``: the ids that occur (sorted)
    and the per-thread source-key counts, which :func:`csr_from_pairs` takes as its first pass
    (one read of the id columns does both)."""
    src_hist, dst_seen = _census(src.starts, *src.shares(numba.get_num_threads()), src.ptrs,
                                 dst.ptrs, lo, span)
    seen = dst_seen.any(axis=0) | src_hist.any(axis=0)
    return np.flatnonzero(seen).astype(np.int64, copy=False) + lo, src_hist


@numba.njit(cache=True, nogil=True)
def _add_key_counts(hist, keys, table) -> int:
    """``hist[row[k]] += keys[k]``; returns the count of keys without a row."""
    unknown = 0
    for k in range(keys.shape[0]):
        if keys[k]:
            r = _via(table, k, 0)
            if r < 0:
                unknown += keys[k]
            else:
                hist[r] += keys[k]
    return unknown


@numba.njit(cache=True, nogil=True, parallel=True)
def _key_counts_to_rows(rows, src_hist, src_row, dst_hist, dst_row):
    """Per-thread key counts to per-thread row counts (``row[key]``; the key itself for an
    empty table); and how many entries have a key that is not a vertex."""
    threads = src_hist.shape[0]
    hist = np.zeros((threads, rows), dtype=np.int32)
    unknown = np.zeros(threads, dtype=np.int64)
    for t in numba.prange(threads):
        unknown[t] = (_add_key_counts(hist[t], src_hist[t], src_row)
                      + _add_key_counts(hist[t], dst_hist[t], dst_row))
    return hist, unknown.sum()


@numba.njit(cache=True, nogil=True, parallel=True)
def _pairs_to_buckets(out_nbrs, out_payload, cursor, starts, first, segs, src_ptrs, dst_ptrs,
                      src_lo, src_row, src_gid, dst_lo, dst_row, dst_gid, payload, pay_mode,
                      both):
    """Pass 2: every entry to its bucket, packed as ``nbr << BUCKET_SHIFT | row & LOW``; the
    payload is nothing (``pay_mode`` 0), the input position (1) or ``payload[position]`` (2).
    Also counts the neighbors the tables do not know (pass 1 checked the rows)."""
    threads = first.shape[0] - 1
    unknown = np.zeros(threads, dtype=np.int64)
    for t in numba.prange(threads):
        cur = cursor[t]
        for c, k0, k1 in segs[first[t]:first[t + 1]]:
            s = _chunk(src_ptrs, starts, c)
            d = _chunk(dst_ptrs, starts, c)
            for k in range(k0, k1):
                if k + PREFETCH < k1:
                    _prefetch_via(src_row, s[k + PREFETCH], src_lo)
                    _prefetch_via(dst_gid, d[k + PREFETCH], dst_lo)
                    if both:
                        _prefetch_via(dst_row, d[k + PREFETCH], dst_lo)
                        _prefetch_via(src_gid, s[k + PREFETCH], src_lo)
                pay = 0
                if pay_mode == 1:
                    pay = starts[c] + k
                elif pay_mode == 2:
                    pay = payload[starts[c] + k]
                r = _via(src_row, s[k], src_lo)
                g = _via(dst_gid, d[k], dst_lo)
                if g < 0:
                    unknown[t] += 1
                b = r >> BUCKET_SHIFT
                pos = cur[b]
                out_nbrs[pos] = (g << BUCKET_SHIFT) | (r & _LOW)
                if pay_mode:
                    out_payload[pos] = pay
                cur[b] = pos + 1
                if both:
                    r = _via(dst_row, d[k], dst_lo)
                    b = r >> BUCKET_SHIFT
                    pos = cur[b]
                    out_nbrs[pos] = (_via(src_gid, s[k], src_lo) << BUCKET_SHIFT) | (r & _LOW)
                    if pay_mode:
                        out_payload[pos] = pay
                    cur[b] = pos + 1
    return unknown.sum()


def csr_from_pairs(rows: int, src: Chunks, dst: Chunks, src_lo: int, src_row: np.ndarray,
                   src_gid: np.ndarray, dst_lo: int, dst_row: np.ndarray, dst_gid: np.ndarray,
                   payload: np.ndarray | None, positions: bool, both: bool,
                   src_counts: np.ndarray | None = None, marks: Marks | None = None,
                   payload_dtype=np.int64):
    """CSR over ``rows`` rows from edges given as key pairs ``(src[i], dst[i])``.

    A key ``k`` of a side is mapped through that side's tables: row ``row[k - lo]`` and
    neighbor id ``gid[k - lo]`` (``k - lo`` itself for an empty table; -1 marks an unknown
    key). Edge ``i`` goes to row ``src_row(src[i])`` as neighbor ``dst_gid(dst[i])``; with
    ``both`` also to ``dst_row(dst[i])`` as ``src_gid(src[i])`` (undirected graphs). Each entry
    carries ``payload[i]``, or ``i`` with ``positions``, or nothing. Stable: a row keeps input
    order. Neighbor ids must be below 2**52 (the low bits carry the row during the sort).
    ``src_counts``: the first pass's result from :func:`census` (directed builds). ``marks``:
    flags every neighbor of every fragment's rows (see :class:`Marks`). ``payload_dtype``: the
    type of the payload array returned.

    Returns ``(indptr, nbrs, payload)``, or None when some key is unknown.
    """
    if len(src) * (2 if both else 1) > MAX_ENTRIES:
        raise ValueError(f"{len(src)} edges in one CSR build: at most {MAX_ENTRIES} entries")
    first, segs = src.shares(numba.get_num_threads())
    src_span = len(src_row) if len(src_row) else rows
    dst_span = len(dst_row) if len(dst_row) else rows
    if src_counts is not None and not both and src_counts.shape == (len(first) - 1, src_span):
        src_hist, dst_hist = src_counts, np.zeros((len(first) - 1, 0), dtype=np.int32)
    else:
        src_hist, dst_hist, unknown = _count_keys(src.starts, first, segs, src.ptrs, dst.ptrs,
                                                  src_lo, src_span, dst_lo, dst_span, both)
        if unknown:
            return None
    hist, unknown = _key_counts_to_rows(rows, src_hist, src_row, dst_hist, dst_row)
    if unknown:
        return None
    indptr, cursor = _offsets(hist)
    del src_hist, dst_hist, hist
    pay_mode = 2 if payload is not None else (1 if positions else 0)
    payload = payload if payload is not None else np.zeros(0, dtype=np.int64)
    nbrs = empty(indptr[-1])
    out_payload = empty(indptr[-1] if pay_mode else 0, payload_dtype)
    unknown = _pairs_to_buckets(nbrs, out_payload, cursor, src.starts, first, segs, src.ptrs,
                                dst.ptrs, src_lo, src_row, src_gid, dst_lo, dst_row, dst_gid,
                                payload, pay_mode, both)
    if unknown:
        return None
    _sort_buckets(indptr, nbrs, out_payload, *(marks or _NO_MARKS))
    return indptr, nbrs, out_payload


@numba.njit(cache=True, nogil=True)
def _transpose_split(indptr: np.ndarray, threads: int) -> np.ndarray:
    """Thread t takes the source rows ``split[t]:split[t+1]``, about equal shares of entries."""
    rows = indptr.shape[0] - 1
    total = indptr[rows]
    split = np.searchsorted(indptr, np.arange(threads + 1) * ((total + threads - 1) // threads))
    split[0] = 0
    split[threads] = rows
    return split


@numba.njit(cache=True, nogil=True, parallel=True)
def _transpose_counts(row_of: np.ndarray, indptr: np.ndarray, nbrs: np.ndarray,
                      split: np.ndarray) -> np.ndarray:
    threads = split.shape[0] - 1
    hist = np.zeros((threads, indptr.shape[0] - 1), dtype=np.int32)
    for t in numba.prange(threads):
        h = hist[t]
        low = np.zeros(h.shape[0], dtype=np.uint8)
        for j in range(indptr[split[t]], indptr[split[t + 1]]):
            _bump(low, h, _via(row_of, nbrs[j], 0))
        _settle(low, h)
    return hist


@numba.njit(cache=True, nogil=True, parallel=True)
def _transpose_to_buckets(out_nbrs, out_eids, cursor, row_of, row_gid, indptr, nbrs, split,
                          first_eid) -> None:
    for t in numba.prange(split.shape[0] - 1):
        cur = cursor[t]
        for src_row in range(split[t], split[t + 1]):
            src = _via(row_gid, src_row, 0) << BUCKET_SHIFT
            for j in range(indptr[src_row], indptr[src_row + 1]):
                r = _via(row_of, nbrs[j], 0)
                pos = cur[r >> BUCKET_SHIFT]
                out_nbrs[pos] = src | (r & _LOW)
                out_eids[pos] = first_eid + j
                cur[r >> BUCKET_SHIFT] = pos + 1


def transpose_csr(row_of: np.ndarray, row_gid: np.ndarray, indptr: np.ndarray,
                  nbrs: np.ndarray, first_eid: int, marks: Marks | None = None):
    """The in-edge CSC of a CSR over global vertex rows whose edge ids are ``first_eid`` plus
    the entry's position: entry (row r -> nbr) becomes (row ``row_of[nbr]`` <- ``row_gid[r]``,
    eid); rows list sources in CSR order. Empty ``row_of`` / ``row_gid`` mean rows are
    global ids. ``marks`` as in :func:`csr_from_pairs`."""
    if len(nbrs) > MAX_ENTRIES:
        raise ValueError(f"{len(nbrs)} entries in one CSR transpose: at most {MAX_ENTRIES}")
    split = _transpose_split(indptr, numba.get_num_threads())
    out_indptr, cursor = _offsets(_transpose_counts(row_of, indptr, nbrs, split))
    out_nbrs = empty(len(nbrs))
    out_eids = empty(len(nbrs), eid_dtype(first_eid + len(nbrs)))
    _transpose_to_buckets(out_nbrs, out_eids, cursor, row_of, row_gid, indptr, nbrs, split,
                          first_eid)
    _sort_buckets(out_indptr, out_nbrs, out_eids, *(marks or _NO_MARKS))
    return out_indptr, out_nbrs, out_eids


def eid_dtype(end: int):
    """The type of edge id arrays whose ids are below ``end``: int32 while they fit (half the
    memory of the two edge id arrays: 8 of 33.6 bytes per directed edge), int64 beyond."""
    return np.int32 if end <= np.iinfo(np.int32).max else np.int64


@numba.njit(cache=True, nogil=True)
def _assign_edge_ids(starts, src_ptrs, src_lo, src_row, frag_base, first_eid):
    n = starts[-1]
    fnum = frag_base.shape[0] - 1
    frag = np.empty(n, dtype=np.int64)
    counts = np.zeros(fnum, dtype=np.int64)
    for c in range(starts.shape[0] - 1):
        s = _chunk(src_ptrs, starts, c)
        for k in range(s.shape[0]):
            f = _block_of(_via(src_row, s[k], src_lo), frag_base)
            frag[starts[c] + k] = f
            counts[f] += 1
    nxt = np.empty(fnum, dtype=np.int64)
    acc = first_eid
    for f in range(fnum):
        nxt[f] = acc
        acc += counts[f]
    for i in range(n):  # the fragment array becomes the edge ids
        f = frag[i]
        frag[i] = nxt[f]
        nxt[f] += 1
    return frag, counts


def assign_edge_ids(src: Chunks, src_lo: int, src_row: np.ndarray, frag_base: np.ndarray,
                    first_eid: int):
    """Edge ids for new edges: grouped by the fragment owning the source row (fragment ``f``
    has rows ``frag_base[f]:frag_base[f+1]``), input order inside. Returns the ids and the
    number of edges per fragment; fragment f's ids start after those of fragments < f."""
    return _assign_edge_ids(src.starts, src.ptrs, src_lo, src_row, frag_base, first_eid)


@numba.njit(cache=True, nogil=True, parallel=True)
def fill_range(out: np.ndarray, first: int) -> None:
    """``out[i] = first + i`` in place."""
    for i in numba.prange(out.shape[0]):
        out[i] = first + i
