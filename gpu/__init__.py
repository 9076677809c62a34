"""Smoothness against gradient norm on real networks (THEOREMS.md §6, the paper's Figures 1-4).

smoothness_probe.py  SmoothnessProbe: the probe for any training loop (``from clipcheck.gpu import SmoothnessProbe``)
probe.py       the estimates along one step: L_hat, secants, Hessian-vector curvature, noise floor (what each means)
analysis.py    Spearman rho, partial rho, (L0, L1) envelope, bootstrap intervals, comparisons over seeds (no torch)
models.py      an AWD-LSTM-style language model with tied weights, ResNet-20 (CIFAR layout)
text_data.py   Penn Treebank reader; default text: the standard library's pydoc_data topics
image_data.py  CIFAR-10 python-batch reader; default images: scikit-learn's digits
train.py       one training run (SGD, optional clipping and AMP) with the probe, divergence and held-out loss
experiment.py  the grid of runs (model x learning rate x clip x seed), in worker processes
presets.py     the --quick and --full settings (no torch)

torch is optional: importing this package imports nothing; SmoothnessProbe imports torch when first used.
"""


def __getattr__(name):
    if name == "SmoothnessProbe":
        from clipcheck.gpu.smoothness_probe import SmoothnessProbe

        return SmoothnessProbe
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SmoothnessProbe"]
