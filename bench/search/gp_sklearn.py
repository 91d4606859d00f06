#!/usr/bin/env python3
"""scikit-learn's GaussianProcessRegressor on the data bench_gp wrote, with the model frugal fits:
a constant times a Matern-5/2 kernel with one lengthscale per dimension, plus a WhiteKernel, the
outputs normalised, the same bounds as frugal's gp_options (lengthscale 1e-3..1e2, signal
standard deviation 1e-2..1e2, noise standard deviation 1e-4..1), L-BFGS-B from the initial
hyperparameters and `restarts` random ones (frugal's default: 4). Prints one line per data file:

  sklearn <version> n <rows> fit_s <median seconds> lml <log marginal likelihood> predict_s <median seconds>

fit_s: GaussianProcessRegressor.fit (hyperparameter optimisation and factorisation), median of
`reps` fits each from the initial hyperparameters; predict_s: the mean and standard deviation at
the candidate file's points in one vectorised call. Times are CPU seconds of the calling thread
(time.thread_time), as bench_gp measures its own; single-threaded when run with OMP_NUM_THREADS=1
(bench_gp does so).

  gp_sklearn.py REPS RESTARTS CANDIDATES.txt DATA.txt [DATA.txt ...]
"""
import sys
import time
import warnings


def main():
    try:
        import numpy as np
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    except ImportError as e:
        print(f"gp_sklearn.py: {e}; install python3-sklearn")
        sys.exit(77)
    warnings.simplefilter("ignore", ConvergenceWarning)
    reps, restarts = int(sys.argv[1]), int(sys.argv[2])
    candidates = np.loadtxt(sys.argv[3], ndmin=2)
    for path in sys.argv[4:]:
        data = np.loadtxt(path, ndmin=2)
        x, y = data[:, :-1], data[:, -1]
        d = x.shape[1]

        def model(seed):
            kernel = ConstantKernel(1.0, (1e-4, 1e4)) * Matern(length_scale=np.full(d, 0.3),
                                                               length_scale_bounds=(1e-3, 1e2), nu=2.5) \
                + WhiteKernel(1e-6, (1e-8, 1.0))
            return GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=restarts,
                                            random_state=seed)

        fits, lml, gp = [], None, None
        for r in range(reps):
            gp = model(r)
            start = time.thread_time()
            gp.fit(x, y)
            fits.append(time.thread_time() - start)
            lml = gp.log_marginal_likelihood_value_
        predicts = []
        for _ in range(reps):
            start = time.thread_time()
            gp.predict(candidates, return_std=True)
            predicts.append(time.thread_time() - start)
        print(f"sklearn {sklearn.__version__} n {x.shape[0]} fit_s {float(np.median(fits)):.6g} lml {lml:.6g} "
              f"predict_s {float(np.median(predicts)):.6g}", flush=True)


if __name__ == "__main__":
    main()
