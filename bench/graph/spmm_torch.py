"""PyTorch baseline for bench_spmm: torch.sparse.mm on the graph the C++ bench wrote.

Usage: spmm_torch.py PREFIX NODES FEATURES REPS THREADS
Reads PREFIX.rows (int64, nodes + 1 offsets), PREFIX.cols (int32) and PREFIX.vals (float32), the
CSR arrays of the normalised adjacency, and prints "torch VERSION csr_ms C coo_ms O threads N":
median milliseconds of Y = A X with A as a CSR and as a COO tensor, X (nodes, features) float32.
"""
import statistics
import sys
import time
import warnings

import numpy as np
import torch


def median_ms(f, reps):
    f()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main():
    prefix, nodes, features, reps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(
        sys.argv[5])
    torch.set_num_threads(threads)
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
    rows = torch.from_numpy(np.fromfile(prefix + ".rows", dtype=np.int64))
    cols = torch.from_numpy(np.fromfile(prefix + ".cols", dtype=np.int32).astype(np.int64))
    vals = torch.from_numpy(np.fromfile(prefix + ".vals", dtype=np.float32))
    assert rows.numel() == nodes + 1 and cols.numel() == vals.numel() == int(rows[-1])
    csr = torch.sparse_csr_tensor(rows, cols, vals, size=(nodes, nodes))
    coo = csr.to_sparse_coo().coalesce() if hasattr(csr, "to_sparse_coo") else csr.to_sparse()
    x = torch.randn(nodes, features)
    with torch.no_grad():
        csr_ms = median_ms(lambda: torch.sparse.mm(csr, x), reps)
        coo_ms = median_ms(lambda: torch.sparse.mm(coo, x), reps)
    print(f"torch {torch.__version__} csr_ms {csr_ms:.6f} coo_ms {coo_ms:.6f} threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
