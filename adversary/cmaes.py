"""A small CMA-ES (Hansen's (mu/mu_w, lambda) scheme with rank-one and rank-mu updates), maximising.

Written here rather than taken from the `cma` package: the dimensions are small (tens), one eigendecomposition
per generation costs microseconds, and the search needs nothing else. The defaults follow N. Hansen, "The CMA
Evolution Strategy: A Tutorial" (arXiv:1604.00772), Table 1.
"""
import math

import numpy as np


class CMAES:
    """ask() -> (popsize, dim) candidates; tell(candidates, values) updates toward larger values."""

    def __init__(self, mean, sigma, rng, popsize=None):
        self.mean = np.array(mean, dtype=float)
        n = self.dim = self.mean.size
        self.sigma = float(sigma)
        self.rng = rng
        self.popsize = popsize or 4 + int(3 * math.log(n))
        mu = self.popsize // 2
        w = math.log((self.popsize + 1) / 2) - np.log(np.arange(1, mu + 1))
        self.weights = w / w.sum()
        self.mu_eff = 1.0 / np.sum(self.weights**2)
        me = self.mu_eff
        self.c_sigma = (me + 2) / (n + me + 5)
        self.d_sigma = 1 + 2 * max(0.0, math.sqrt((me - 1) / (n + 1)) - 1) + self.c_sigma
        self.c_c = (4 + me / n) / (n + 4 + 2 * me / n)
        self.c_1 = 2 / ((n + 1.3) ** 2 + me)
        self.c_mu = min(1 - self.c_1, 2 * (me - 2 + 1 / me) / ((n + 2) ** 2 + me))
        self.chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
        self.p_sigma = np.zeros(n)
        self.p_c = np.zeros(n)
        self.C = np.eye(n)
        self.B = np.eye(n)
        self.D = np.ones(n)
        self.generation = 0
        self.evaluations = 0

    def ask(self):
        z = self.rng.standard_normal((self.popsize, self.dim))
        self._y = (z * self.D) @ self.B.T
        return self.mean + self.sigma * self._y

    def tell(self, candidates, values):
        """candidates must be the array of the last ask(); values one finite float each (larger is better)."""
        order = np.argsort(-np.asarray(values, dtype=float), kind="stable")[: self.weights.size]
        y = self._y[order]
        y_w = self.weights @ y
        self.mean = self.mean + self.sigma * y_w
        c_inv_sqrt_y = self.B @ ((self.B.T @ y_w) / self.D)
        cs, cc, c1, cmu = self.c_sigma, self.c_c, self.c_1, self.c_mu
        self.p_sigma = (1 - cs) * self.p_sigma + math.sqrt(cs * (2 - cs) * self.mu_eff) * c_inv_sqrt_y
        norm_ps = np.linalg.norm(self.p_sigma)
        self.generation += 1
        self.evaluations += len(values)
        h_sigma = norm_ps / math.sqrt(1 - (1 - cs) ** (2 * self.generation)) < (1.4 + 2 / (self.dim + 1)) * self.chi_n
        self.p_c = (1 - cc) * self.p_c + h_sigma * math.sqrt(cc * (2 - cc) * self.mu_eff) * y_w
        rank_mu = (y * self.weights[:, None]).T @ y
        self.C = ((1 - c1 - cmu + (1 - h_sigma) * c1 * cc * (2 - cc)) * self.C
                  + c1 * np.outer(self.p_c, self.p_c) + cmu * rank_mu)
        self.sigma *= math.exp((cs / self.d_sigma) * (norm_ps / self.chi_n - 1))
        self.C = 0.5 * (self.C + self.C.T)
        eig, self.B = np.linalg.eigh(self.C)
        self.D = np.sqrt(np.maximum(eig, 1e-300))

    @property
    def converged(self):
        """The search distribution has shrunk below float resolution of the mean."""
        return self.sigma * self.D.max() < 1e-12 * max(1.0, np.abs(self.mean).max())
