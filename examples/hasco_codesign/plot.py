#!/usr/bin/env python3
"""Draws hasco_codesign's figure from its CSV, one row per network: latency against power (every
hardware point of the exhaustive enumeration, the true front, and seed 1's fronts of co-design,
separate design, random search and NSGA-II), latency against area (the same designs), and the
hypervolume regret against the true front after each evaluation (median over seeds).

  python3 examples/hasco_codesign/plot.py hasco_out/hasco_codesign.csv   # writes hasco_codesign.png beside it
"""
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402

STYLE = {"hasco-mobo": ("#d62728", "o", "co-design (MOBO)"), "separate": ("#1f77b4", "s", "separate design"),
         "random": ("#7f7f7f", "^", "random search"), "nsga2": ("#2ca02c", "D", "NSGA-II")}


def main():
    args = plotting.parse_args(__doc__, "hasco_codesign.csv", "hasco_codesign.png")
    plt = plotting.pyplot()
    columns = ["network", "method", "seed", "evaluation", "latency_s", "power_w", "area_mm2", "feasible", "on_front",
               "regret"]
    rows = plotting.read_rows(args.csv, columns)
    networks = sorted({r["network"] for r in rows}, key=lambda n: (n != "resnet50", n))
    fig, axes = plt.subplots(len(networks), 3, figsize=(17, 5 * len(networks)), squeeze=False)
    for row, network in zip(axes, networks):
        mine = [r for r in rows if r["network"] == network]

        def values(r):
            return (1e3 * plotting.number(r, "latency_s", args.csv), plotting.number(r, "power_w", args.csv),
                    plotting.number(r, "area_mm2", args.csv))

        truth = [values(r) for r in mine if r["method"] == "exhaustive"]
        truth_front = sorted(values(r) for r in mine if r["method"] == "exhaustive" and r["on_front"] == "1")
        for ax, j, label in ((row[0], 1, "power (W)"), (row[1], 2, "area (mm²)")):
            ax.scatter([t[0] for t in truth], [t[j] for t in truth], s=6, color="#d0d0d0", label="all 1,728 designs")
            ax.plot([t[0] for t in truth_front], [t[j] for t in truth_front], "k.-" if j == 1 else "k.", lw=1,
                    label="true front (latency, power)")
            for method, (color, marker, name) in STYLE.items():
                front = sorted(values(r) for r in mine
                               if r["method"] == method and r["seed"] == "1" and r["on_front"] == "1")
                if front:
                    ax.plot([f[0] for f in front], [f[j] for f in front], marker=marker, color=color,
                            linestyle="--" if j == 1 else "none", lw=1, fillstyle="none", label=name + ", seed 1")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{network}: latency vs {label.split()[0]}")
            ax.set_xlabel("latency (ms)")
            ax.set_ylabel(label)
        traces = defaultdict(list)
        for r in mine:
            if r["regret"] and r["method"] in STYLE:
                traces[r["method"], int(plotting.number(r, "evaluation", args.csv))].append(
                    plotting.number(r, "regret", args.csv))
        for method, (color, marker, name) in STYLE.items():
            evals = sorted(e for m, e in traces if m == method)
            if evals:
                row[2].plot(evals, [max(plotting.median(traces[method, e]), 1e-4) for e in evals], color=color,
                            label=name)
        row[2].axhline(0.05, color="k", linestyle=":", lw=1, label="5 % regret")
        row[2].set_yscale("log")
        row[2].set_title(f"{network}: hypervolume regret (median over seeds)")
        row[2].set_xlabel("evaluations")
        row[2].set_ylabel("1 − HV / HV(true front)")
        for ax in row:
            ax.legend(fontsize=8)
    fig.tight_layout()
    plotting.save(fig, args.out)


if __name__ == "__main__":
    main()
