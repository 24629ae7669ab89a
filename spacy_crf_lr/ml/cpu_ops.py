"""CPU ops whose matrix products go through numpy's BLAS rather than the BLIS that thinc bundles: float32 gemm
at the Maxout shapes of the CNN configs runs 2–3× faster single-threaded on this project's machines
(bench/bench_gemm.py)."""

from thinc.api import Model, NumpyOps

NUMPY_GEMM_OPS = NumpyOps(use_blis=False)


def use_numpy_gemm(model: Model) -> None:
    """Give each node of model on thinc's default CPU ops (BLIS gemm) the numpy-gemm ops; GPU ops and other CPU
    ops are left alone."""
    for node in model.walk():
        if type(node.ops) is NumpyOps and getattr(node.ops, "use_blis", False):
            node.ops = NUMPY_GEMM_OPS
