#!/usr/bin/env python3
"""Draws admm_lenet5's figure from its CSV: test accuracy against pruning ratio (log scale) for
ADMM and iterative magnitude pruning, medians over seeds, both starting at the dense model.

  python3 examples/admm_lenet5/plot.py admm_lenet5_out/admm_lenet5.csv   # writes admm_lenet5.png beside it
"""
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402


def main():
    args = plotting.parse_args(__doc__, "admm_lenet5.csv", "admm_lenet5.png")
    plt = plotting.pyplot()
    rows = plotting.read_rows(args.csv, ["seed", "method", "target_ratio", "ratio", "accuracy"])

    def num(row, column):
        return plotting.number(row, column, args.csv)

    dense = [num(r, "accuracy") for r in rows if r["method"] == "dense"]
    if not dense:
        sys.exit(f"admm_lenet5/plot.py: {args.csv}: no dense row")
    first_seed = min(num(r, "seed") for r in rows)
    # The example runs ADMM and magnitude pruning in pairs, one pair per --ratios target; an ADMM
    # irregular run at a target without a magnitude twin is the quantized model (--quantize-ratio),
    # which the figure leaves out. x is the achieved ratio of the first seed, y the median accuracy.
    magnitude_targets = {r["target_ratio"] for r in rows if r["method"] == "magnitude irregular"}
    series = {}
    for label, method in (("ADMM", "ADMM irregular"), ("magnitude", "magnitude irregular")):
        accuracy, ratio = defaultdict(list), {}
        for r in rows:
            if r["method"] == method and r["target_ratio"] in magnitude_targets:
                accuracy[r["target_ratio"]].append(num(r, "accuracy"))
                if num(r, "seed") == first_seed:
                    ratio[r["target_ratio"]] = num(r, "ratio")
        points = sorted((ratio[t], 100 * plotting.median(a)) for t, a in accuracy.items() if t in ratio)
        series[label] = [(1.0, 100 * plotting.median(dense))] + points

    fig, ax = plt.subplots(figsize=(9, 5))
    for (label, points), color in zip(series.items(), ("#1f77b4", "#d62728")):
        ax.plot(*zip(*points), marker="o", color=color, label=label)
    ax.set_xscale("log")
    plotting.plain_log_ticks(ax.xaxis)
    plotting.finish(fig, ax, "LeNet-5 / Fashion-MNIST: accuracy vs pruning ratio", "pruning ratio (x)", "test accuracy (%)", args.out)


if __name__ == "__main__":
    main()
