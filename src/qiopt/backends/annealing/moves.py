"""Compiled move kernels of the allocation engine: annealing and descent on a :class:`ConstrainedModel`.

A read's state is one chosen variable per one-hot group (``choice``, int32), the 0/1 vector ``x`` (int8),
and the maintained sums: constraint left sides ``lhs = A x`` and squared-term sums ``t = B x``. Moves:

* **reassign** group ``g`` from its variable ``u`` to another of its variables ``v`` (``x_u: 1→0, x_v: 0→1``);
* **swap** the bins of groups ``g`` and ``h`` (four variables change; needs the model's ``bins``);
* **shift chain** (an ejection chain of length two): ``g`` moves to the bin of a random group ``h``, and ``h``
  moves on to the one of its other variables (up to :data:`CHAIN_CANDIDATES`, each scored in O(1 + degree))
  that changes objective + penalty least given the first move (four variables change, as in a swap; needs the
  ``bins``). From a full state every reassign overfills a bin; the chain makes room in the target bin as it
  fills it. Measured on generalized assignment 40 × 400 at 10 s (types C and D, 2 instances × 3 seeds):
  mean gap 0.92 % → 0.72 % (D 1.37 % → 1.04 %, C 0.44 % → 0.41 %), with swaps at a quarter of the moves
  (the defaults where items weigh differently on their bins: :func:`~.engine.move_shares`);
* **flip** a free variable.

Every move's change is computed in O(1 + degree) from the maintained sums: the objective part from ``c``,
the couplings of the changed variables and the squared terms they touch, the violation part from the rows
they touch. One-hot constraints hold by construction. Linear constraints are a penalty ``Σ_r λ_r viol_r``
(``viol_r`` = distance of ``lhs_r`` to ``[lower_r, upper_r]``) whose weights adapt per read and per row: after
every sweep that ends infeasible each violated row's weight grows ×``growth``; after one that ends feasible
every weight shrinks ÷``growth`` (never below ``lam_floor``). Per-row weights push on the rows that stay
violated (measured on generalized assignment: mean gap 1.47 % → 1.19 % against one weight for all rows).
Each read keeps the best *feasible* state it passes at the end of a sweep, so it returns that state, or its
last one when none was feasible. Read ``k`` draws only from its own xorshift64 stream of ``(seed, k)``: the
answer never depends on threads or batching. Sums are recomputed exactly every :data:`REFRESH_SWEEPS` sweeps.

``model`` below is the tuple built by :func:`qiopt.backends.annealing.engine.kernel_model`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from qiopt.backends._random import JIT, xorshift64

__all__ = ["CHAIN_CANDIDATES", "REFRESH_SWEEPS", "anneal_read", "descend_read", "init_read", "sample_deltas"]

REFRESH_SWEEPS = 64
CHAIN_CANDIDATES = 64  # a chain's tail scores all the ejected group's variables up to this many, else this many random
_U53 = 2.0**-53


@nb.njit(inline="always", **JIT)
def _uniform(rng: np.ndarray, r: int) -> float:
    x = xorshift64(rng[r])
    rng[r] = x
    return float(x >> np.uint64(11)) * _U53


@nb.njit(inline="always", **JIT)
def _below(rng: np.ndarray, r: int, n: int) -> int:
    x = xorshift64(rng[r])
    rng[r] = x
    return int(x % np.uint64(n))


@nb.njit(inline="always", **JIT)
def _viol(a: float, lo: float, hi: float, tol: float) -> float:
    v = max(a - hi, 0.0) + max(lo - a, 0.0)
    return v if v > tol else 0.0


@nb.njit(**JIT)
def _scratch(rows, terms):
    """Per-read scratch of :func:`_delta`: pending row and term changes, their touched lists and marks, and the
    (at most 4) changed variables with their signs."""
    return (np.zeros(rows), np.zeros(terms), np.empty(max(rows, 1), np.int64), np.empty(max(terms, 1), np.int64),
            np.zeros(rows, np.int8), np.zeros(terms, np.int8), np.empty(4, np.int64), np.empty(4, np.float64))


@nb.njit(**JIT)
def _recompute(model, x, lhs, tsum):
    """Exact ``lhs``, ``t`` and objective of ``x``; returns ``(objective, number of violated rows)``."""
    (c, qptr, qidx, qval, acptr, acrow, acval, lower, upper, tol, bcptr, bcrow, bcval, targets, weights,
     gptr, gvar, gbin, pos, bins, free, group_of) = model
    lhs[:] = 0.0
    tsum[:] = 0.0
    obj = 0.0
    for v in range(x.shape[0]):
        if x[v]:
            obj += c[v]
            for k in range(qptr[v], qptr[v + 1]):
                if x[qidx[k]]:
                    obj += 0.5 * qval[k]
            for k in range(acptr[v], acptr[v + 1]):
                lhs[acrow[k]] += acval[k]
            for k in range(bcptr[v], bcptr[v + 1]):
                tsum[bcrow[k]] += bcval[k]
    for s in range(tsum.shape[0]):
        obj += weights[s] * (tsum[s] - targets[s]) ** 2
    bad = 0
    for r in range(lhs.shape[0]):
        if _viol(lhs[r], lower[r], upper[r], tol[r]) > 0.0:
            bad += 1
    return obj, bad


@nb.njit(inline="always", **JIT)
def _pend(ptr, rows, vals, v, d, pending, mark, touched, count):
    """Add ``d`` × column ``v`` (CSC ``ptr, rows, vals``) to ``pending``, listing each newly touched row once in
    ``touched``; returns the new count of touched rows."""
    for e in range(ptr[v], ptr[v + 1]):
        r = rows[e]
        if not mark[r]:
            mark[r] = 1
            touched[count] = r
            count += 1
        pending[r] += d * vals[e]
    return count


@nb.njit(inline="always", **JIT)
def _delta(model, x, lhs, tsum, cv, cd, m, dl, dt, tr, ts, mark_r, mark_s, lam):
    """Change of (objective, penalty ``Σ_r lam[r] viol_r``, violated-row count) if ``x[cv[k]] += cd[k]`` for
    ``k < m`` (``lam`` all ones: the total violation).
    Leaves the row / term changes in ``dl`` / ``dt`` (touched lists ``tr`` / ``ts``) for :func:`_commit`."""
    (c, qptr, qidx, qval, acptr, acrow, acval, lower, upper, tol, bcptr, bcrow, bcval, targets, weights,
     gptr, gvar, gbin, pos, bins, free, group_of) = model
    dobj = 0.0
    nr = 0
    ns = 0
    for k in range(m):
        v, d = cv[k], cd[k]
        dobj += d * c[v]
        f = 0.0
        for e in range(qptr[v], qptr[v + 1]):
            w = qidx[e]
            f += qval[e] * x[w]
            for o in range(k + 1, m):
                if cv[o] == w:
                    dobj += d * cd[o] * qval[e]
        dobj += d * f
        nr = _pend(acptr, acrow, acval, v, d, dl, mark_r, tr, nr)
        ns = _pend(bcptr, bcrow, bcval, v, d, dt, mark_s, ts, ns)
    dviol = 0.0
    dbad = 0
    for k in range(nr):
        r = tr[k]
        before = _viol(lhs[r], lower[r], upper[r], tol[r])
        after = _viol(lhs[r] + dl[r], lower[r], upper[r], tol[r])
        dviol += lam[r] * (after - before)
        dbad += (after > 0.0) - (before > 0.0)
    for k in range(ns):
        s = ts[k]
        a = tsum[s] - targets[s]
        dobj += weights[s] * ((a + dt[s]) ** 2 - a * a)
    return dobj, dviol, dbad, nr, ns


@nb.njit(inline="always", **JIT)
def _finish(x, lhs, tsum, cv, cd, m, dl, dt, tr, ts, nr, ns, mark_r, mark_s, apply):
    """Apply (``apply``) or drop the pending change of :func:`_delta`, and clear the scratch arrays."""
    if apply:
        for k in range(m):
            x[cv[k]] += cd[k]
    _settle(lhs, dl, mark_r, tr, nr, apply)
    _settle(tsum, dt, mark_s, ts, ns, apply)


@nb.njit(inline="always", **JIT)
def _settle(sums, pending, mark, touched, count, apply):
    """Add (``apply``) or drop the ``pending`` changes of the ``count`` touched rows, and clear them (the
    inverse of :func:`_pend`)."""
    for k in range(count):
        r = touched[k]
        if apply:
            sums[r] += pending[r]
        pending[r] = 0.0
        mark[r] = 0


@nb.njit(inline="always", **JIT)
def _find(gptr, gvar, gbin, g, b):
    """The variable of group ``g`` on bin ``b`` (members sorted by bin), or -1."""
    lo, hi = gptr[g], gptr[g + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if gbin[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    return gvar[lo] if lo < gptr[g + 1] and gbin[lo] == b else -1


@nb.njit(inline="always", **JIT)
def _propose(model, choice, x, rng, r, g, swap_prob, chain_prob, cv, cd):
    """Fill ``cv``/``cd`` with a random move of group ``g``: a swap with a random group (probability
    ``swap_prob``), else a reassign, which is a shift chain with probability ``chain_prob`` (``g`` moves to the
    bin of a random group ``h`` and ``h`` moves on to another of its bins); returns the number of changed
    variables (0: no move possible)."""
    (c, qptr, qidx, qval, acptr, acrow, acval, lower, upper, tol, bcptr, bcrow, bcval, targets, weights,
     gptr, gvar, gbin, pos, bins, free, group_of) = model
    u = choice[g]
    size = gptr[g + 1] - gptr[g]
    groups = choice.shape[0]
    if swap_prob > 0.0 and groups > 1 and _uniform(rng, r) < swap_prob:
        h = _below(rng, r, groups - 1)
        h += h >= g
        w = choice[h]
        bu, bw = bins[u], bins[w]
        if bu == bw or bu < 0 or bw < 0:
            return 0
        u2 = _find(gptr, gvar, gbin, g, bw)
        w2 = _find(gptr, gvar, gbin, h, bu)
        if u2 < 0 or w2 < 0:
            return 0
        cv[0], cv[1], cv[2], cv[3] = u, u2, w, w2
        cd[0], cd[1], cd[2], cd[3] = -1.0, 1.0, -1.0, 1.0
        return 4
    if size < 2:
        return 0
    if chain_prob > 0.0 and groups > 1 and _uniform(rng, r) < chain_prob:
        h = _below(rng, r, groups - 1)
        h += h >= g
        w = choice[h]
        bu, bw = bins[u], bins[w]
        hsize = gptr[h + 1] - gptr[h]
        if bu == bw or bu < 0 or bw < 0 or hsize < 2:
            return 0
        u2 = _find(gptr, gvar, gbin, g, bw)
        if u2 < 0:
            return 0
        cv[0], cv[1], cv[2], cv[3] = u, u2, w, h  # h's new variable: chosen by _chain_tail
        cd[0], cd[1], cd[2] = -1.0, 1.0, -1.0
        return 3
    k = _below(rng, r, size - 1)
    k += k >= pos[u]
    cv[0], cv[1] = u, gvar[gptr[g] + k]
    cd[0], cd[1] = -1.0, 1.0
    return 2


@nb.njit(**JIT)
def _chain_tail(model, x, lhs, tsum, cv, cd, dl, dt, tr, ts, mark_r, mark_s, lam, rng, r):
    """Complete the shift chain :func:`_propose` left (3 changes; ``cv[3]`` the ejected group ``h``): ``h``
    moves to its variable of lowest objective + penalty change given the first three changes (one pass over
    ``h``'s variables, each O(1 + degree)). Returns 4, or 0 when ``h`` has no other variable."""
    (c, qptr, qidx, qval, acptr, acrow, acval, lower, upper, tol, bcptr, bcrow, bcval, targets, weights,
     gptr, gvar, gbin, pos, bins, free, group_of) = model
    h, w = cv[3], cv[2]
    dobj, dviol, dbad, nr, ns = _delta(model, x, lhs, tsum, cv, cd, 3, dl, dt, tr, ts, mark_r, mark_s, lam)
    best_v, best = -1, np.inf
    size = gptr[h + 1] - gptr[h]
    scan = size <= CHAIN_CANDIDATES + 1
    for k in range(size if scan else CHAIN_CANDIDATES):
        if scan:
            v = gvar[gptr[h] + k]
        else:
            j = _below(rng, r, size - 1)
            v = gvar[gptr[h] + j + (j >= pos[w])]
        if v == w:
            continue
        de = c[v]
        for e in range(qptr[v], qptr[v + 1]):
            y = qidx[e]
            xy = float(x[y])
            for o in range(3):
                if cv[o] == y:
                    xy += cd[o]
            de += qval[e] * xy
        for e in range(acptr[v], acptr[v + 1]):
            q = acrow[e]
            base = lhs[q] + dl[q]
            de += lam[q] * (_viol(base + acval[e], lower[q], upper[q], tol[q])
                            - _viol(base, lower[q], upper[q], tol[q]))
        for e in range(bcptr[v], bcptr[v + 1]):
            s = bcrow[e]
            a = tsum[s] + dt[s] - targets[s]
            de += weights[s] * ((a + bcval[e]) ** 2 - a * a)
        if de < best:
            best_v, best = v, de
    _finish(x, lhs, tsum, cv, cd, 3, dl, dt, tr, ts, nr, ns, mark_r, mark_s, False)
    if best_v < 0:
        return 0
    cv[3], cd[3] = best_v, 1.0
    return 4


@nb.njit(**JIT)
def init_read(model, choice, x, lhs, tsum):
    """Set ``x`` from ``choice`` (free entries of ``x`` kept) and the sums; returns (objective, violated rows)."""
    gvar = model[16]
    for k in range(gvar.shape[0]):
        x[gvar[k]] = 0
    for g in range(choice.shape[0]):
        x[choice[g]] = 1
    return _recompute(model, x, lhs, tsum)


@nb.njit(**JIT)
def anneal_read(model, betas, sweeps_per_beta, choice, x, lhs, tsum, rng, r, lam, lam_floor, growth,
                swap_prob, chain_prob, best_choice, best_x, best_obj):
    """Anneal read ``r`` (state ``choice, x, lhs, tsum``; ``rng[r]`` its stream) over ``betas``.

    Updates the best feasible state (``best_choice``, ``best_x``, ``best_obj[r]``; ``inf`` = none yet) and the
    row weights ``lam`` in place."""
    (c, qptr, qidx, qval, acptr, acrow, acval, lower, upper, tol, bcptr, bcrow, bcval, targets, weights,
     gptr, gvar, gbin, pos, bins, free, group_of) = model
    groups = choice.shape[0]
    dl, dt, tr, ts, mark_r, mark_s, cv, cd = _scratch(lhs.shape[0], tsum.shape[0])
    obj, bad = _recompute(model, x, lhs, tsum)
    sweeps = 0
    for beta in betas:
        for _ in range(sweeps_per_beta):
            for g in range(groups):
                m = _propose(model, choice, x, rng, r, g, swap_prob, chain_prob, cv, cd)
                if m == 3:
                    m = _chain_tail(model, x, lhs, tsum, cv, cd, dl, dt, tr, ts, mark_r, mark_s, lam, rng, r)
                if m == 0:
                    continue
                dobj, dviol, dbad, nr, ns = _delta(model, x, lhs, tsum, cv, cd, m, dl, dt, tr, ts, mark_r, mark_s, lam)
                de = dobj + dviol
                accept = de <= 0.0 or _uniform(rng, r) < np.exp(-beta * de)
                _finish(x, lhs, tsum, cv, cd, m, dl, dt, tr, ts, nr, ns, mark_r, mark_s, accept)
                if accept:
                    obj += dobj
                    bad += dbad
                    choice[g] = cv[1]
                    if m == 4:
                        choice[group_of[cv[3]]] = cv[3]
            for k in range(free.shape[0]):
                v = free[k]
                cv[0] = v
                cd[0] = 1.0 - 2.0 * x[v]
                dobj, dviol, dbad, nr, ns = _delta(model, x, lhs, tsum, cv, cd, 1, dl, dt, tr, ts, mark_r, mark_s, lam)
                de = dobj + dviol
                accept = de <= 0.0 or _uniform(rng, r) < np.exp(-beta * de)
                _finish(x, lhs, tsum, cv, cd, 1, dl, dt, tr, ts, nr, ns, mark_r, mark_s, accept)
                if accept:
                    obj += dobj
                    bad += dbad
            sweeps += 1
            if sweeps % REFRESH_SWEEPS == 0:
                obj, bad = _recompute(model, x, lhs, tsum)
            for q in range(lam.shape[0]):
                if bad == 0:
                    lam[q] = max(lam_floor, lam[q] / growth)
                elif _viol(lhs[q], lower[q], upper[q], tol[q]) > 0.0:
                    lam[q] *= growth
            if bad == 0 and obj < best_obj[r] - 1e-12 * (1.0 + abs(obj)):
                best_obj[r] = obj
                best_choice[:] = choice
                best_x[:] = x


@nb.njit(**JIT)
def descend_read(model, choice, x, lhs, tsum, rng, r, swap_tries, chain_tries, max_rounds):
    """Zero-temperature polish of one read: best reassignment of every group, then ``swap_tries`` random
    swaps and ``chain_tries`` random shift chains per group and single flips of free variables, accepted when
    they lower (violation, objective) lexicographically; rounds until none does (or ``max_rounds``). Returns
    the number of moves made."""
    (c, qptr, qidx, qval, acptr, acrow, acval, lower, upper, tol, bcptr, bcrow, bcval, targets, weights,
     gptr, gvar, gbin, pos, bins, free, group_of) = model
    groups = choice.shape[0]
    dl, dt, tr, ts, mark_r, mark_s, cv, cd = _scratch(lhs.shape[0], tsum.shape[0])
    lam = np.ones(lhs.shape[0])  # lexicographic: plain violation
    obj, bad = _recompute(model, x, lhs, tsum)
    eps = 1e-10 * (1.0 + abs(obj))
    moves = 0
    for _ in range(max_rounds):
        improved = 0
        for g in range(groups):
            u = choice[g]
            best_v, best_dv, best_do = -1, 0.0, -eps
            for k in range(gptr[g], gptr[g + 1]):
                v = gvar[k]
                if v == u:
                    continue
                cv[0], cv[1] = u, v
                cd[0], cd[1] = -1.0, 1.0
                dobj, dviol, dbad, nr, ns = _delta(model, x, lhs, tsum, cv, cd, 2, dl, dt, tr, ts, mark_r, mark_s, lam)
                _finish(x, lhs, tsum, cv, cd, 2, dl, dt, tr, ts, nr, ns, mark_r, mark_s, False)
                if dviol < best_dv - 1e-12 or (abs(dviol - best_dv) <= 1e-12 and dobj < best_do):
                    best_v, best_dv, best_do = v, dviol, dobj
            if best_v >= 0:
                cv[0], cv[1] = u, best_v
                cd[0], cd[1] = -1.0, 1.0
                dobj, dviol, dbad, nr, ns = _delta(model, x, lhs, tsum, cv, cd, 2, dl, dt, tr, ts, mark_r, mark_s, lam)
                _finish(x, lhs, tsum, cv, cd, 2, dl, dt, tr, ts, nr, ns, mark_r, mark_s, True)
                obj += dobj
                choice[g] = best_v
                improved += 1
            for t in range(swap_tries + chain_tries):
                m = _propose(model, choice, x, rng, r, g, 1.0 if t < swap_tries else 0.0, 1.0, cv, cd)
                if m == 3:
                    m = _chain_tail(model, x, lhs, tsum, cv, cd, dl, dt, tr, ts, mark_r, mark_s, lam, rng, r)
                if m == 0:
                    continue
                dobj, dviol, dbad, nr, ns = _delta(model, x, lhs, tsum, cv, cd, m, dl, dt, tr, ts, mark_r, mark_s, lam)
                ok = dviol < -1e-12 or (dviol <= 1e-12 and dobj < -eps)
                _finish(x, lhs, tsum, cv, cd, m, dl, dt, tr, ts, nr, ns, mark_r, mark_s, ok)
                if ok:
                    obj += dobj
                    choice[g] = cv[1]
                    choice[group_of[cv[3]]] = cv[3]
                    improved += 1
        for k in range(free.shape[0]):
            v = free[k]
            cv[0] = v
            cd[0] = 1.0 - 2.0 * x[v]
            dobj, dviol, dbad, nr, ns = _delta(model, x, lhs, tsum, cv, cd, 1, dl, dt, tr, ts, mark_r, mark_s, lam)
            ok = dviol < -1e-12 or (dviol <= 1e-12 and dobj < -eps)
            _finish(x, lhs, tsum, cv, cd, 1, dl, dt, tr, ts, nr, ns, mark_r, mark_s, ok)
            if ok:
                obj += dobj
                improved += 1
        moves += improved
        if improved == 0:
            break
    return moves


@nb.njit(**JIT)
def sample_deltas(model, choice, x, lhs, tsum, rng, count):
    """``count`` random moves of read 0's state, not applied: their (objective, violation) changes."""
    groups = choice.shape[0]
    dl, dt, tr, ts, mark_r, mark_s, cv, cd = _scratch(lhs.shape[0], tsum.shape[0])
    lam = np.ones(lhs.shape[0])
    free = model[20]
    out_obj = np.zeros(count)
    out_viol = np.zeros(count)
    _recompute(model, x, lhs, tsum)
    for k in range(count):
        if groups > 0 and (free.shape[0] == 0 or _below(rng, 0, 2) == 0):
            m = _propose(model, choice, x, rng, 0, _below(rng, 0, groups), 0.0, 0.0, cv, cd)
        else:
            v = free[_below(rng, 0, free.shape[0])]
            cv[0], cd[0], m = v, 1.0 - 2.0 * x[v], 1
        if m == 0:
            continue
        dobj, dviol, dbad, nr, ns = _delta(model, x, lhs, tsum, cv, cd, m, dl, dt, tr, ts, mark_r, mark_s, lam)
        _finish(x, lhs, tsum, cv, cd, m, dl, dt, tr, ts, nr, ns, mark_r, mark_s, False)
        out_obj[k], out_viol[k] = dobj, dviol
    return out_obj, out_viol
