#!/usr/bin/env python3
"""Draws napa_vqe's figures from its CSVs: the energy error against optimiser evaluation at the
bond length nearest equilibrium (napa_vqe.png, from napa_vqe_traces.csv) and the H2 dissociation
curve with each ansatz's error (napa_vqe_curve.png, from napa_vqe_curve.csv beside it).

  python3 examples/napa_vqe/plot.py napa_vqe_out/napa_vqe_traces.csv   # writes both PNGs beside it
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "common"))
import plotting  # noqa: E402

STYLE = {
    "gate derivative-free": ("#1f77b4", "-"),
    "native derivative-free": ("#d62728", "-"),
    "gate gradient": ("#1f77b4", "--"),
    "native gradient": ("#d62728", "--"),
}


def main():
    args = plotting.parse_args(__doc__, "napa_vqe_traces.csv", "napa_vqe.png")
    plt = plotting.pyplot()
    rows = plotting.read_rows(args.csv, ["bond_angstrom", "run", "evaluation", "error_mha"])
    bonds = sorted({plotting.number(r, "bond_angstrom", args.csv) for r in rows})
    if not bonds:
        sys.exit(f"napa_vqe/plot.py: {args.csv} has no rows")
    bond = min(bonds, key=lambda b: abs(b - 0.735))
    fig, ax = plt.subplots(figsize=(9, 5))
    for run, (color, style) in STYLE.items():
        pts = [(plotting.number(r, "evaluation", args.csv), plotting.number(r, "error_mha", args.csv))
               for r in rows if r["run"] == run and plotting.number(r, "bond_angstrom", args.csv) == bond]
        if pts:
            ax.plot([p[0] for p in pts], [max(p[1], 1e-6) for p in pts], color=color, linestyle=style, label=run)
    ax.axhline(1.6, color="gray", linestyle=":", label="chemical accuracy")
    ax.set_yscale("log")
    ax.set_xscale("log")
    plotting.finish(fig, ax, f"H2 VQE at {bond} A on the simulated transmon pair", "energy evaluations",
                    "best energy error (mHa)", args.out)

    curve_csv = args.csv.parent / "napa_vqe_curve.csv"
    cols = ["bond_angstrom", "fci", "hartree_fock", "gate_error_mha", "native_error_mha", "native_grad_error_mha"]
    crow = plotting.read_rows(curve_csv, cols)
    r = [plotting.number(x, "bond_angstrom", curve_csv) for x in crow]
    fci = [plotting.number(x, "fci", curve_csv) for x in crow]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 8), sharex=True)
    top.plot(r, fci, "k-", label="FCI")
    top.plot(r, [plotting.number(x, "hartree_fock", curve_csv) for x in crow], "k:", label="Hartree-Fock")
    for col, label, (color, style) in (("gate_error_mha", "gate ansatz", STYLE["gate derivative-free"]),
                                       ("native_error_mha", "native-pulse ansatz", STYLE["native derivative-free"]),
                                       ("native_grad_error_mha", "native-pulse ansatz, gradient", STYLE["native gradient"])):
        err = [plotting.number(x, col, curve_csv) for x in crow]
        top.plot(r, [f + e / 1e3 for f, e in zip(fci, err)], color=color, linestyle=style, marker="o", label=label)
        bottom.plot(r, [max(e, 1e-6) for e in err], color=color, linestyle=style, marker="o", label=label)
    bottom.axhline(1.6, color="gray", linestyle=":", label="chemical accuracy")
    bottom.set_yscale("log")
    bottom.set_ylabel("error (mHa)")
    top.set_ylabel("energy (Ha)")
    plotting.legend_outside(top)
    top.set_title("H2 dissociation curve (STO-3G) by VQE on the simulated device")
    plotting.finish(fig, bottom, "", "bond length (A)", "error (mHa)", args.out.parent / "napa_vqe_curve.png")


if __name__ == "__main__":
    main()
