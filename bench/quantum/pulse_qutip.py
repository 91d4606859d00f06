#!/usr/bin/env python3
"""QuTiP timing of the pulse schedules in frugal's pulse reference file (the file
scripts/pulse_reference.py writes, tests/quantum/data/pulse_reference.json): the same rotating-frame
RWA transmon model and the same piecewise-constant discretisation (sample k split into `substeps`
substeps, the Hamiltonian on each one evaluated at its midpoint), read from the file's model and
instructions, not its results (the channel samples and decay rates by scripts/pulse_reference.py's
own functions, which it imports). Prints one line per case:

  qutip <version> case <name> seconds <median> max_population_error <error>

seconds: the median over REPS runs of the CPU time of the calling thread (time.thread_time) to go
from the case description to the final populations: building the operators (qutip.tensor), the
channel samples and coefficient arrays (numpy), and one sesolve (closed) or mesolve (T1/T2 given)
call over the whole schedule. Single-threaded: OMP_NUM_THREADS and the BLAS thread counts are set
to 1 before numpy and qutip are imported. max_population_error: the largest absolute difference
between the final populations and the ones stored in the file (little-endian basis order).

Method: QuTiP's route for a piecewise-constant schedule. Each drive enters as [a_q, c_q] and
[a_q^dag, conj(c_q)] and each coupling as [J a_i^dag a_j, e^{i(nu_i-nu_j)t}] plus its conjugate,
with c_q and the phases given as arrays on the substep boundaries and args
{"_step_func_coeff": True}, so QuTiP holds each value constant over its substep (a QobjEvo built
on that grid; the solver itself is asked only for t = 0 and the end, so it stores no intermediate
states). This reproduces the model exactly: with atol 1e-12, rtol 1e-10 the populations match the
stored ones to ~3e-8, so no per-substep fallback is needed. The ODE (zvode, adams) runs with
atol 1e-8, rtol 1e-6 (QuTiP's defaults) unless ATOL RTOL are given; at those tolerances the
populations are off by up to a few 1e-5 (the error accumulates over the thousands of
discontinuities); atol 1e-10, rtol 1e-8 brings every case under 1e-6. No renormalisation of the
output (normalize_output=False).

  pulse_qutip.py CASES.json REPS [ATOL RTOL]

Without qutip it prints a skip line and exits 0.
"""
import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import time  # noqa: E402


def evolve(np, qt, reference, case, dt, atol, rtol):
    """Final populations of one case (little-endian basis order)."""
    trs = case["transmons"]
    dims = [tr["levels"] for tr in trs]
    n = len(dims)

    def embed(op, q):  # tensor() puts its first factor most significant
        return qt.tensor([op if i == q else qt.qeye(dims[i]) for i in reversed(range(n))])

    a = [embed(qt.destroy(d), q) for q, d in enumerate(dims)]
    h0 = 0
    c_ops = []
    for tr, aq in zip(trs, a):
        nq = aq.dag() * aq
        h0 += (tr["frequency"] - tr["frame"]) * nq + 0.5 * tr["anharmonicity"] * nq * (nq - 1)
        relax, dephase = reference.collapse_rates(tr)
        if relax > 0:
            c_ops.append(np.sqrt(relax) * aq)
        if dephase > 0:
            c_ops.append(np.sqrt(dephase) * nq)

    # The channel samples and phases on the substep grid, as the reference script builds them.
    s = case["substeps"]
    end, _, drive, couple = reference.drive_coefficients(case, dt)

    def on_grid(x):  # value on [t_j, t_{j+1}) at index j; the last grid point repeats the last value
        return np.append(x, x[-1])

    H = [h0]
    for q, aq in enumerate(a):
        if np.any(drive[q]):
            c = on_grid(drive[q])
            H += [[aq, c], [aq.dag(), np.conj(c)]]
    for cp, phase in zip(case["couplings"], couple):
        op = cp["strength"] * a[cp["i"]].dag() * a[cp["j"]]
        ph = on_grid(phase)
        H += [[op, ph], [op.dag(), np.conj(ph)]]
    total = end * dt
    args = {"_step_func_coeff": True}
    H = qt.QobjEvo(H, args=args, tlist=np.linspace(0.0, total, end * s + 1))
    opts = qt.Options(atol=atol, rtol=rtol, nsteps=10 ** 8, normalize_output=False,
                      store_states=False, store_final_state=True)
    psi0 = qt.tensor([qt.basis(dims[i], 0) for i in reversed(range(n))])
    if c_ops:
        rho = qt.mesolve(H, psi0 * psi0.dag(), [0.0, total], c_ops=c_ops, args=args, options=opts).final_state
        return np.real(rho.diag())
    psi = qt.sesolve(H, psi0, [0.0, total], args=args, options=opts).final_state
    return np.abs(psi.full().ravel()) ** 2


def main():
    if len(sys.argv) not in (3, 5):
        print(__doc__)
        sys.exit(2)
    try:
        import numpy as np
        import qutip as qt
        # The model's samples and rates come from the script that made the reference file.
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
        import pulse_reference as reference
    except ImportError as e:
        print(f"qutip skip: {e} (run with a python that has qutip, e.g. /usr/bin/python3)")
        sys.exit(0)
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    reps = int(sys.argv[2])
    atol, rtol = (float(sys.argv[3]), float(sys.argv[4])) if len(sys.argv) == 5 else (1e-8, 1e-6)
    for case in doc["cases"]:
        times, pops = [], None
        for _ in range(reps):
            start = time.thread_time()
            pops = evolve(np, qt, reference, case, doc["dt"], atol, rtol)
            times.append(time.thread_time() - start)
        err = float(np.max(np.abs(pops - np.asarray(case["populations"]))))
        print(f"qutip {qt.__version__} case {case['name']} seconds {float(np.median(times)):.6g} "
              f"max_population_error {err:.3e}", flush=True)


if __name__ == "__main__":
    main()
