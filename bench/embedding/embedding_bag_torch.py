"""PyTorch baseline for bench_embedding: torch.nn.EmbeddingBag on the indices the C++ bench wrote.

Usage: embedding_bag_torch.py PREFIX ROWS DIM BATCH REPS [BATCHES [THREADS]]
Reads PREFIX.indices (uint32, the batches' indices one after another) and PREFIX.offsets (int64,
batch + 1 entries per batch, each batch's offsets into its own indices) and prints
"torch VERSION forward_ms F train_ms T threads N": median times of a sum-pooled lookup and of
lookup + backward + sparse SGD step, on THREADS threads (default 1), each timed call taking the next
batch in turn.
"""
import statistics
import sys
import time

import numpy as np
import torch


def main():
    prefix, rows, dim, batch, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    batches = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    threads = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    torch.set_num_threads(threads)
    all_indices = torch.from_numpy(np.fromfile(prefix + ".indices", dtype=np.uint32).astype(np.int64))
    all_offsets = np.fromfile(prefix + ".offsets", dtype=np.int64)
    assert all_offsets.size == batches * (batch + 1)
    data = []
    start = 0
    for q in range(batches):
        offsets = all_offsets[q * (batch + 1):(q + 1) * (batch + 1)]
        count = int(offsets[-1])
        data.append((all_indices[start:start + count].clone(), torch.from_numpy(offsets.copy())))
        start += count
    assert start == all_indices.numel()
    bag = torch.nn.EmbeddingBag(rows, dim, mode="sum", sparse=True, include_last_offset=True)
    opt = torch.optim.SGD(bag.parameters(), lr=0.01)
    grad = torch.randn(batch, dim)
    turn = [0]

    def next_batch():
        b = data[turn[0]]
        turn[0] = (turn[0] + 1) % batches
        return b

    def forward():
        indices, offsets = next_batch()
        with torch.no_grad():
            return bag(indices, offsets)

    def train():
        indices, offsets = next_batch()
        opt.zero_grad(set_to_none=True)
        out = bag(indices, offsets)
        out.backward(grad)
        opt.step()

    def median_ms(f):
        turn[0] = 0
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
