#!/usr/bin/env python3
"""PyTorch baseline for bench_lenet5_training: the identical LeNet-5, batch, loss and optimizer,
timed the same way (median over repetitions of a fixed number of training steps), on --threads
threads (default 1).
Prints one line: `torch <version> images_per_second <median> threads <n>`."""
import argparse
import statistics
import time

import torch
import torch.nn as tnn


def lenet5():
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(400, 120), tnn.ReLU(),
        tnn.Linear(120, 84), tnn.ReLU(),
        tnn.Linear(84, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = lenet5()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = tnn.CrossEntropyLoss()
    x = torch.rand(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    rates = []
    for _ in range(args.reps):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.steps * args.batch / (time.perf_counter() - start))
    print(f"torch {torch.__version__} images_per_second {statistics.median(rates):.1f} "
          f"threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
