#!/usr/bin/env python3
"""Draws compressed_lenet5's figure from its CSV: inference speedup over the dense model against
weight sparsity, for the one-shot BCR sweep (whole network and the pruned layers' weight products,
both from the dense model's 1x at 0 %) and the ADMM-trained BCR model as single points.

  python3 examples/compressed_lenet5/plot.py compressed_lenet5_out/compressed_lenet5.csv
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402


def main():
    args = plotting.parse_args(__doc__, "compressed_lenet5.csv", "compressed_lenet5.png")
    plt = plotting.pyplot()
    rows = plotting.read_rows(args.csv, ["model", "weight_sparsity", "speedup", "pruned_products_speedup"])

    def num(row, column):
        return plotting.number(row, column, args.csv)

    sweep = sorted((100 * num(r, "weight_sparsity"), num(r, "speedup"), num(r, "pruned_products_speedup"))
                   for r in rows if r["model"] == "bcr_sweep")
    admm = [r for r in rows if r["model"] == "bcr_admm"]

    fig, ax = plt.subplots(figsize=(9, 5))
    ax.plot([0] + [s for s, _, _ in sweep], [1] + [p for _, _, p in sweep], marker="o", color="#2ca02c",
            label="pruned layers' products")
    ax.plot([0] + [s for s, _, _ in sweep], [1] + [w for _, w, _ in sweep], marker="o", color="#1f77b4",
            label="whole network")
    for r in admm:
        x = 100 * num(r, "weight_sparsity")
        ax.plot([x], [num(r, "pruned_products_speedup")], marker="s", markersize=9, linestyle="none",
                color="#d62728", label="ADMM BCR products")
        ax.plot([x], [num(r, "speedup")], marker="D", markersize=8, linestyle="none", color="#9467bd",
                label="ADMM BCR network")
    plotting.finish(fig, ax, "LeNet-5 inference (batch 64, 1 thread): BCR speedup vs sparsity", "weight sparsity (%)", "speedup over dense (x)", args.out)


if __name__ == "__main__":
    main()
