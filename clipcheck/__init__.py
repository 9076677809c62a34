"""clipcheck: check, by computation, the theory of gradient clipping under (L0,L1)-smoothness."""
__version__ = "0.1.0"
