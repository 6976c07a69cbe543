"""Check that torch multiplies matrices at an optimised BLAS's speed before a long training run.

Debian's python3-torch 1.13 links whatever libblas.so.3 the alternatives system points at. The
reference BLAS (libblas3) ran a float32 matmul at ~2.8 GFLOP/s here, OpenBLAS
(`apt-get install libopenblas0-pthread`) at ~45 GFLOP/s, and one training step was ~5x slower
on the former. Prints the GFLOP/s and the BLAS library mapped into this process; exits 1 below
--min-gflops (default 10: far from both measured values).

    /usr/bin/python3 tools/check_blas.py [--threads 2] [--min-gflops 10]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch


def blas_libraries() -> list[str]:
    """Shared objects in this process whose name says BLAS (what libblas.so.3 resolved to)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in path.lower() or "mkl" in path.lower():
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs)


def matmul_gflops(n: int, threads: int, repeats: int) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up (thread pool, page faults)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 / best / 1e9


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-gflops", type=float, default=10.0)
    args = ap.parse_args()
    g = matmul_gflops(args.size, args.threads, args.repeats)
    libs = blas_libraries()
    print(f"float32 matmul {args.size}x{args.size}, {args.threads} thread(s): {g:.1f} GFLOP/s (best of {args.repeats})")
    print("BLAS in this process: " + (", ".join(libs) if libs else "(none found in /proc/self/maps)"))
    if g < args.min_gflops:
        print(
            f"error: {g:.1f} GFLOP/s is below {args.min_gflops}: torch is on the reference BLAS. "
            "Install OpenBLAS (apt-get install -y libopenblas0-pthread) and check "
            "`update-alternatives --display libblas.so.3-x86_64-linux-gnu`.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
