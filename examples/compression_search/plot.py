#!/usr/bin/env python3
"""Draws compression_search's figure from its CSV: test accuracy against stored bytes (left) and
against single-thread inference latency (right) for every successful evaluation of each method
(Bayesian search and random search), each method's Pareto front in that plane as a staircase, and
the dense model as a star.

  python3 examples/compression_search/plot.py compression_search_out/compression_search.csv
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402

COLOURS = {"mobo": "#1f77b4", "random": "#ff7f0e"}
LABELS = {"mobo": "Bayesian (MOBO)", "random": "random"}


def front_2d(points):
    """The points no other point beats in both cost (ascending) and accuracy (descending):
    the staircase of the best accuracy reachable at each cost."""
    front = []
    for cost, acc in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or acc > front[-1][1]:
            front.append((cost, acc))
    return front


def main():
    args = plotting.parse_args(__doc__, "compression_search.csv", "compression_search.png")
    plt = plotting.pyplot()
    rows = plotting.read_rows(args.csv, ["method", "status", "error_pct", "bytes", "latency_ms"])

    def num(row, column):
        return plotting.number(row, column, args.csv)

    ok = [r for r in rows if r["status"] == "ok"]
    dense = [r for r in ok if r["method"] == "dense"]
    methods = [m for m in ("mobo", "random") if any(r["method"] == m for r in ok)]
    if not methods:
        sys.exit(f"compression_search/plot.py: {args.csv}: no successful mobo or random evaluation")

    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    for ax, column, xlabel in ((axes[0], "bytes", "stored bytes (log scale)"),
                               (axes[1], "latency_ms", "latency, ms per 64 images (1 thread)")):
        for m in methods:
            pts = [(num(r, column), 100 - num(r, "error_pct")) for r in ok if r["method"] == m]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=22, alpha=0.45, color=COLOURS[m])
            front = front_2d(pts)
            ax.step([p[0] for p in front], [p[1] for p in front], where="post", marker="o", color=COLOURS[m],
                    label=f"{LABELS[m]}: {len(pts)} evaluations, front")
        for r in dense:
            ax.plot([num(r, column)], [100 - num(r, "error_pct")], marker="*", markersize=16, linestyle="none",
                    color="#d62728", label="dense LeNet-5")
        if column == "bytes":
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].set_title("accuracy vs storage")
    axes[1].set_title("accuracy vs latency")
    fig.suptitle("LeNet-5 / Fashion-MNIST compression search: Pareto fronts")
    plotting.legend_outside(axes[1])
    plotting.save(fig, args.out)


if __name__ == "__main__":
    main()
