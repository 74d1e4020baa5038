"""Cora with PyG models on a graphengine graph: GCN and GAT full batch, GraphSAGE sampled.

    python examples/gnn_cora.py [--data ../shared/planetoid] [--curve sage.png]

Loads Cora's public split (Planetoid: 140 training, 500 validation, 1000 test vertices) into a
graph, trains the papers' settings (graphengine.gnn.PAPER_SETTINGS) and prints each model's
test accuracy at its best validation epoch. GraphSAGE trains on mini-batches from
graphengine.gnn.NeighborLoader; its predictions are written back as a vertex column. Runs on
CUDA when present. Skips with a message when the data are absent.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import graphengine as ge
from graphengine import datasets
from graphengine.gnn import (
    PAPER_SETTINGS,
    predict,
    resolve_device,
    train_node_classifier,
)

ROOT = Path(__file__).resolve().parents[1]
MASKS = ("train_mask", "val_mask", "test_mask")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("GRAPHENGINE_PLANETOID", str(ROOT / ".." / "shared" / "planetoid"))
    parser.add_argument("--data", default=default, help="folder holding cora/ (and citeseer/)")
    parser.add_argument("--curve", default=None, help="PNG file for GraphSAGE's curves")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    folder = Path(args.data) / "cora"
    if not (folder / "nodes.csv").exists():
        print(f"skipped: Cora not found at {folder.resolve()} (pass --data or set"
              f" $GRAPHENGINE_PLANETOID)")
        return 0
    with ge.session() as sess:
        g = datasets.load_planetoid(sess, folder, normalize_features=True)
        print(f"{g} on {resolve_device()}")
        for name, how in (("gcn", "full batch"), ("gat", "full batch"),
                          ("sage", "NeighborLoader [25, 10]")):
            t0 = time.perf_counter()
            model, history = train_node_classifier(
                g, "feat", "label", masks=MASKS, seed=args.seed, progress=False,
                curve=args.curve if name == "sage" else None, **PAPER_SETTINGS[name])
            print(f"{name.upper():5s} ({how}): test accuracy {history.test_at_best:.1%} at"
                  f" epoch {history.best_epoch} (val {history.best_val:.1%}),"
                  f" {time.perf_counter() - t0:.1f} s")
        g = predict(g, model, "feat", column="pred")
        table = g.vertex_table("_").select(["id", "label", "pred", "pred_score"])
        print("GraphSAGE predictions written back:", table.slice(0, 5).to_pylist())
        if args.curve:
            print(f"curves: {args.curve}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
