#!/usr/bin/env python3
"""Reference populations for frugal's pulse-level transmon simulator, computed with QuTiP.

What: for a few pulse schedules on IBM "manila"-like transmons (one transmon; a cross-resonance
gate on two coupled transmons; the same with T1/T2 noise) this script builds the rotating-frame
RWA model below independently of frugal (numpy + QuTiP), evolves the all-ground initial state to
the end of the schedule and writes, per case, the model description (as data) and the final
populations (and, for closed systems, the final state vector) to
tests/quantum/data/pulse_reference.json.

Why: frugal's C++ tests evolve the same cases and compare with these numbers within 1e-6. The
JSON is committed so the tests need no Python; regenerate it with this script whenever the model
or the cases change (it needs QuTiP, which /usr/bin/python3 has here):

  /usr/bin/python3 scripts/pulse_reference.py [OUT.json]

The model (units: angular frequencies in rad/ns, times in ns):
  * transmon i has d_i levels, lowering operator a_i, N_i = a_i^dag a_i; basis index
    little-endian, index = l_0 + d_0*(l_1 + d_1*(...)) (transmon 0 least significant);
  * H(t) = sum_i (w_i - nu_i) N_i + (delta_i/2) N_i (N_i - 1)
         + sum_couplings J (a_i^dag a_j e^{i (nu_i - nu_j) t} + h.c.)
         + sum_channels (Omega/2) (z a_q + conj(z) a_q^dag),  z = s_ch(t) e^{i (nu_ch - nu_q) t};
  * piecewise constant: sample k (length dt) is split into S substeps; on substep m the
    Hamiltonian is H at t_mid = (k + (m + 1/2)/S) dt (frame, coupling and detuning phases all at
    t_mid); s_ch = sum over pulses on ch covering k of
    f(k - start) e^{i phase} e^{i phi_ch(k)} e^{i detuning (t_mid - start dt)}, phi_ch(k) = sum of
    the channel's shift_phase instructions with time <= k;
  * envelopes (N = duration, k = 0..N-1): gaussian, drag, gaussian_square (lifted so that the
    value one sample outside the window is zero) and constant; see `envelope`;
  * open systems: collapse operators sqrt(1/T1) a_i and sqrt(2 gamma_phi) N_i with
    gamma_phi = 1/T2 - 1/(2 T1) (1/T2 when T1 = 0); Lindblad master equation.

Each case is computed twice: with QuTiP (sesolve / mesolve on every constant-Hamiltonian substep
in turn, atol 1e-14, rtol 1e-12, no renormalisation) and with a plain product of matrix
exponentials (scipy.linalg.expm of -i H h for states, of the vectorised Liouvillian for density
matrices). The two must agree within 1e-8 (max abs difference of populations and state
amplitudes) or the script fails; the QuTiP result is what is stored. Floats are written with
repr (full precision).
"""
import json
import os
import sys

import numpy as np
import scipy.linalg

DT = 0.2222222222222222

# IBM manila (qiskit FakeManila Hamiltonian), rad/ns
W0, DELTA0, OMEGAD0 = 31.179405260046938, -2.1653453348252345, 0.9537132427085399
W1, DELTA1, OMEGAD1 = 30.397253343722692, -2.169482392636701, 0.8125407307858323
J01 = 0.011845444218797994


def _transmon(w, delta, levels=3, t1=0.0, t2=0.0):
    return {"levels": levels, "frequency": w, "frame": w, "anharmonicity": delta, "t1": t1, "t2": t2}


def _play(channel, start, shape, duration, amp, sigma=None, beta=None, width=None, phase=0.0,
          detuning=0.0):
    ins = {"type": "play", "channel": channel, "start": start, "shape": shape, "duration": duration,
           "amp": amp}
    for key, value in (("sigma", sigma), ("beta", beta), ("width", width)):
        if value is not None:
            ins[key] = value
    ins["phase"] = phase
    ins["detuning"] = detuning
    return ins


def _cross_resonance(name, t1=(0.0, 0.0), t2=(0.0, 0.0)):
    return {
        "name": name,
        "substeps": 4,
        "transmons": [_transmon(W0, DELTA0, t1=t1[0], t2=t2[0]), _transmon(W1, DELTA1, t1=t1[1], t2=t2[1])],
        "couplings": [{"i": 0, "j": 1, "strength": J01}],
        "channels": [
            {"name": "d0", "transmon": 0, "strength": OMEGAD0, "frequency": W0},
            {"name": "d1", "transmon": 1, "strength": OMEGAD1, "frequency": W1},
            {"name": "u0", "transmon": 0, "strength": OMEGAD1, "frequency": W1},
        ],
        "instructions": [
            _play("d0", 0, "drag", 160, 0.15, sigma=40.0, beta=0.5),
            _play("u0", 160, "gaussian_square", 400, 0.3, sigma=32.0, width=272.0, phase=0.2),
            _play("d1", 160, "gaussian", 160, 0.07, sigma=40.0),
            _play("d0", 560, "drag", 160, 0.15, sigma=40.0, beta=0.5),
        ],
    }


CASES = [
    {
        "name": "one_transmon",
        "substeps": 1,
        "transmons": [_transmon(W0, DELTA0)],
        "couplings": [],
        "channels": [{"name": "d0", "transmon": 0, "strength": OMEGAD0, "frequency": W0}],
        "instructions": [
            _play("d0", 0, "drag", 160, 0.15, sigma=40.0, beta=0.8, phase=0.3, detuning=0.01),
            {"type": "shift_phase", "channel": "d0", "time": 160, "phase": 1.5707963267948966},
            _play("d0", 160, "gaussian", 96, 0.1, sigma=24.0),
            _play("d0", 256, "constant", 40, 0.05),
        ],
    },
    _cross_resonance("cross_resonance"),
    _cross_resonance("cross_resonance_open", t1=(2000.0, 2500.0), t2=(1500.0, 3000.0)),
]


# ---------------------------------------------------------------------------------------------
# schedule -> samples


def envelope(ins):
    """f(k), k = 0..N-1, of a play instruction (complex array)."""
    n = ins["duration"]
    k = np.arange(n, dtype=float)
    amp = ins["amp"]
    shape = ins["shape"]
    if shape == "constant":
        return np.full(n, amp, dtype=complex)
    sigma = ins["sigma"]
    if shape in ("gaussian", "drag"):
        c = n / 2.0
        g = np.exp(-((k - c) ** 2) / (2.0 * sigma ** 2))
        g0 = np.exp(-((-1.0 - c) ** 2) / (2.0 * sigma ** 2))
        f = amp * (g - g0) / (1.0 - g0) + 0j
        if shape == "drag":
            f = f + 1j * ins["beta"] * amp * g * (-(k - c) / sigma ** 2) / (1.0 - g0)
        return f
    if shape == "gaussian_square":
        w = ins["width"]
        r = (n - w) / 2.0
        g = np.ones(n)
        rise, fall = k < r, k > r + w
        g[rise] = np.exp(-((k[rise] - r) ** 2) / (2.0 * sigma ** 2))
        g[fall] = np.exp(-((k[fall] - (r + w)) ** 2) / (2.0 * sigma ** 2))
        g0 = np.exp(-((r + 1.0) ** 2) / (2.0 * sigma ** 2))
        return amp * (g - g0) / (1.0 - g0) + 0j
    raise ValueError(f"unknown shape {shape}")


def schedule_samples(case, dt=DT):
    """Number of samples K and the substep midpoints t_mid (K, S) and channel values
    s_ch(t_mid) (dict name -> complex (K, S) array)."""
    s = case["substeps"]
    end = 0
    for ins in case["instructions"]:
        end = max(end, ins["start"] + ins["duration"] if ins["type"] == "play" else ins["time"])
    t_mid = (np.arange(end)[:, None] + (np.arange(s)[None, :] + 0.5) / s) * dt
    samples = {}
    for ch in case["channels"]:
        name = ch["name"]
        phi = np.zeros(end)
        for ins in case["instructions"]:
            if ins["type"] == "shift_phase" and ins["channel"] == name:
                phi[np.arange(end) >= ins["time"]] += ins["phase"]
        v = np.zeros((end, s), dtype=complex)
        for ins in case["instructions"]:
            if ins["type"] != "play" or ins["channel"] != name:
                continue
            a, b = ins["start"], ins["start"] + ins["duration"]
            f = envelope(ins) * np.exp(1j * ins.get("phase", 0.0)) * np.exp(1j * phi[a:b])
            v[a:b, :] += f[:, None] * np.exp(1j * ins.get("detuning", 0.0) * (t_mid[a:b, :] - a * dt))
        samples[name] = v
    return end, t_mid, samples


def drive_coefficients(case, dt=DT):
    """Per transmon q the complex coefficient c_q of a_q (the a_q^dag one is conj) and per
    coupling the phase factor e^{i (nu_i - nu_j) t} of a_i^dag a_j, flattened over substeps."""
    end, t_mid, samples = schedule_samples(case, dt)
    t = t_mid.ravel()
    frames = [tr["frame"] for tr in case["transmons"]]
    drive = [np.zeros(t.size, dtype=complex) for _ in case["transmons"]]
    for ch in case["channels"]:
        q = ch["transmon"]
        z = samples[ch["name"]].ravel() * np.exp(1j * (ch["frequency"] - frames[q]) * t)
        drive[q] += 0.5 * ch["strength"] * z
    couple = [np.exp(1j * (frames[c["i"]] - frames[c["j"]]) * t) for c in case["couplings"]]
    return end, t, drive, couple


def collapse_rates(tr):
    """(relaxation rate, 2*gamma_phi) of one transmon."""
    t1, t2 = tr.get("t1", 0.0), tr.get("t2", 0.0)
    relax = 1.0 / t1 if t1 > 0 else 0.0
    gphi = (1.0 / t2 - 0.5 * relax) if t2 > 0 else 0.0
    if gphi < -1e-15:
        raise ValueError("T2 > 2 T1")
    return relax, 2.0 * max(gphi, 0.0)


def is_open(case):
    return any(tr.get("t1", 0.0) > 0 or tr.get("t2", 0.0) > 0 for tr in case["transmons"])


# ---------------------------------------------------------------------------------------------
# plain numpy: kron-built operators, product of matrix exponentials


def numpy_operators(case):
    dims = [tr["levels"] for tr in case["transmons"]]

    def embed(op, q):
        out = np.eye(1)
        for i in reversed(range(len(dims))):  # transmon n-1 most significant
            out = np.kron(out, op if i == q else np.eye(dims[i]))
        return out

    lower = [embed(np.diag(np.sqrt(np.arange(1, d, dtype=float)), 1), q) for q, d in enumerate(dims)]
    return dims, lower


def numpy_static(case, lower):
    h0 = 0.0
    for tr, a in zip(case["transmons"], lower):
        n = a.conj().T @ a
        h0 = h0 + (tr["frequency"] - tr["frame"]) * n + 0.5 * tr["anharmonicity"] * n @ (n - np.eye(len(n)))
    return h0 + 0j


def evolve_expm(case, dt=DT):
    """Final state (closed) or density matrix (open) by products of exact exponentials."""
    dims, lower = numpy_operators(case)
    dim = int(np.prod(dims))
    h0 = numpy_static(case, lower)
    end, t, drive, couple = drive_coefficients(case, dt)
    h = dt / case["substeps"]
    hops = [(lower[c["i"]].conj().T @ lower[c["j"]], c["strength"]) for c in case["couplings"]]
    eye = np.eye(dim)
    if is_open(case):
        lind = np.zeros((dim * dim, dim * dim), dtype=complex)
        for tr, a in zip(case["transmons"], lower):
            relax, deph = collapse_rates(tr)
            for rate, op in ((relax, a), (deph, a.conj().T @ a)):
                if rate > 0:
                    op = np.sqrt(rate) * op
                    ld = op.conj().T @ op
                    # column-stacked vec: vec(A X B) = (B^T kron A) vec(X)
                    lind += np.kron(op.conj(), op) - 0.5 * np.kron(eye, ld) - 0.5 * np.kron(ld.T, eye)
        rho = np.zeros((dim, dim), dtype=complex)
        rho[0, 0] = 1.0
        x = rho.ravel(order="F")
    else:
        x = np.zeros(dim, dtype=complex)
        x[0] = 1.0
    for j in range(t.size):
        hj = h0.copy()
        for q, a in enumerate(lower):
            c = drive[q][j]
            hj += c * a + np.conj(c) * a.conj().T
        for (op, js), ph in zip(hops, couple):
            hj += js * (ph[j] * op + np.conj(ph[j]) * op.conj().T)
        if is_open(case):
            gen = -1j * (np.kron(eye, hj) - np.kron(hj.T, eye)) + lind
            x = scipy.linalg.expm(gen * h) @ x
        else:
            x = scipy.linalg.expm(-1j * h * hj) @ x
    if is_open(case):
        return x.reshape(dim, dim, order="F")
    return x


# ---------------------------------------------------------------------------------------------
# QuTiP: tensor-built operators, sesolve / mesolve over each constant substep


def qutip_evolve(case, dt=DT):
    import qutip as qt

    dims = [tr["levels"] for tr in case["transmons"]]
    n = len(dims)

    def embed(op, q):
        # QuTiP's tensor puts the first factor most significant: list transmon n-1 first.
        return qt.tensor([op if i == q else qt.qeye(dims[i]) for i in reversed(range(n))])

    a = [embed(qt.destroy(d), q) for q, d in enumerate(dims)]
    num = [x.dag() * x for x in a]
    h0 = 0
    for tr, aq, nq in zip(case["transmons"], a, num):
        h0 += (tr["frequency"] - tr["frame"]) * nq + 0.5 * tr["anharmonicity"] * nq * (nq - 1)
    c_ops = []
    for tr, aq, nq in zip(case["transmons"], a, num):
        relax, deph = collapse_rates(tr)
        if relax > 0:
            c_ops.append(np.sqrt(relax) * aq)
        if deph > 0:
            c_ops.append(np.sqrt(deph) * nq)
    end, t, drive, couple = drive_coefficients(case, dt)
    h = dt / case["substeps"]
    opts = qt.Options(atol=1e-14, rtol=1e-12, nsteps=10 ** 7, normalize_output=False,
                      store_states=False, store_final_state=True)
    ground = qt.tensor([qt.basis(dims[i], 0) for i in reversed(range(n))])
    state = ground * ground.dag() if c_ops else ground
    hop = [(a[c["i"]].dag() * a[c["j"]], c["strength"]) for c in case["couplings"]]
    for j in range(t.size):
        hj = h0
        for q, aq in enumerate(a):
            c = complex(drive[q][j])
            if c != 0:
                hj = hj + c * aq + np.conj(c) * aq.dag()
        for (op, js), ph in zip(hop, couple):
            hj = hj + js * (complex(ph[j]) * op + complex(np.conj(ph[j])) * op.dag())
        if c_ops:
            state = qt.mesolve(hj, state, [0.0, h], c_ops=c_ops, options=opts).final_state
        else:
            state = qt.sesolve(hj, state, [0.0, h], options=opts).final_state
    out = state.full()
    return out if c_ops else out.ravel()


def main():
    import qutip as qt

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "quantum", "data",
                                                                  "pulse_reference.json")
    cases_out = []
    worst = 0.0
    for case in CASES:
        ref = qutip_evolve(case)
        chk = evolve_expm(case)
        record = dict(case)
        if is_open(case):
            pops = np.real(np.diag(ref))
            record["populations"] = [float(x) for x in pops]
            dev = max(np.max(np.abs(pops - np.real(np.diag(chk)))), np.max(np.abs(ref - chk)))
            extra = f"trace {np.real(np.trace(ref)):.15f}"
        else:
            pops = np.abs(ref) ** 2
            dev = max(np.max(np.abs(pops - np.abs(chk) ** 2)), np.max(np.abs(ref - chk)))
            extra = f"norm {np.linalg.norm(ref):.15f}"
            record["populations"] = [float(x) for x in pops]
            record["state_real"] = [float(x) for x in ref.real]
            record["state_imag"] = [float(x) for x in ref.imag]
        worst = max(worst, dev)
        print(f"case {case['name']} dim {ref.shape[0]} max |qutip - expm| {dev:.3e} {extra} "
              f"populations {' '.join(f'{p:.6f}' for p in pops)}")
        cases_out.append(record)
    if worst > 1e-8:
        print(f"pulse_reference.py: QuTiP and expm disagree by {worst:.3e} > 1e-8; nothing written")
        sys.exit(1)
    doc = {"generator": "scripts/pulse_reference.py", "qutip": qt.__version__, "dt": DT, "cases": cases_out}
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
