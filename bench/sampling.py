"""Neighbor sampling throughput: graphengine's sampler beside PyG's NeighborLoader.

The graph is R-MAT (Graph500 parameters, ``--scale`` 20 and edge factor 16 by default: 2^20
vertices, 16.8 M directed edges) with a 64-dim float32 feature per vertex. Both sides sample
the same seeds (a fixed random permutation of all vertices, ``--batch-size`` per batch) along
in-edges with fanouts ``[15, 10, 5]`` and gather the features of every sampled node into one
tensor per batch; the figures are seeds/s and sampled edges/s over ``--batches`` batches,
after ``--warmup`` batches.

- graphengine: ``sample_neighbors`` over the store, features gathered from the vertex
  column's zero-copy tensor by ``gather_rows`` into a buffer reused across batches; and the
  same sampler behind PyG's own ``NodeLoader`` (``GraphSampler``), which adds PyG's batch
  assembly (a new feature tensor per batch, as PyG's loaders make).
- PyG: ``torch_geometric.loader.NeighborLoader`` backed by torch-sparse, in a separate
  interpreter (``PYG_PYTHON``, default ``/tmp/pygcmp/bin/python``) that reads the same edges
  and seeds from ``.npy`` files; skipped with a message when that interpreter or its
  torch-sparse is missing. Rebuild it (about 11 minutes on 2 cores, see
  ``../shared/peers/README.md``)::

      python3 -m venv /tmp/pygcmp
      /tmp/pygcmp/bin/pip install torch==2.13.0 torch-geometric scipy setuptools wheel ninja
      MAX_JOBS=2 /tmp/pygcmp/bin/pip install --no-build-isolation torch-scatter==2.1.2
      MAX_JOBS=2 /tmp/pygcmp/bin/pip install --no-build-isolation torch-sparse==0.6.18

Run from the repository root::

    NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/sampling.py            # full size
    NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/sampling.py --scale 16 --batches 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

FEATURE_SEED = 1


def features(n: int, dim: int) -> np.ndarray:
    return np.random.default_rng(FEATURE_SEED).standard_normal((n, dim), dtype=np.float32)


def measure(batches, warmup: int, step) -> dict:
    """Run ``step(i)`` (returns (seeds, sampled edges, sampled nodes)) over the batches."""
    for i in range(warmup):
        step(i)
    seeds = edges = nodes = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(warmup, warmup + batches):
        s, e, n = step(i)
        seeds += s
        edges += e
        nodes += n
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": dt, "cpu_seconds": cpu, "seeds_per_s": seeds / dt,
            "edges_per_s": edges / dt, "seeds_per_cpu_s": seeds / cpu,
            "edges_per_batch": edges / batches, "nodes_per_batch": nodes / batches}


# ---------------------------------------------------------------------------- graphengine


def graphengine_side(args, src: np.ndarray, dst: np.ndarray, seeds: np.ndarray) -> dict:
    import pyarrow as pa
    import torch
    from torch_geometric.data import Data
    from torch_geometric.loader import NodeLoader

    import graphengine
    from graphengine.datasets import feature_matrix
    from graphengine.sampling import GraphSampler, gather_rows, sample_neighbors

    n = 1 << args.scale
    x = features(n, args.features)
    t0 = time.perf_counter()
    with graphengine.session() as sess:
        g = sess.g(directed=True)
        g = g.add_vertices(pa.table({
            "id": np.arange(n, dtype=np.int64),
            "feat": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), args.features)}),
            label="_")
        g = g.add_edges(pa.table({"src": src, "dst": dst}), label="_e")
    build = time.perf_counter() - t0
    del x
    with warnings.catch_warnings():  # a read-only view of the Arrow column: never written
        warnings.simplefilter("ignore", UserWarning)
        feat = torch.from_numpy(feature_matrix(g.vertex_table("_").column("feat")))
    bs, fanouts = args.batch_size, args.fanouts

    buf = [torch.empty(0, args.features)]  # reused across batches: no fresh pages to map

    def step(i):
        out = sample_neighbors(g, seeds[i * bs:(i + 1) * bs], fanouts, seed=i)
        if len(out.node) > len(buf[0]):
            buf[0] = torch.empty(2 * len(out.node), args.features)
        xb = gather_rows(feat, out.node, out=buf[0])
        return bs, len(out.edge), xb.size(0)

    direct = measure(args.batches, args.warmup, step)
    direct["build_s"] = build

    data = Data(x=feat, edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=n)
    loader = NodeLoader(data, node_sampler=GraphSampler(g, fanouts, seed=0),
                        input_nodes=torch.from_numpy(seeds), batch_size=bs)
    batches = iter(loader)

    def loader_step(i):
        b = next(batches)
        return b.batch_size, b.edge_index.size(1), b.x.size(0)

    via_pyg = measure(args.batches, args.warmup, loader_step)
    return {"direct": direct, "node_loader": via_pyg}


# ---------------------------------------------------------------------------- PyG (peer venv)


def pyg_worker(folder: str) -> None:
    """Runs in the PyG interpreter: NeighborLoader over the saved edges; prints JSON."""
    import torch
    import torch_geometric
    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader

    folder = Path(folder)
    args = json.loads((folder / "args.json").read_text())
    src, dst = np.load(folder / "src.npy"), np.load(folder / "dst.npy")
    seeds = torch.from_numpy(np.load(folder / "seeds.npy"))
    n = 1 << args["scale"]
    data = Data(x=torch.from_numpy(features(n, args["features"])),
                edge_index=torch.from_numpy(np.stack([src, dst])), num_nodes=n)
    del src, dst
    t0 = time.perf_counter()
    loader = NeighborLoader(data, num_neighbors=args["fanouts"], input_nodes=seeds,
                            batch_size=args["batch_size"], shuffle=False)
    batches = iter(loader)
    setup = time.perf_counter() - t0

    def step(i):
        b = next(batches)
        return b.batch_size, b.edge_index.size(1), b.x.size(0)

    result = measure(args["batches"], args["warmup"], step)
    result["build_s"] = setup
    result["versions"] = {"torch": torch.__version__,
                          "torch_geometric": torch_geometric.__version__}
    print(json.dumps(result))


def pyg_side(args, src, dst, seeds) -> dict | None:
    python = os.environ.get("PYG_PYTHON", "/tmp/pygcmp/bin/python")
    if not Path(python).exists():
        print(f"PyG peer skipped: no interpreter at {python} (set PYG_PYTHON; see the docstring)")
        return None
    check = subprocess.run([python, "-c", "import torch_sparse, torch_geometric"],
                           check=False, capture_output=True, text=True)
    if check.returncode != 0:
        print(f"PyG peer skipped: {python} cannot import torch_sparse / torch_geometric:"
              f" {check.stderr.strip().splitlines()[-1] if check.stderr else ''}")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "src.npy", src)
        np.save(Path(tmp) / "dst.npy", dst)
        np.save(Path(tmp) / "seeds.npy", seeds)
        (Path(tmp) / "args.json").write_text(json.dumps(vars(args)))
        run = subprocess.run([python, __file__, "--pyg-worker", tmp], check=False,
                             capture_output=True, text=True)
    if run.returncode != 0:
        print(f"PyG peer failed:\n{run.stderr[-3000:]}")
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--edge-factor", type=int, default=16)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--fanouts", type=int, nargs="+", default=[15, 10, 5])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-pyg", action="store_true", help="skip the PyG peer")
    parser.add_argument("--pyg-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pyg_worker:
        pyg_worker(args.pyg_worker)
        return

    from graphengine.datasets import rmat_edges

    worker_args = {k: v for k, v in vars(args).items() if k not in ("pyg_worker", "no_pyg")}
    args_ns = argparse.Namespace(**worker_args)
    n = 1 << args.scale
    need = (args.batches + args.warmup) * args.batch_size
    if need > n:
        parser.error(f"{args.batches + args.warmup} batches of {args.batch_size} need {need}"
                     f" seeds; the graph has {n} vertices")
    load_before = os.getloadavg()
    src, dst = rmat_edges(args.scale, args.edge_factor, seed=0)
    seeds = np.random.default_rng(2).permutation(n)[:need].astype(np.int64)
    ours = graphengine_side(args, src, dst, seeds)
    peer = None if args.no_pyg else pyg_side(args_ns, src, dst, seeds)
    load_after = os.getloadavg()

    print(f"R-MAT scale {args.scale}, edge factor {args.edge_factor}: {n:,} vertices,"
          f" {len(src):,} edges; {args.features}-dim float32 features; fanouts {args.fanouts},"
          f" batch {args.batch_size}, {args.batches} batches after {args.warmup} warm-up")
    print(f"load average before / after: {load_before[0]:.1f} / {load_after[0]:.1f}")
    rows = [("graphengine sample_neighbors + gather", ours["direct"]),
            ("graphengine GraphSampler in PyG NodeLoader", ours["node_loader"])]
    if peer is not None:
        rows.append((f"PyG NeighborLoader + torch-sparse ({peer['versions']['torch_geometric']})",
                     peer))
    print(f"{'':46} {'seeds/s':>10} {'M edges/s':>10} {'seeds/cpu-s':>12}"
          f" {'edges/batch':>12} {'nodes/batch':>12}")
    for name, r in rows:
        print(f"{name:46} {r['seeds_per_s']:>10,.0f} {r['edges_per_s'] / 1e6:>10.2f}"
              f" {r['seeds_per_cpu_s']:>12,.0f} {r['edges_per_batch']:>12,.0f}"
              f" {r['nodes_per_batch']:>12,.0f}")
    print("(seeds/cpu-s: seeds per second of CPU time of the process, all threads: the figure"
          " that other processes on shared cores change least)")
    print(f"graph build: graphengine store {ours['direct']['build_s']:.1f} s"
          + (f", PyG NeighborLoader setup (CSC) {peer['build_s']:.1f} s" if peer else ""))
    if peer is not None:
        print(f"speedup (seeds/s): {ours['direct']['seeds_per_s'] / peer['seeds_per_s']:.1f}x"
              f" direct, {ours['node_loader']['seeds_per_s'] / peer['seeds_per_s']:.1f}x through"
              f" PyG's NodeLoader")


if __name__ == "__main__":
    main()
