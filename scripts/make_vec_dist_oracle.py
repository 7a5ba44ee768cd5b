#!/usr/bin/env python3
"""Generate tests/data/vec_dist_oracle.json: log densities of exmc's vector families from scipy.

Deterministic (fixed seed); 24 points per family. Dirichlet, MvNormal, Categorical (shared or one row per
observation), Multinomial, DirichletMultinomial and MvStudentT come from
scipy.stats (dirichlet, multivariate_normal, multinomial with one trial, multinomial,
dirichlet_multinomial, multivariate_t); NormalMixture from
scipy.special.logsumexp over scipy.stats.norm's log densities; OrderedLogistic and OrderedProbit
from scipy.stats.logistic's and scipy.stats.norm's log cdf and log sf (a difference of two cdfs, or of two sfs in the upper
tail, where each keeps its digits). The LKJ Cholesky
density is written out independently of exmc's formula: the normalising constant in the
Beta-function form of Lewandowski, Kurowicka and Joe (2009, eq. 16), log det R from
numpy.linalg.slogdet of R = L Lᵀ, and the Jacobian of R ↦ L, Σᵢ (K − i) ln Lᵢᵢ (rows from 1).
ZeroSumNormal: scipy.stats.multivariate_normal of the zero-sum plane's coordinates in Helmert's
orthonormal basis (scipy.linalg.helmert). The mixtures of one scalar family (PoissonMixture,
GammaMixture, ...): scipy.special.logsumexp of ln w plus the components' scipy log densities
(poisson, nbinom with n = alpha and p = alpha/(mu + alpha), expon, gamma, lognorm, t, beta).
CAR: scipy.stats.multivariate_normal with the inverse of the precision tau (D - alpha W) built
from W; ICAR: the Helmert coordinates of the plane under the Laplacian precision (no
eigenvalues: exmc's spectrum is not used).

Usage: python scripts/make_vec_dist_oracle.py   (writes tests/data/vec_dist_oracle.json)
"""

import json
import math
import pathlib

import numpy as np
import scipy
from scipy import linalg, special, stats

SEED = 20261201
N = 24
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "vec_dist_oracle.json"
rng = np.random.default_rng(SEED)


def flat(a):
    return [float(v) for v in np.asarray(a).ravel()]


def dirichlet_points():
    out = []
    for i in range(N):
        k = int(rng.integers(2, 7))
        rows = int(rng.integers(1, 4))
        alpha = np.exp(rng.uniform(math.log(0.05), math.log(30.0), size=k))
        if i % 6 == 5:
            # A scalar alpha is symmetric over one simplex of the value's length.
            alpha = np.full(1, float(np.exp(rng.uniform(-2, 2))))
            alpha_k = np.full(k, alpha[0])
            rows = 1
        else:
            alpha_k = alpha
        xs = stats.dirichlet(np.maximum(alpha_k, 0.5)).rvs(rows, random_state=rng)
        xs = np.clip(xs, 1e-12, None)
        xs = xs / xs.sum(axis=1, keepdims=True)
        logp = sum(float(stats.dirichlet(alpha_k).logpdf(x)) for x in xs)
        out.append({"x": flat(xs), "params": [flat(alpha)], "logp": logp})
    return out


def random_chol(k):
    a = rng.normal(size=(k, k))
    cov = a @ a.T + np.diag(np.exp(rng.uniform(-2, 1, size=k)))
    return cov, np.linalg.cholesky(cov)


def random_mean(i, k, rows):
    """A mean shared by the rows (i % 3 == 0), a scalar (1) or a row each (2), and its rows."""
    mode = i % 3
    if mode == 0:
        mu = rng.normal(size=k) * 2
        return mu, np.tile(mu, (rows, 1))
    if mode == 1:
        mu = np.full(1, rng.normal())
        return mu, np.full((rows, k), mu[0])
    mu = rng.normal(size=(rows, k))
    return mu, mu


def mv_normal_points(by_cov):
    out = []
    for i in range(N):
        k = int(rng.integers(2, 6))
        rows = int(rng.integers(1, 4))
        cov, l = random_chol(k)
        mu, mus = random_mean(i, k, rows)
        xs = mus + (l @ rng.normal(size=(k, rows))).T * rng.uniform(0.3, 3.0)
        logp = sum(float(stats.multivariate_normal(mus[r], cov).logpdf(xs[r])) for r in range(rows))
        second = cov if by_cov else l
        out.append({"x": flat(xs), "params": [flat(mu), flat(second)], "logp": logp})
    return out


def lkj_log_c(k, eta):
    """ln of the LKJ normalising constant c_K(η) (density of R is det(R)^(η-1) / c), eq. 16."""
    s = 0.0
    for j in range(1, k):
        s += (2 * eta - 2 + k - j) * (k - j) * math.log(2.0)
        b = eta + 0.5 * (k - j - 1)
        s += (k - j) * special.betaln(b, b)
    return s


def lkj_points():
    # The constant's Beta form against direct integration for K = 2: ∫(1 − r²)^(η − 1) dr.
    for eta in [0.5, 1.0, 2.7]:
        direct = scipy.integrate.quad(lambda r: (1 - r * r) ** (eta - 1), -1, 1)[0]
        assert abs(lkj_log_c(2, eta) - math.log(direct)) < 1e-7, eta
    out = []
    for i in range(N):
        k = int(rng.integers(2, 7))
        eta = float(np.exp(rng.uniform(math.log(0.3), math.log(20.0))))
        if i % 8 == 0:
            eta = 1.0
        # A random correlation matrix and its Cholesky factor.
        a = rng.normal(size=(k, k + int(rng.integers(0, 4))))
        c = a @ a.T
        d = np.sqrt(np.diag(c))
        r = c / np.outer(d, d)
        l = np.linalg.cholesky(r)
        logdet = np.linalg.slogdet(r)[1]
        jac = sum((k - i) * math.log(l[i - 1, i - 1]) for i in range(1, k + 1))
        logp = (eta - 1) * logdet - lkj_log_c(k, eta) + jac
        out.append({"x": flat(l), "params": [[float(k)], [eta]], "logp": float(logp)})
    return out


def categorical_points(logits):
    out = []
    for _ in range(N):
        k = int(rng.integers(2, 8))
        n = int(rng.integers(1, 30))
        if logits:
            par = rng.normal(size=k) * 3
            p = special.softmax(par)
        else:
            par = rng.uniform(0.01, 5.0, size=k)
            p = par / par.sum()
        y = rng.integers(0, k, size=n)
        m = stats.multinomial(1, p)
        logp = sum(float(m.logpmf(np.eye(k)[c])) for c in y)
        out.append({"x": [float(c) for c in y], "params": [flat(par)], "logp": logp})
    return out


def categorical_row_points(logits):
    """A row of parameters per observation: observation i has row i of an n × K matrix."""
    out = []
    for _ in range(N):
        k = int(rng.integers(2, 8))
        n = int(rng.integers(1, 30))
        if logits:
            par = rng.normal(size=(n, k)) * 3
            p = special.softmax(par, axis=1)
        else:
            par = rng.uniform(0.01, 5.0, size=(n, k))
            p = par / par.sum(axis=1, keepdims=True)
        y = rng.integers(0, k, size=n)
        logp = sum(float(stats.multinomial(1, p[i]).logpmf(np.eye(k)[c])) for i, c in enumerate(y))
        out.append({"x": [float(c) for c in y], "params": [flat(par)], "logp": logp})
    return out


def normal_mixture_points():
    """Each value from one of K normals; some with one shared mean or scale, some far in a tail
    (where every component's log density is huge and negative: the log-sum-exp must hold)."""
    out = []
    for i in range(N):
        k = int(rng.integers(1, 5))
        n = int(rng.integers(1, 20))
        w = rng.dirichlet(np.full(k, 2.0))
        mu = rng.normal(size=k) * 3
        sigma = np.exp(rng.uniform(math.log(0.1), math.log(5.0), size=k))
        if i % 7 == 3:
            mu = mu[:1]
        if i % 5 == 4:
            sigma = sigma[:1]
        mu_k = np.broadcast_to(mu, (k,))
        sigma_k = np.broadcast_to(sigma, (k,))
        comp = rng.choice(k, size=n, p=w)
        x = mu_k[comp] + sigma_k[comp] * rng.normal(size=n)
        if i % 6 == 2:
            x[0] = mu_k.max() + 80.0 * sigma_k.max()
        logp = sum(
            float(special.logsumexp(np.log(w) + stats.norm(mu_k, sigma_k).logpdf(v))) for v in x
        )
        out.append({"x": flat(x), "params": [flat(w), flat(mu), flat(sigma)], "logp": logp})
    return out


def log_diff(la, lb):
    """ln(e^la - e^lb) for la > lb."""
    return la + math.log1p(-math.exp(lb - la))


def ordinal_points(law):
    """K - 1 increasing cut points; a linear predictor per observation (or one shared); some
    cut points a hair apart, and some predictors far beyond every cut point. `law` is the
    latent variable's (scipy.stats.logistic or norm)."""
    out = []
    for i in range(N):
        k = int(rng.integers(2, 7))
        n = int(rng.integers(1, 20))
        c = np.sort(rng.normal(size=k - 1) * 2.5)
        if i % 5 == 2 and k > 2:
            c[1] = c[0] + 1e-3
        eta = rng.normal(size=n) * 2
        if i % 6 == 4:
            eta = eta[:1]
        if i % 7 == 5:
            eta[0] = 30.0 if i % 2 else -30.0
        eta_n = np.broadcast_to(eta, (n,))
        y = [int(rng.integers(0, k)) for _ in range(n)]
        logp = 0.0
        for e, yi in zip(eta_n, y):
            if yi == 0:
                logp += float(law.logcdf(c[0] - e))
            elif yi == k - 1:
                logp += float(law.logsf(c[k - 2] - e))
            elif c[yi - 1] - e > 0:
                logp += log_diff(float(law.logsf(c[yi - 1] - e)), float(law.logsf(c[yi] - e)))
            else:
                logp += log_diff(float(law.logcdf(c[yi] - e)), float(law.logcdf(c[yi - 1] - e)))
        out.append({"x": [float(v) for v in y], "params": [flat(eta), flat(c)], "logp": logp})
    return out


def zero_sum_normal_points():
    """Zero-sum vectors of 2 to 20 values: the density on the plane is that of the plane's
    coordinates in an orthonormal basis (Helmert's, scipy.linalg.helmert) under
    N(0, sigma^2 I), a basis independent of exmc's transform; some values far out."""
    out = []
    for i in range(N):
        n = int(rng.integers(2, 21))
        sigma = float(np.exp(rng.uniform(math.log(0.05), math.log(20.0))))
        z = rng.normal(size=n) * sigma
        if i % 6 == 3:
            z[0] += 40.0 * sigma
        x = z - z.mean()
        y = linalg.helmert(n) @ x
        logp = float(stats.multivariate_normal(np.zeros(n - 1), sigma**2 * np.eye(n - 1)).logpdf(y))
        out.append({"x": flat(x), "params": [[sigma]], "logp": logp})
    return out


def counts_layout(i, per_row, n_rows):
    """exmc's `n` for draws of `n_rows` trials: one value per draw, or one shared when the
    draws share their trials and their parameter (a row of parameters per draw needs an `n`
    per draw at this level: the model's validation repeats a shared one)."""
    if len(n_rows) > 1 and (i % 2 == 0 or per_row):
        return [float(v) for v in n_rows]
    return [float(n_rows[0])]


def multinomial_points():
    """Counts of 1 to 3 draws over 2 to 6 categories from scipy.stats.multinomial (p
    normalised; exmc is given unnormalised weights in half the points), some with a category of
    probability zero that is not observed, some of 1000 trials; p shared or one row per draw."""
    out = []
    for i in range(N):
        k = int(rng.integers(2, 7))
        rows = int(rng.integers(1, 4))
        per_row = i % 3 == 1
        ps = rng.dirichlet(np.full(k, 2.0), size=rows if per_row else 1)
        if i % 5 == 2:
            ps[:, 0] = 0.0
            ps = ps / ps.sum(axis=1, keepdims=True)
        trials = [int(rng.integers(0, 30)) if i % 4 else int(rng.integers(500, 1500)) for _ in range(rows)]
        if i % 2 == 1:
            trials = [trials[0]] * rows
        xs, logp = [], 0.0
        for r in range(rows):
            pr = ps[r if per_row else 0]
            x = rng.multinomial(trials[r], pr)
            xs.append(x)
            logp += float(stats.multinomial(trials[r], pr).logpmf(x))
        scale = float(np.exp(rng.uniform(-3, 3))) if i % 2 else 1.0
        n = counts_layout(i, per_row, trials)
        out.append({"x": flat(np.array(xs)), "params": [n, flat(ps * scale)], "logp": logp})
    return out


def dirichlet_multinomial_points():
    """Counts of 1 to 3 draws over 2 to 6 categories from scipy.stats.dirichlet_multinomial,
    concentrations from 0.05 to 2000 (small and large counts reach both of exmc's forms of
    ln Γ(a + x) - ln Γ(a)); a shared or one row per draw."""
    out = []
    for i in range(N):
        k = int(rng.integers(2, 7))
        rows = int(rng.integers(1, 4))
        per_row = i % 3 == 1
        a = np.exp(rng.uniform(math.log(0.05), math.log(2000.0), size=(rows if per_row else 1, k)))
        trials = [int(rng.integers(0, 30)) if i % 4 else int(rng.integers(100, 800)) for _ in range(rows)]
        if i % 2 == 1:
            trials = [trials[0]] * rows
        xs, logp = [], 0.0
        for r in range(rows):
            ar = a[r if per_row else 0]
            x = rng.multinomial(trials[r], rng.dirichlet(ar))
            xs.append(x)
            logp += float(stats.dirichlet_multinomial(ar, trials[r]).logpmf(x))
        n = counts_layout(i, per_row, trials)
        out.append({"x": flat(np.array(xs)), "params": [n, flat(a)], "logp": logp})
    return out


def mv_student_t_points():
    """scipy.stats.multivariate_t: 1 to 3 rows of 2 to 5 dimensions, nu from 0.5 to 200, a mean
    shared, scalar or per row, rows drawn from the distribution and some far out."""
    out = []
    for i in range(N):
        k = int(rng.integers(2, 6))
        rows = int(rng.integers(1, 4))
        cov, l = random_chol(k)
        nu = float(np.exp(rng.uniform(math.log(0.5), math.log(200.0))))
        mu, mus = random_mean(i, k, rows)
        d = [stats.multivariate_t(mus[r], cov, df=nu) for r in range(rows)]
        xs = np.array([d[r].rvs(random_state=rng) for r in range(rows)]).reshape(rows, k)
        if i % 4 == 0:
            xs = mus + (xs - mus) * 10.0
        logp = sum(float(d[r].logpdf(xs[r])) for r in range(rows))
        out.append({"x": flat(xs), "params": [[nu], flat(mu), flat(l)], "logp": logp})
    return out


# Per component family: scipy's law from per-component parameters, a random parameter set for
# K components, and a value far in a tail (where every component's log density is large and
# negative, or, for the counts, a large count).
MIXTURE_COMPONENTS = {
    "poisson": (
        lambda mu: stats.poisson(mu),
        lambda k: [np.exp(rng.uniform(math.log(0.1), math.log(50.0), size=k))],
        lambda ps: float(np.floor(np.max(ps[0]) * 6 + 40)),
    ),
    "negative_binomial": (
        lambda mu, alpha: stats.nbinom(alpha, alpha / (mu + alpha)),
        lambda k: [
            np.exp(rng.uniform(math.log(0.1), math.log(50.0), size=k)),
            np.exp(rng.uniform(math.log(0.2), math.log(50.0), size=k)),
        ],
        lambda ps: float(np.floor(np.max(ps[0]) * 30 + 200)),
    ),
    "exponential": (
        lambda lam: stats.expon(scale=1.0 / lam),
        lambda k: [np.exp(rng.uniform(math.log(0.1), math.log(10.0), size=k))],
        lambda ps: float(80.0 / np.min(ps[0])),
    ),
    "gamma": (
        lambda alpha, beta: stats.gamma(alpha, scale=1.0 / beta),
        lambda k: [
            np.exp(rng.uniform(math.log(0.3), math.log(20.0), size=k)),
            np.exp(rng.uniform(math.log(0.1), math.log(10.0), size=k)),
        ],
        lambda ps: float(np.max(ps[0] / ps[1]) * 60 + 50),
    ),
    "log_normal": (
        lambda mu, sigma: stats.lognorm(sigma, scale=np.exp(mu)),
        lambda k: [rng.normal(size=k) * 2, np.exp(rng.uniform(math.log(0.1), math.log(2.0), size=k))],
        lambda ps: float(np.exp(np.max(ps[0]) + 30 * np.max(ps[1]))),
    ),
    "student_t": (
        lambda nu, mu, sigma: stats.t(nu, loc=mu, scale=sigma),
        lambda k: [
            np.exp(rng.uniform(math.log(0.5), math.log(100.0), size=k)),
            rng.normal(size=k) * 3,
            np.exp(rng.uniform(math.log(0.1), math.log(5.0), size=k)),
        ],
        lambda ps: float(np.max(ps[1]) + 1e4 * np.max(ps[2])),
    ),
    "beta": (
        lambda alpha, beta: stats.beta(alpha, beta),
        lambda k: [
            np.exp(rng.uniform(math.log(0.3), math.log(30.0), size=k)),
            np.exp(rng.uniform(math.log(0.3), math.log(30.0), size=k)),
        ],
        lambda ps: 1e-6,
    ),
}


def mixture_points(component):
    """Each value from one of K components of one scipy law; some points with one parameter
    shared by every component (given as one value), some with a value far in a tail. The
    density is scipy.special.logsumexp of ln w plus the components' scipy log densities."""
    law, params, tail = MIXTURE_COMPONENTS[component]
    out = []
    for i in range(N):
        k = int(rng.integers(1, 5))
        n = int(rng.integers(1, 20))
        w = rng.dirichlet(np.full(k, 2.0))
        ps = params(k)
        # One parameter shared: the first at every 7th point, the last at every 5th.
        if i % 7 == 3:
            ps[0] = ps[0][:1]
        if i % 5 == 4:
            ps[-1] = ps[-1][:1]
        full = [np.broadcast_to(p, (k,)) for p in ps]
        comp = rng.choice(k, size=n, p=w)
        x = np.array([float(law(*[f[c] for f in full]).rvs(random_state=rng)) for c in comp])
        if i % 6 == 2:
            x[0] = tail(full)
        logp = 0.0
        for v in x:
            dens = [law(*[f[j] for f in full]) for j in range(k)]
            lk = [d.logpmf(v) if hasattr(d, "logpmf") else d.logpdf(v) for d in dens]
            logp += float(special.logsumexp(np.log(w) + np.array(lk)))
        out.append({"x": flat(x), "params": [flat(w)] + [flat(p) for p in ps], "logp": logp})
    return out


def random_graph(k, connected):
    """A symmetric adjacency matrix of k areas, zero diagonal: a random spanning tree (so
    every area has a neighbour; the graph is connected) plus random extra edges, binary or
    with weights in [0.2, 3]; unless `connected`, sometimes two parts."""
    w = np.zeros((k, k))
    split = k if connected or k < 4 or rng.uniform() < 0.5 else int(rng.integers(2, k - 1))
    for part in ([range(split)] if split == k else [range(split), range(split, k)]):
        nodes = list(part)
        order = [nodes[t] for t in rng.permutation(len(nodes))]
        for t in range(1, len(order)):
            j = order[int(rng.integers(0, t))]
            w[order[t], j] = w[j, order[t]] = 1.0
        for a in nodes:
            for b in nodes:
                if a < b and rng.uniform() < 0.3:
                    w[a, b] = w[b, a] = 1.0
    if rng.uniform() < 0.5:
        weights = rng.uniform(0.2, 3.0, size=(k, k))
        w = w * np.triu(weights, 1)
        w = w + w.T
    return w


def car_points():
    """CAR: scipy.stats.multivariate_normal with mean mu and covariance inv(tau (D - alpha W)),
    the precision built from W directly (D its row sums); graphs of 2 to 9 areas, some of two
    parts, alpha in (-1, 1), mu scalar or one per area; some values far out."""
    out = []
    for i in range(N):
        k = int(rng.integers(2, 10))
        w = random_graph(k, False)
        d = np.diag(w.sum(axis=1))
        alpha = float(rng.uniform(-0.99, 0.99))
        tau = float(np.exp(rng.uniform(math.log(0.05), math.log(20.0))))
        mu = np.array([float(rng.normal())]) if i % 3 == 0 else rng.normal(size=k)
        cov = np.linalg.inv(tau * (d - alpha * w))
        x = stats.multivariate_normal(np.broadcast_to(mu, (k,)), cov).rvs(random_state=rng)
        x = np.atleast_1d(x)
        if i % 6 == 4:
            x[0] += 30.0 / math.sqrt(tau)
        logp = float(stats.multivariate_normal(np.broadcast_to(mu, (k,)), cov).logpdf(x))
        out.append({"x": flat(x), "params": [flat(mu), flat(w), [alpha], [tau]], "logp": logp})
    return out


def icar_points():
    """ICAR on a connected graph of 2 to 9 areas: the density on the zero-sum plane is that of
    the plane's coordinates in Helmert's orthonormal basis H under the normal of precision
    H (D - W) H^T / sigma^2 (scipy.stats.multivariate_normal), a basis independent of exmc's
    transform and spectrum; some values far out."""
    out = []
    for i in range(N):
        k = int(rng.integers(2, 10))
        w = random_graph(k, True)
        q = np.diag(w.sum(axis=1)) - w
        sigma = float(np.exp(rng.uniform(math.log(0.05), math.log(20.0))))
        h = linalg.helmert(k)
        prec = h @ q @ h.T / sigma**2
        y = stats.multivariate_normal(np.zeros(k - 1), np.linalg.inv(prec)).rvs(random_state=rng)
        y = np.atleast_1d(y)
        if i % 6 == 4:
            y[0] += 30.0 * sigma
        x = h.T @ y
        logp = float(stats.multivariate_normal(np.zeros(k - 1), np.linalg.inv(prec)).logpdf(h @ x))
        out.append({"x": flat(x), "params": [flat(w), [sigma]], "logp": logp})
    return out


def main():
    data = {
        "scipy": scipy.__version__,
        "families": {
            "dirichlet": dirichlet_points(),
            "mv_normal": mv_normal_points(False),
            "mv_normal_cov": mv_normal_points(True),
            "lkj_cholesky": lkj_points(),
            "categorical": categorical_points(False),
            "categorical_logit": categorical_points(True),
            "categorical_rows": categorical_row_points(False),
            "categorical_logit_rows": categorical_row_points(True),
            "normal_mixture": normal_mixture_points(),
            "ordered_logistic": ordinal_points(stats.logistic),
            "ordered_probit": ordinal_points(stats.norm),
            "zero_sum_normal": zero_sum_normal_points(),
            "multinomial": multinomial_points(),
            "dirichlet_multinomial": dirichlet_multinomial_points(),
            "mv_student_t": mv_student_t_points(),
            **{f"{c}_mixture": mixture_points(c) for c in MIXTURE_COMPONENTS},
            "car": car_points(),
            "icar": icar_points(),
        },
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
