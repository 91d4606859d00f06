#!/usr/bin/env python3
"""Draws robuststate's figure from its per-step CSV: the device fidelity during fine-tuning, mean
over targets and seeds, for each circuit size, RobustState (trained on the device's outputs) and
the noise-model baseline (trained on the calibrated noise model's outputs).

  python3 examples/robuststate/plot.py robuststate_out/robuststate_curves.csv   # writes robuststate.png beside it
"""
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e")


def main():
    args = plotting.parse_args(__doc__, "robuststate_curves.csv", "robuststate.png")
    plt = plotting.pyplot()
    columns = {"RobustState": "robuststate", "noise model": "noise_model"}
    rows = plotting.read_rows(args.csv, ["qubits", "step", *columns.values()])

    values = defaultdict(list)  # by (qubits, method, step); an empty cell is a curve that ended earlier
    for r in rows:
        for label, column in columns.items():
            if r[column] != "":
                key = (int(plotting.number(r, "qubits", args.csv)), label, int(plotting.number(r, "step", args.csv)))
                values[key].append(plotting.number(r, column, args.csv))

    fig, ax = plt.subplots(figsize=(9, 5))
    curves = sorted({(n, label) for n, label, _ in values}, key=lambda c: (c[0], list(columns).index(c[1])))
    for (n, label), color in zip(curves, COLORS * len(curves)):
        steps = sorted(s for m, lab, s in values if (m, lab) == (n, label))
        mean = [sum(values[n, label, s]) / len(values[n, label, s]) for s in steps]
        ax.plot(steps, mean, color=color, linestyle="-" if label == "RobustState" else "--", label=f"{n}q {label}")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    plotting.finish(fig, ax, "RobustState on the stand-in device", "fine-tuning step", "device fidelity", args.out)


if __name__ == "__main__":
    main()
