"""LightGBM's OpenMP wait policy on a busy machine: the same trees, fitted with 1 or 2 threads, with OpenMP's
threads spinning (ACTIVE) or sleeping (PASSIVE) at barriers, while ``--busy`` other processes keep the cores busy
(as a backfill's other runs, the daemon and a second location do).

    python bench/lgb_threads.py [--rows 300000] [--busy 2] [--rounds 150]

Each configuration is a fresh process (OMP_WAIT_POLICY is read when the OpenMP runtime loads); prints wall and CPU
seconds and a hash of the trees (the model text without its parameter block), which must match across wait policies.
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import time


def fit(rows: int, rounds: int, threads: int) -> dict:
    import lightgbm as lgb
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 21))
    y = (rng.random(rows) < 1 / (1 + np.exp(-(x[:, 0] + 0.5 * x[:, 1] * x[:, 2] - 2.5)))).astype(np.int32)
    params = {"objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "deterministic": True,
              "force_row_wise": True, "num_threads": threads, "verbose": -1, "seed": 1}
    wall, cpu = time.time(), time.process_time()
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=rounds)
    trees = booster.model_to_string().split("parameters:")[0]
    return {"wall": time.time() - wall, "cpu": time.process_time() - cpu, "trees": hashlib.sha256(trees.encode()).hexdigest()[:10]}


def spin(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--busy", type=int, default=2, help="competing busy processes")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # a fresh process: fit with this many threads
    args = parser.parse_args()
    if args.child:
        print(json.dumps(fit(args.rows, args.rounds, args.child)))
        return
    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for p in busy:
        p.start()
    print(f"{args.rows:,} rows x 21 features, {args.rounds} rounds, {args.busy} busy processes, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| OMP_WAIT_POLICY | threads | wall (s) | CPU (s) | trees |\n|---|---|---|---|---|")
    try:
        for _ in range(2):
            for policy in ("ACTIVE", "PASSIVE"):
                for threads in (1, 2):
                    out = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--rounds", str(args.rounds),
                                          "--child", str(threads)], env={**os.environ, "OMP_WAIT_POLICY": policy},
                                         capture_output=True, text=True, check=True)
                    r = json.loads(out.stdout)
                    print(f"| {policy} | {threads} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['trees']} |", flush=True)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
