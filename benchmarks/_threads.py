"""Thread settings for the benchmark scripts: ``--threads N`` (default 1), applied before numpy and torch start
their thread pools, so every implementation in a run gets the same number of threads."""

import os
import sys


def threads_from_argv(default: int = 1) -> int:
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg.startswith("--threads"):
            return int(arg.split("=", 1)[1] if "=" in arg else argv[i + 1])
    return default


THREADS = threads_from_argv()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)
