"""The CUDA kernel template: persistent threads, each running one instance at a time from a shared queue.

Pasted and specialised by kernels.py like lanes.py (the same VALUE_GRAD, SCALES, BETA, PERTURB, HAS_NOISE,
HAS_MOMENTUM, DIM, SK bindings, here in their plain form: one instance per thread, local arrays). A thread whose
instance finishes takes the next one from the queue at once (an atomic cursor), so a warp never waits for its
slowest instance to start new work: the refill design. A launch is a slice: each thread stops after `budget`
steps and saves its instance's state to the per-instance arrays, so the host can stop between launches (Ctrl-C)
and look at no more than the status array per slice. The arithmetic and its order are those of lanes.py, so CPU
and CUDA give identical iteration counts.
"""
import math

import numba
from numba import cuda

from . import rng
from .lanes import row

RUNNING = -1
CONVERGED, BUDGET, DIVERGED = 0, 1, 2
STOP_GRAD, STOP_GAP, STOP_NEVER = 0, 1, 2


def run_slice(order, cursor, budget, P, X, T, S, MOM, HIT, RJ, STATUS, F, G, EPS, FSTAR, MAXIT, Q, SEED, STREAM,
              TAU, NA, stop, noise, CK, RF, RG, RX):
    x = cuda.local.array(DIM, numba.float64)
    g = cuda.local.array(DIM, numba.float64)
    gh = cuda.local.array(DIM, numba.float64)
    m = cuda.local.array(DIM, numba.float64)
    s = cuda.local.array(SK_LOCAL, numba.float64)
    steps = 0
    while steps < budget:
        k = cuda.atomic.add(cursor, 0, 1)
        if k >= order.shape[0]:
            return
        i = order[k]
        # each per-instance input has one row per instance, or one row shared by all (lanes.py)
        p = P[row(P, i)]
        q = Q[row(Q, i)]
        for j in range(DIM):
            x[j] = X[i, j]
            m[j] = MOM[row(MOM, i), j]  # MOM, HIT, RJ: maybe one shared row of zeros (lanes.py)
        for j in range(SK):
            s[j] = S[i, j]
        t = T[i]
        hit = HIT[row(HIT, i)] - 1  # 1 + the first t that met the target, 0 for none (lanes.py)
        rj = RJ[row(RJ, i)]
        eps = EPS[row(EPS, i)]
        fstar = FSTAR[row(FSTAR, i)]
        maxit = MAXIT[row(MAXIT, i)]
        while True:
            f = VALUE_GRAD(x, p, g)
            gn2 = 0.0
            for j in range(DIM):
                gn2 += g[j] * g[j]
            gn = math.sqrt(gn2)
            bad = not ((abs(f) < math.inf) & (gn < math.inf))
            met = (f - fstar <= eps) if stop == STOP_GAP else (gn <= eps)
            if met and hit < 0:
                hit = t
            if t == CK[rj]:
                RF[i, rj] = f
                RG[i, rj] = gn
                for j in range(DIM):
                    RX[i, rj, j] = x[j]
                rj += 1
            out = DIVERGED if bad else (CONVERGED if (met and stop != STOP_NEVER) else (
                BUDGET if t >= maxit else RUNNING))
            if out != RUNNING:
                if out == BUDGET and hit >= 0:
                    out = CONVERGED  # stop "never": the first t that met the target
                    t = hit
                STATUS[i] = out
                T[i] = t
                F[i] = f
                G[i] = gn
                for j in range(DIM):
                    X[i, j] = x[j]
                break
            if steps >= budget:  # pause: the next launch resumes here
                for j in range(DIM):
                    X[i, j] = x[j]
                    if MOM.shape[0] > 1:
                        MOM[i, j] = m[j]
                for j in range(SK):
                    S[i, j] = s[j]
                T[i] = t
                if HIT.shape[0] > 1:
                    HIT[i] = hit + 1
                if RJ.shape[0] > 1:
                    RJ[i] = rj
                return
            ghn = gn
            if HAS_NOISE:
                key = rng.counter_key(SEED[row(SEED, i)],
                                      STREAM[row(STREAM, i)], t)
                ghn = PERTURB(noise, key, TAU[row(TAU, i)], NA[row(NA, i)], g, gn,
                              gh)
            else:
                for j in range(DIM):
                    gh[j] = g[j]
            mn = 0.0
            if HAS_MOMENTUM:
                beta = BETA(q, t)
                beta = 0.0 if t == 0 else beta
                mn2 = 0.0
                for j in range(DIM):
                    m[j] = beta * m[j] + (1.0 - beta) * gh[j]
                    mn2 += m[j] * m[j]
                mn = math.sqrt(mn2)
            hm, hg = SCALES(mn, ghn, s, q, t)
            hg = 0.0 if ghn == 0.0 else hg
            for j in range(DIM):
                x[j] = x[j] - (hm * m[j] + hg * gh[j])
            t += 1
            steps += 1
