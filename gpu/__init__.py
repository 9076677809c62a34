"""Smoothness against gradient norm on real networks (THEOREMS.md §6, the paper's Figures 1-4).

probe.py       the local-smoothness estimator along a training step (torch.func.functional_call, model untouched)
models.py      LSTM language model with tied weights, ResNet-20 (CIFAR layout)
text_data.py   Penn Treebank reader; default text: the standard library's pydoc_data topics
image_data.py  CIFAR-10 python-batch reader; default images: scikit-learn's digits, resized
train.py       SGD with or without clip_grad_norm_, one record per step
experiment.py  a clipped and an unclipped run from one initialisation
presets.py     the --quick and --full settings (no torch)
analysis.py    Spearman rho with a block-bootstrap interval, the (L0, L1) envelope (no torch)

torch is optional: importing this package imports nothing; only the modules that need torch import it.
"""
