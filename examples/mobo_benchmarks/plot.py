#!/usr/bin/env python3
"""Draws mobo_benchmarks' figure from its CSV: log10 of the hypervolume difference to the true
front against the number of evaluations, one panel per problem, one line per method (the median
over seeds) with the band between the lowest and highest seed.

  python3 examples/mobo_benchmarks/plot.py mobo_benchmarks_out/mobo_benchmarks.csv
"""
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402

COLOURS = {"EHVI": "#d62728", "ParEGO": "#ff7f0e", "random": "#7f7f7f", "NSGA-II": "#1f77b4"}


def main():
    args = plotting.parse_args(__doc__, "mobo_benchmarks.csv", "mobo_benchmarks.png")
    plt = plotting.pyplot()
    rows = plotting.read_rows(args.csv, ["problem", "method", "seed", "evaluations", "log10_hv_difference"])
    # curves[problem][method][evaluations] = [log gap of each seed]
    curves = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in rows:
        curves[r["problem"]][r["method"]][int(plotting.number(r, "evaluations", args.csv))].append(
            plotting.number(r, "log10_hv_difference", args.csv))
    problems = list(curves)
    fig, axes = plt.subplots(1, len(problems), figsize=(6.5 * len(problems), 4.8), squeeze=False)
    for ax, problem in zip(axes[0], problems):
        for method, by_count in curves[problem].items():
            counts = sorted(by_count)
            med = [plotting.median(by_count[k]) for k in counts]
            lo = [min(by_count[k]) for k in counts]
            hi = [max(by_count[k]) for k in counts]
            seeds = len(by_count[counts[0]])
            colour = COLOURS.get(method)
            ax.plot(counts, med, color=colour, label=f"{method} (median of {seeds})")
            ax.fill_between(counts, lo, hi, color=colour, alpha=0.15, linewidth=0)
        ax.set_title(problem)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("log10(HV_true - HV)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), bbox_to_anchor=(0.5, 1.06))
    fig.tight_layout()
    plotting.save(fig, args.out)


if __name__ == "__main__":
    main()
