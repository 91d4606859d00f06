"""PyTorch baseline for bench_embedding: torch.nn.EmbeddingBag on the indices the C++ bench wrote.

Usage: embedding_bag_torch.py PREFIX ROWS DIM BATCH REPS
Reads PREFIX.indices (uint32) and PREFIX.offsets (int64, batch + 1 entries) and prints
"torch VERSION forward_ms F train_ms T threads N": median times of a sum-pooled lookup and of
lookup + backward + sparse SGD step, one thread.
"""
import statistics
import sys
import time

import numpy as np
import torch


def main():
    prefix, rows, dim, batch, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(1)
    indices = torch.from_numpy(np.fromfile(prefix + ".indices", dtype=np.uint32).astype(np.int64))
    offsets = torch.from_numpy(np.fromfile(prefix + ".offsets", dtype=np.int64))
    assert offsets.numel() == batch + 1
    bag = torch.nn.EmbeddingBag(rows, dim, mode="sum", sparse=True, include_last_offset=True)
    opt = torch.optim.SGD(bag.parameters(), lr=0.01)
    grad = torch.randn(batch, dim)

    def forward():
        with torch.no_grad():
            return bag(indices, offsets)

    def train():
        opt.zero_grad(set_to_none=True)
        out = bag(indices, offsets)
        out.backward(grad)
        opt.step()

    def median_ms(f):
        f()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)

    print("torch %s forward_ms %.4f train_ms %.4f threads %d" % (torch.__version__, median_ms(forward), median_ms(train),
                                                                torch.get_num_threads()))


if __name__ == "__main__":
    main()
