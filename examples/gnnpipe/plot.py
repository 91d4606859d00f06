#!/usr/bin/env python3
"""Draws gnnpipe's figure from its CSV: test accuracy against epoch for each schedule (exact,
layer-synchronous GNNPipe, GNNPipe with historical reads, graph parallelism), mean over seeds.

  python3 examples/gnnpipe/plot.py gnnpipe_out/gnnpipe.csv   # writes gnnpipe.png beside it
"""
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402

STYLE = {"exact": ("#1f77b4", "-"), "gnnpipe-sync": ("#2ca02c", ":"), "gnnpipe": ("#d62728", "-"),
         "graph-parallel": ("#ff7f0e", "--")}


def main():
    args = plotting.parse_args(__doc__, "gnnpipe.csv", "gnnpipe.png")
    plt = plotting.pyplot()
    rows = plotting.read_rows(args.csv, ["schedule", "seed", "epoch", "test_accuracy"])
    values = defaultdict(list)
    for r in rows:
        values[r["schedule"], int(plotting.number(r, "epoch", args.csv))].append(
            plotting.number(r, "test_accuracy", args.csv))
    fig, ax = plt.subplots(figsize=(9, 5))
    for schedule in sorted({s for s, _ in values}, key=lambda s: list(STYLE).index(s) if s in STYLE else 99):
        epochs = sorted(e for s, e in values if s == schedule)
        mean = [100 * sum(values[schedule, e]) / len(values[schedule, e]) for e in epochs]
        color, style = STYLE.get(schedule, ("#7f7f7f", "-"))
        ax.plot(epochs, mean, color=color, linestyle=style, label=schedule)
    plotting.finish(fig, ax, "Deep GCN, full-graph training by schedule", "epoch", "test accuracy (%)", args.out)


if __name__ == "__main__":
    main()
