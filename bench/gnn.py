"""GNN accuracy benchmark: the papers' Planetoid settings on graphengine, mean over seeds.

    NUMBA_CACHE_DIR=.numba_cache python bench/gnn.py [--seeds 10] [--threads 1] [--runs gcn-cora,...]

Runs (graphengine.gnn.PAPER_SETTINGS, public split, row-normalized features, the model of the
best validation accuracy, ties broken by validation loss):

- ``gcn-cora``: GCN full batch (Kipf & Welling 2017: 81.5 %), line >= 80.5 %;
- ``gat-cora``: GAT full batch (Veličković et al. 2018: 83.0 %), line >= 82.0 %;
- ``gcn-citeseer``: GCN full batch (Kipf & Welling 2017: 70.3 %), line >= 69.5 %;
- ``sage-cora``: GraphSAGE (mean aggregator, fanouts [25, 10], batch 64) trained on
  mini-batches from ``graphengine.gnn.NeighborLoader``, line >= 79 %.

Seeds 0..n-1 seed the initialization, dropout and sampling. Prints one Markdown row per run:
mean and standard deviation of the test accuracy, min / max, seconds per seed, and whether the
line is met. ``--threads`` sets torch's threads (1 is the fastest on 2 shared cores: OpenMP
threads spin against each other). Skips with a message when the data are absent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

import graphengine as ge
from graphengine import datasets
from graphengine.gnn import PAPER_SETTINGS, resolve_device, train_node_classifier

ROOT = Path(__file__).resolve().parents[1]
MASKS = ("train_mask", "val_mask", "test_mask")
RUNS = {  # name: (data set, model, line, published)
    "gcn-cora": ("cora", "gcn", 0.805, 0.815),
    "gat-cora": ("cora", "gat", 0.820, 0.830),
    "gcn-citeseer": ("citeseer", "gcn", 0.695, 0.703),
    "sage-cora": ("cora", "sage", 0.790, None),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("GRAPHENGINE_PLANETOID", str(ROOT / ".." / "shared" / "planetoid"))
    parser.add_argument("--data", default=default)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", default=",".join(RUNS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not (Path(args.data) / "cora" / "nodes.csv").exists():
        print(f"skipped: Planetoid data not found at {Path(args.data).resolve()}")
        return 0
    print(f"device {resolve_device()}, torch threads {torch.get_num_threads()},"
          f" seeds 0..{args.seeds - 1}")
    print("| run | mean test acc | std | min | max | s / seed | line | published | met |")
    print("|---|---|---|---|---|---|---|---|---|")
    graphs = {}
    with ge.session() as sess:
        for run in args.runs.split(","):
            data, model, line, published = RUNS[run]
            if data not in graphs:
                graphs[data] = datasets.load_planetoid(sess, Path(args.data) / data,
                                                       normalize_features=True)
            accs, t0 = [], time.perf_counter()
            for seed in range(args.seeds):
                _, history = train_node_classifier(graphs[data], masks=MASKS, seed=seed,
                                                   progress=False, **PAPER_SETTINGS[model])
                accs.append(history.test_at_best)
            per_seed = (time.perf_counter() - t0) / args.seeds
            mean = statistics.mean(accs)
            std = statistics.stdev(accs) if len(accs) > 1 else 0.0
            pub = f"{published:.1%}" if published else "-"
            print(f"| {run} | {mean:.2%} | {std:.2%} | {min(accs):.1%} | {max(accs):.1%} |"
                  f" {per_seed:.1f} | {line:.1%} | {pub} | {'yes' if mean >= line else 'NO'} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
