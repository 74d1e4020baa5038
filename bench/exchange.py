"""The fragments' exchange on a Ray session (``cluster/exchange.py``) against gloo's all-to-all.

    python bench/exchange.py --processes 4 --sizes 16384,131072,2097152

``--processes`` processes on this machine (spawned, one per fragment as the Ray actors are)
each do ``--iters`` all-to-alls of ``S`` bytes per pair of processes, for each size ``S``:
once through ``torch.distributed``'s gloo ``all_to_all_single`` (the peer: what the Ray
session used before its own mesh) and once through :class:`graphengine.cluster.exchange.Group`
(its transport, header included, no pickling). Prints the median seconds of an all-to-all per
process (the slowest process's median) and the ratio mesh / gloo. gloo is skipped with a
message when torch is absent.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import time


def _gloo(rank: int, n: int, port: int, size: int, iters: int, q) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=n)
    send = torch.zeros(n * size, dtype=torch.uint8)
    recv = torch.empty_like(send)
    dist.barrier()
    times = []
    for _ in range(iters + 1):
        t = time.perf_counter()
        dist.all_to_all_single(recv, send)
        times.append(time.perf_counter() - t)
    q.put(statistics.median(times[1:]))
    dist.destroy_process_group()


def _mesh(rank: int, n: int, addresses, size: int, iters: int, q, ready) -> None:
    from graphengine.cluster.exchange import _HEAD, Group, listen

    listener = listen("127.0.0.1")
    ready.put((rank, listener.getsockname()[:2]))
    addrs = addresses.get()
    group = Group.join(listener, addrs, rank, 1)
    block = bytes(size - _HEAD.size)
    times = []
    for _ in range(iters + 1):
        out = {d: [memoryview(_HEAD.pack(0, len(block), 0, 0, 0, 0)), memoryview(block)]
               for d in group.peers}
        t = time.perf_counter()
        group._all_to_all(out, {})
        times.append(time.perf_counter() - t)
    q.put(statistics.median(times[1:]))
    group.close()


def run(n: int, size: int, iters: int) -> tuple[float | None, float]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    gloo = None
    try:
        import torch.distributed  # noqa: F401
    except ImportError:
        print("gloo skipped: torch is not installed")
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        procs = [ctx.Process(target=_gloo, args=(r, n, port, size, iters, q)) for r in range(n)]
        for p in procs:
            p.start()
        gloo = max(q.get() for _ in procs)
        for p in procs:
            p.join()
    ready, addresses = ctx.Queue(), [ctx.Queue() for _ in range(n)]
    procs = [ctx.Process(target=_mesh, args=(r, n, addresses[r], size, iters, q, ready))
             for r in range(n)]
    for p in procs:
        p.start()
    addrs = dict(ready.get() for _ in procs)
    for a in addresses:
        a.put([addrs[r] for r in range(n)])
    mesh = max(q.get() for _ in procs)
    for p in procs:
        p.join()
    return gloo, mesh


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--sizes", default="16384,131072,2097152",
                    help="bytes per pair of processes, comma-separated")
    ap.add_argument("--iters", type=int, default=30)
    args = ap.parse_args()
    print("| bytes per pair | gloo all_to_all_single ms | graphengine mesh ms | mesh / gloo |")
    print("|---|---|---|---|")
    for size in (int(x) for x in args.sizes.split(",")):
        gloo, mesh = run(args.processes, size, args.iters)
        ratio = f"{mesh / gloo:.2f}" if gloo else "-"
        gloo_ms = f"{gloo * 1e3:.2f}" if gloo else "skipped"
        print(f"| {size} | {gloo_ms} | {mesh * 1e3:.2f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
