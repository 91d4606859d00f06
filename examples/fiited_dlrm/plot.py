#!/usr/bin/env python3
"""Draws fiited_dlrm's figure from its CSV: the DLRM's test AUC (median of seeds) against the
embedding memory budget (log scale) for each compression method, with the full tables' AUC as a
black line across the budgets. A uniform reduction that leaves no dimension at all (0 bytes) is
left out, as in the example's table note.

  python3 examples/fiited_dlrm/plot.py fiited_dlrm_out/fiited_dlrm.csv
"""
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402

METHODS = {"adaptive": "#d62728", "row": "#1f77b4", "hashed": "#2ca02c", "uniform": "#9467bd"}


def main():
    args = plotting.parse_args(__doc__, "fiited_dlrm.csv", "fiited_dlrm.png")
    plt = plotting.pyplot()
    rows = plotting.read_rows(args.csv, ["method", "budget", "seed", "bytes", "auc"])

    def num(row, column):
        return plotting.number(row, column, args.csv)

    auc, size = defaultdict(list), defaultdict(list)  # by (method, budget)
    for r in rows:
        key = (r["method"], num(r, "budget"))
        auc[key].append(num(r, "auc"))
        size[key].append(num(r, "bytes"))
    budgets = sorted({b for m, b in auc if m in METHODS})

    fig, ax = plt.subplots(figsize=(9, 5))
    for method, color in METHODS.items():
        points = [(100 * b, plotting.median(auc[method, b])) for b in budgets
                  if (method, b) in auc and plotting.median(size[method, b]) > 0]
        if points:
            ax.plot(*zip(*points), marker="o", color=color, label=method)
    if ("full", 1.0) in auc and budgets:
        full = plotting.median(auc["full", 1.0])
        ax.plot([100 * budgets[0], 100.0], [full, full], color="black", label="full")
    ax.set_xscale("log")
    plotting.plain_log_ticks(ax.xaxis)
    plotting.finish(fig, ax, "DLRM test AUC against the embedding memory budget", "budget (% of the full tables' bytes)", "test AUC (median of seeds)", args.out)


if __name__ == "__main__":
    main()
