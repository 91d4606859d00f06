"""PyTorch baseline for bench_gcn_epoch: full-graph GCN training epochs on the graph the C++ bench wrote.

Usage: gcn_torch.py PREFIX NODES FEATURES HIDDEN CLASSES LAYERS EPOCHS THREADS
Reads PREFIX.rows/.cols/.vals (CSR of Â: int64 offsets, int32 columns, float32 values),
PREFIX.x (float32 nodes x features), PREFIX.y (int32 labels) and PREFIX.train (int64 node ids).
The model is the C++ bench's: LAYERS graph convolutions (Â H Wᵀ + b, torch.sparse.mm then
nn.Linear) with ReLU between them, softmax cross-entropy over the training nodes, Adam (lr 0.01).
Prints "torch VERSION epoch_ms E threads N": the median time of one epoch (forward, loss,
backward, optimizer step) after one warm-up epoch.
"""
import statistics
import sys
import time

import numpy as np
import torch


def main():
    prefix = sys.argv[1]
    nodes, features, hidden, classes, layers, epochs, threads = (int(v) for v in sys.argv[2:9])
    torch.set_num_threads(threads)
    rows = torch.from_numpy(np.fromfile(prefix + ".rows", dtype=np.int64))
    cols = torch.from_numpy(np.fromfile(prefix + ".cols", dtype=np.int32).astype(np.int64))
    vals = torch.from_numpy(np.fromfile(prefix + ".vals", dtype=np.float32))
    # COO: torch 1.13 differentiates sparse.mm with respect to the dense operand for COO.
    row_ids = torch.repeat_interleave(torch.arange(nodes), rows[1:] - rows[:-1])
    a = torch.sparse_coo_tensor(torch.stack([row_ids, cols]), vals, (nodes, nodes)).coalesce()
    x = torch.from_numpy(np.fromfile(prefix + ".x", dtype=np.float32).reshape(nodes, features))
    y = torch.from_numpy(np.fromfile(prefix + ".y", dtype=np.int32).astype(np.int64))
    train = torch.from_numpy(np.fromfile(prefix + ".train", dtype=np.int64))
    widths = [features] + [hidden] * (layers - 1) + [classes]
    linears = torch.nn.ModuleList(torch.nn.Linear(widths[i], widths[i + 1]) for i in range(layers))
    opt = torch.optim.Adam(linears.parameters(), lr=0.01)

    def epoch():
        opt.zero_grad()
        h = x
        for i, lin in enumerate(linears):
            h = lin(torch.sparse.mm(a, h))
            if i + 1 < layers:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h[train], y[train])
        loss.backward()
        opt.step()

    epoch()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    print(f"torch {torch.__version__} epoch_ms {1e3 * statistics.median(times):.6f} threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
