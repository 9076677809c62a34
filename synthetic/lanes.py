"""The CPU kernel template: LANES instances stepped side by side per worker thread, in slices of bounded work.

This module is never compiled as it stands. The kernel factory (kernels.py) pastes it into a generated module
with its capitalised globals bound to one specialisation:
    VALUE_GRAD(x, p, g, lane) -> f          the function's value_grad, lane version (source.py): each array
                                            argument is passed as (shared array, first row, length)
    SCALES(mnorm, gnorm, state, q, t, lane) the rule as (h_m, h_g); BETA(q, t, lane) its momentum
    PERTURB(key, tau, a, g, gnorm, out, lane) the noise model's draw; HAS_NOISE, HAS_MOMENTUM flags
    DIM, LANES, SK                          the dimension, the number of lanes, the rule's state size
    W_X, W_G, ... (the layout below)        rows of the lane arrays, constants of the specialisation
so the hot loop holds no dispatch on kinds.

Layout. Everything a lane holds lives in four (rows, LANES) arrays, so that LLVM sees few base pointers and
constant row offsets and can vectorise the loop over lanes (with one array per quantity it cannot prove the
stores independent and gives up):
    W  floats written by the hot loop: x, grad f, g_hat, momentum m (DIM rows each), the rule's state and a copy
       of it (SK rows each), f, ||grad f||
    R  floats it only reads: eps, f*, tau, the noise shape, then the function's parameters (PK rows) and the
       rule's (QK rows)
    I  integers it writes: t, the first t that met the target, the outcome, the attention flag
    J  integers it only reads: max_iter, the next checkpoint, the instance, seed, stream, the checkpoint index;
       then, for the cold paths, a row holding the stop code and a row counting the finished instances (column 0)
       and the impossible results (column 1), so that attend takes no more arguments (each argument of a call
       between compiled functions costs the hot loop: two more of attend cost about 20% of the steps per second)
The per-instance inputs P, Q, EPS, FSTAR, MAXIT, SEED, STREAM, TAU, NA have one row per instance, or one row shared
by all (see `row`).
The hot loop is branch-free: every lane evaluates and steps. A lane whose instance needs attention (it finished,
reached a checkpoint of the trace, or has no instance) takes no step ("masked": its iterate, t, momentum and state
stay as they were) and raises a flag; a separate, rarely taken pass then records, finalises and refills. So each
instance sees exactly the arithmetic of a one-at-a-time loop, whichever lane or thread runs it.

Work is shared dynamically: workers (one Python thread each; the kernel releases the GIL) take the next instance
from a queue through an atomic cursor, and stop once the slice's step budget (an atomic counter) is spent, pausing
their instances (their state goes back to the per-instance arrays). The queue is the positions from cursor[0] on:
position k holds instance order[k] below cursor[3] and instance k itself from there on (so a batch run in its own
order needs no array of indices); a paused instance is written back to order[cursor[1] + m], m counted by cursor[2]
(positions before cursor[0], which the slice has already taken from), so the caller finds the unfinished instances
without looking at the batch. The caller runs slices until no instance is left, so Ctrl-C is honoured between
slices. spent[0] counts the slice's steps, spent[1] the instances it finished and spent[2] those among them whose
result is impossible (`impossible`, applied as each result is written, while it is in cache) or that had been
finished before (STATUS no longer RUNNING): the caller checks a batch's results from two counts instead of reading
them all again (n finished, none of them twice, is every instance once).
Per-instance arrays: X0 the starts (only read: an instance at t = 0 starts from X0, whose iterate is still x0), X
iterate (written when an instance pauses or finishes), T step index, S rule state, MOM momentum, HIT 1 + the first
t that met the target (stop "never"; 0 for none, so that zeros are its initial value), RJ next checkpoint index,
STATUS (RUNNING until final), F and G final value and gradient norm. MOM, HIT and RJ may be one shared row of zeros
where they cannot change: a rule without momentum, a stop other than "never" (an instance that meets the target
finishes in the pass that sees it, so a paused one has met none), a run without a trace; they are then read from row
0 and not written.
"""
import math

import numba
import numpy as np

from . import atomics, intrinsics, rng

RUNNING = -1
CONVERGED, BUDGET, DIVERGED = 0, 1, 2
STOP_GRAD, STOP_GAP, STOP_NEVER = 0, 1, 2
CHECK_EVERY = 64  # lane iterations between looks at the slice budget
R_EPS, R_FSTAR, R_TAU, R_SHAPE, R_P = 0, 1, 2, 3, 4
I_T, I_HIT, I_OUT, I_FLAG = 0, 1, 2, 3
J_MAXIT, J_NEXT, J_ID, J_SEED, J_STREAM, J_RJ, J_STOP, J_TALLY = 0, 1, 2, 3, 4, 5, 6, 7


def layout(dim, state_size):
    """Rows of W: the constants W_X, W_G, W_GH, W_M, W_S, W_SV, W_F, W_GN, W_ROWS of a specialisation."""
    return {"W_X": 0, "W_G": dim, "W_GH": 2 * dim, "W_M": 3 * dim, "W_S": 4 * dim, "W_SV": 4 * dim + state_size,
            "W_F": 4 * dim + 2 * state_size, "W_GN": 4 * dim + 2 * state_size + 1,
            "W_ROWS": 4 * dim + 2 * state_size + 2}


def worker(order, cursor, spent, budget, P, X0, X, T, S, MOM, HIT, RJ, STATUS, F, G, EPS, FSTAR, MAXIT, Q, SEED,
           STREAM, TAU, NA, stop, CK, RF, RG, RX):
    intrinsics.prefer_wide_vectors()  # zmm where the CPU has AVX-512 (LLVM's default there is ymm)
    PK = P.shape[1]
    QK = Q.shape[1]
    R_Q = R_P + PK
    GH = W_GH if HAS_NOISE else W_G  # the rows of g_hat: without noise g_hat is g itself, read where it is
    W = np.zeros((W_ROWS, LANES))
    R = np.zeros((R_P + PK + QK, LANES))
    I = np.zeros((4, LANES), np.int64)
    J = np.zeros((8, LANES), np.int64)
    J[J_STOP] = stop  # J[J_TALLY, 0], J[J_TALLY, 1]: instances finished by this call, how many impossible (attend)
    active = FILL(W, R, I, J, order, cursor, P, X0, X, T, S, MOM, HIT, RJ, EPS, FSTAR, MAXIT, Q, SEED, STREAM, TAU,
                  NA, CK)
    unreported = 0  # lane-steps not yet added to the shared budget counter (one atomic per CHECK_EVERY passes)
    while active > 0:
        done = 0
        flagged = False
        while done < CHECK_EVERY and not flagged:
            done += 1
            for lane in range(LANES):
                # every array element is read unconditionally, then combined with selects and bitwise & and |:
                # a load or a short-circuit inside a branch is control flow that stops the vectoriser
                t = I[I_T, lane]
                hit = I[I_HIT, lane]
                eps = R[R_EPS, lane]
                fstar = R[R_FSTAR, lane]
                inactive = J[J_ID, lane] < 0
                at_checkpoint = t == J[J_NEXT, lane]
                at_budget = t >= J[J_MAXIT, lane]
                f = VALUE_GRAD(W, W_X, DIM, R, R_P, PK, W, W_G, DIM, lane)
                gn2 = 0.0
                for j in range(DIM):
                    gn2 += W[W_G + j, lane] * W[W_G + j, lane]
                gn = math.sqrt(gn2)
                bad = not ((abs(f) < math.inf) & (gn < math.inf))  # also true for NaN
                met = (f - fstar <= eps) if stop == STOP_GAP else (gn <= eps)
                I[I_HIT, lane] = t if (met & (hit < 0)) else hit
                out = DIVERGED if bad else (CONVERGED if (met & (stop != STOP_NEVER)) else (
                    BUDGET if at_budget else RUNNING))
                exc = (out != RUNNING) | at_checkpoint | inactive
                ghn = gn
                if HAS_NOISE:
                    key = rng.counter_key(J[J_SEED, lane], J[J_STREAM, lane], t)
                    ghn = PERTURB(key, R[R_TAU, lane], R[R_SHAPE, lane], W, W_G, DIM, gn, W, W_GH, DIM, lane)
                mn = 0.0
                if HAS_MOMENTUM:
                    beta = BETA(R, R_Q, QK, t, lane)
                    beta = 0.0 if t == 0 else beta  # m_0 = g_hat_0
                    mn2 = 0.0
                    for j in range(DIM):
                        m_old = W[W_M + j, lane]
                        m = beta * m_old + (1.0 - beta) * W[GH + j, lane]
                        W[W_M + j, lane] = m_old if exc else m
                        mn2 += m * m
                    mn = math.sqrt(mn2)
                for k in range(SK):
                    W[W_SV + k, lane] = W[W_S + k, lane]
                hm, hg = SCALES(mn, ghn, W, W_S, SK, R, R_Q, QK, t, lane)
                for k in range(SK):
                    s_old = W[W_SV + k, lane]
                    s_new = W[W_S + k, lane]
                    W[W_S + k, lane] = s_old if exc else s_new
                hg = 0.0 if ghn == 0.0 else hg
                for j in range(DIM):
                    x_old = W[W_X + j, lane]
                    x_new = x_old - (hm * W[W_M + j, lane] + hg * W[GH + j, lane])
                    W[W_X + j, lane] = x_old if exc else x_new
                I[I_T, lane] = t if exc else t + 1
                W[W_F, lane] = f
                W[W_GN, lane] = gn
                I[I_OUT, lane] = out
                attention = exc & (not inactive)
                I[I_FLAG, lane] = attention
                flagged |= attention
        active += ATTEND(W, R, I, J, order, cursor, P, X0, X, T, S, MOM, HIT, RJ, STATUS, F, G, EPS, FSTAR, MAXIT, Q,
                         SEED, STREAM, TAU, NA, CK, RF, RG, RX)
        unreported += done * LANES
        if unreported >= CHECK_EVERY * LANES:
            if atomics.fetch_add(spent, 0, unreported) + unreported >= budget:
                PAUSE(W, J, I, X, T, S, MOM, HIT, RJ, order, cursor)
                break
            unreported = 0
    atomics.fetch_add(spent, 1, J[J_TALLY, 0])
    atomics.fetch_add(spent, 2, J[J_TALLY, 1])


# -- the cold paths: compiled once per (DIM, SK) in a module of their own, shared by every kernel ------------

def fill(W, R, I, J, order, cursor, P, X0, X, T, S, MOM, HIT, RJ, EPS, FSTAR, MAXIT, Q, SEED, STREAM, TAU, NA, CK):
    """Load an instance into every lane (as many as the queue holds); returns the number of active lanes."""
    J[J_ID] = -1
    J[J_NEXT] = -1
    active = 0
    for lane in range(LANES):
        loaded = load(lane, order, cursor, W, R, I, J, P, X0, X, T, S, MOM, HIT, RJ, EPS, FSTAR, MAXIT, Q, SEED,
                      STREAM, TAU, NA, CK)  # a whole statement, so that load is inlined (see load)
        active += loaded
    return active


def attend(W, R, I, J, order, cursor, P, X0, X, T, S, MOM, HIT, RJ, STATUS, F, G, EPS, FSTAR, MAXIT, Q, SEED, STREAM,
           TAU, NA, CK, RF, RG, RX):
    """The slow pass over the flagged lanes: record checkpoints, finalise finished instances and refill their
    lanes. Returns the change in the number of active lanes. Each finished instance is counted in J[J_TALLY, 0],
    and checked as it is written (`impossible`): one with an impossible result, or one finished a second time (a
    fault of the queue, which leaves some other instance unfinished while the count looks right), is counted in
    J[J_TALLY, 1]. The second-time test reads STATUS before writing it, not atomically: two threads finishing the same
    instance at the same instant could both miss it."""
    change = 0
    for lane in range(LANES):
        if I[I_FLAG, lane] == 0:
            continue
        i = J[J_ID, lane]
        t = I[I_T, lane]
        if t == J[J_NEXT, lane]:
            r = J[J_RJ, lane]
            RF[i, r] = W[W_F, lane]
            RG[i, r] = W[W_GN, lane]
            for j in range(DIM):
                RX[i, r, j] = W[W_X + j, lane]
            J[J_RJ, lane] = r + 1
            J[J_NEXT, lane] = CK[r + 1]
        status = I[I_OUT, lane]
        if status != RUNNING:
            if status == BUDGET and I[I_HIT, lane] >= 0:
                status = CONVERGED  # stop "never": report the first t that met the target
                t = I[I_HIT, lane]
            again = STATUS[i] != RUNNING  # finished before: then the count of finished instances hides a missing one
            STATUS[i] = status
            T[i] = t
            F[i] = W[W_F, lane]
            G[i] = W[W_GN, lane]
            for j in range(DIM):
                X[i, j] = W[W_X + j, lane]
            J[J_TALLY, 0] += 1
            bad = impossible(status, t, F[i], G[i], R[R_EPS, lane], R[R_FSTAR, lane], J[J_MAXIT, lane], J[J_STOP, 0])
            J[J_TALLY, 1] += 1 if again else bad
            J[J_ID, lane] = -1
            loaded = load(lane, order, cursor, W, R, I, J, P, X0, X, T, S, MOM, HIT, RJ, EPS, FSTAR, MAXIT, Q, SEED,
                          STREAM, TAU, NA, CK)
            change += loaded - 1
    return change


def impossible(status, t, f, g, eps, fstar, budget, stop):
    """1 when a finished instance's result cannot be, else 0: a status that is not final, t outside [0, budget],
    "converged" with a non-finite f or gradient norm or without meeting the target, or "budget" before the budget
    (unless stop is "never", where "budget" means the whole budget was run). Written without branches (& and | of
    the conditions), so that a loop over instances of it vectorises (run._first_impossible)."""
    if stop == STOP_GRAD:
        target = g <= eps  # false for NaN
    elif stop == STOP_GAP:
        target = f - fstar <= eps
    else:
        target = True
    final = (status == CONVERGED) | (status == BUDGET) | (status == DIVERGED)
    finite = (abs(f) < math.inf) & (abs(g) < math.inf)  # false for NaN
    bad = (not final) | (t < 0) | (t > budget) | ((status == CONVERGED) & (not (finite & target))) | (
        (status == BUDGET) & (stop != STOP_NEVER) & (t != budget))
    return 1 if bad else 0


def pause(W, J, I, X, T, S, MOM, HIT, RJ, order, cursor):
    """Save every active lane's instance where the next slice picks it up, and put it back in the queue."""
    for lane in range(LANES):
        i = J[J_ID, lane]
        if i >= 0:
            order[cursor[1] + atomics.fetch_add(cursor, 2, 1)] = i
            for j in range(DIM):
                X[i, j] = W[W_X + j, lane]
            if MOM.shape[0] > 1:  # else one shared row that stays zero (see the module's docstring)
                for j in range(DIM):
                    MOM[i, j] = W[W_M + j, lane]
            for k in range(SK):
                S[i, k] = W[W_S + k, lane]
            T[i] = I[I_T, lane]
            if HIT.shape[0] > 1:
                HIT[i] = I[I_HIT, lane] + 1
            if RJ.shape[0] > 1:
                RJ[i] = J[J_RJ, lane]


def load(lane, order, cursor, W, R, I, J, P, X0, X, T, S, MOM, HIT, RJ, EPS, FSTAR, MAXIT, Q, SEED, STREAM, TAU, NA,
         CK):
    """Put the next instance of the queue in `lane`, from its saved state; 0 when the queue is empty."""
    k = atomics.fetch_add(cursor, 0, 1)
    queued = k < order.shape[0]
    if queued:
        i = order[k] if k < cursor[3] else k
        J[J_ID, lane] = i
        fresh = T[i] == 0  # x_t is still x0: the iterate moves exactly when t does (worker), so x0 is read itself
        for j in range(DIM):
            W[W_X + j, lane] = X0[i, j] if fresh else X[i, j]
            W[W_M + j, lane] = MOM[row(MOM, i), j]
        for k in range(SK):
            W[W_S + k, lane] = S[i, k]
        PK = P.shape[1]
        for k in range(PK):
            R[R_P + k, lane] = P[row(P, i), k]
        for k in range(Q.shape[1]):
            R[R_P + PK + k, lane] = Q[row(Q, i), k]
        R[R_EPS, lane] = EPS[row(EPS, i)]
        R[R_FSTAR, lane] = FSTAR[row(FSTAR, i)]
        R[R_TAU, lane] = TAU[row(TAU, i)]
        R[R_SHAPE, lane] = NA[row(NA, i)]
        I[I_T, lane] = T[i]
        I[I_HIT, lane] = HIT[row(HIT, i)] - 1
        I[I_FLAG, lane] = 0
        J[J_MAXIT, lane] = MAXIT[row(MAXIT, i)]
        J[J_RJ, lane] = RJ[row(RJ, i)]
        J[J_NEXT, lane] = CK[RJ[row(RJ, i)]]
        J[J_SEED, lane] = SEED[row(SEED, i)]
        J[J_STREAM, lane] = STREAM[row(STREAM, i)]
    else:
        J[J_ID, lane] = -1
        J[J_NEXT, lane] = -1
        I[I_FLAG, lane] = 0
    return 1 if queued else 0  # one return: the source-level inliner pastes load into fill and attend, whose
    # calls to compiled functions would otherwise cost two atomic reference-count updates per array argument


def row(A, i):
    """Instance i's row of a per-instance input: row i, or row 0 of an input of one row shared by all (run passes
    one row for an argument given as a scalar, so that a call packs no per-instance copies of it)."""
    return i if A.shape[0] > 1 else 0


def evaluate_points(X, P, F, G, H):
    """f, grad f and (when WITH_HESS) ||Hess f|| at every row of X, the function's parameters row P[i]."""
    g = np.empty(DIM)
    x = np.empty(DIM)
    for i in range(X.shape[0]):
        for j in range(DIM):
            x[j] = X[i, j]
        p = P[i] if P.shape[0] > 1 else P[0]  # one row of parameters for all points, or one per point
        F[i] = VALUE_GRAD_POINT(x, p, g)
        for j in range(DIM):
            G[i, j] = g[j]
        if WITH_HESS:
            H[i] = HESS_NORM(x, p)
