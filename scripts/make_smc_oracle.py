"""Oracle for `tests/smc.rs`: log marginal likelihoods and posterior moments by closed forms
and scipy's quadrature.

Run with the peers venv (scipy):  ~/.venvs/peers/bin/python scripts/make_smc_oracle.py

Each model here is built the same way in the Rust test. For each: `log_z`, the log marginal
likelihood log p(y) (every density normalised, a potential's exp(value) unnormalised, as in
PyMC's `sample_smc`); and posterior means and standard deviations of named quantities.
"""
import json
import os

import numpy as np
from scipy import integrate, special, stats

out = {}

# 1. A normal mean, known scale: y ~ N(0, I + 11').
y = np.array([0.8, 1.4, 1.1])
n = len(y)
out["normal_known"] = {
    "y": y.tolist(),
    "log_z": float(stats.multivariate_normal(np.zeros(n), np.eye(n) + np.ones((n, n))).logpdf(y)),
    "mean": {"mu": float(y.sum() / (n + 1))},
    "sd": {"mu": float(1 / np.sqrt(n + 1))},
}


def moments_1d(log_f, lo, hi, names):
    """log Z and posterior moments of g(x) for each name: g over a 1-d density exp(log_f)."""
    points = np.linspace(lo, hi, 9)[1:-1].tolist()
    z = integrate.quad(lambda x: np.exp(log_f(x)), lo, hi, points=points, epsabs=0, epsrel=1e-12, limit=500)[0]
    mean, sd = {}, {}
    for name, g in names.items():
        m1 = integrate.quad(lambda x: g(x) * np.exp(log_f(x)), lo, hi, points=points, epsabs=0, epsrel=1e-12, limit=500)[0] / z
        m2 = integrate.quad(lambda x: g(x) ** 2 * np.exp(log_f(x)), lo, hi, points=points, epsabs=0, epsrel=1e-12, limit=500)[0] / z
        mean[name], sd[name] = m1, float(np.sqrt(m2 - m1 * m1))
    return float(np.log(z)), mean, sd


def moments_2d(log_f, box, names):
    """The same over a 2-d density on box = ((x0, x1), (y0, y1))."""
    (a, b), (c, d) = box
    opts = {"epsabs": 0, "epsrel": 1e-10, "limit": 400}

    def integral(g):
        return integrate.nquad(lambda u, v: g(u, v) * np.exp(log_f(u, v)), [[a, b], [c, d]], opts=[opts, opts])[0]

    z = integral(lambda u, v: 1.0)
    mean, sd = {}, {}
    for name, g in names.items():
        m1 = integral(g) / z
        m2 = integral(lambda u, v: g(u, v) ** 2) / z
        mean[name], sd[name] = m1, float(np.sqrt(m2 - m1 * m1))
    return float(np.log(z)), mean, sd


# 2. A normal with unknown mean and scale: mu ~ N(0, 2), sigma ~ HalfNormal(1).
y = np.array([0.8, 1.4, 1.1, 0.9, 1.7, 0.4])
log_f = lambda mu, s: stats.norm.logpdf(mu, 0, 2) + stats.halfnorm.logpdf(s, scale=1) + stats.norm.logpdf(y, mu, s).sum()
log_z, mean, sd = moments_2d(log_f, ((-6, 8), (1e-9, 6)), {"mu": lambda m, s: m, "sigma": lambda m, s: s})
out["normal_unknown"] = {"y": y.tolist(), "log_z": log_z, "mean": mean, "sd": sd}

# 3. Eight schools (theta integrated out: y_j ~ N(mu, sigma_j^2 + tau^2)); tau's Cauchy tail
# beyond 2,000 holds under 1e-3 of the prior mass and a likelihood flat to 1e-4 there.
ys = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
ss = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def log_f8(mu, tau):
    return (
        stats.norm.logpdf(mu, 0, 5)
        + stats.halfcauchy.logpdf(tau, scale=5)
        + stats.norm.logpdf(ys, mu, np.sqrt(ss**2 + tau**2)).sum()
    )


def eight_schools():
    opts = {"epsabs": 0, "epsrel": 1e-10, "limit": 400}
    inner = lambda tau, g: integrate.quad(lambda mu: g(mu, tau) * np.exp(log_f8(mu, tau)), -40, 50, **opts)[0]
    total = lambda g: integrate.quad(lambda tau: inner(tau, g), 0, np.inf, points=None, **opts)[0]
    z = total(lambda m, t: 1.0)
    mean, sd = {}, {}
    for name, g in {"mu": lambda m, t: m, "tau": lambda m, t: t}.items():
        m1 = total(g) / z
        m2 = total(lambda m, t: g(m, t) ** 2) / z if name == "mu" else float("nan")
        mean[name], sd[name] = m1, float(np.sqrt(m2 - m1 * m1)) if name == "mu" else None
    return float(np.log(z)), mean, sd


log_z, mean, sd = eight_schools()
out["eight_schools"] = {"y": ys.tolist(), "sigma": ss.tolist(), "log_z": log_z, "mean": mean, "sd": {"mu": sd["mu"]}}

# 4. Categorical draws with a Dirichlet prior: the Dirichlet-multinomial sequence evidence.
alpha = np.array([1.0, 2.0, 3.0])
cats = np.array([0, 2, 2, 1, 2, 0, 2, 1, 2, 2])
counts = np.bincount(cats, minlength=3)
post = alpha + counts
out["dirichlet_categorical"] = {
    "alpha": alpha.tolist(),
    "y": cats.astype(float).tolist(),
    "log_z": float(
        special.gammaln(alpha.sum()) - special.gammaln(post.sum()) + (special.gammaln(post) - special.gammaln(alpha)).sum()
    ),
    "mean": {f"p[{k}]": float(post[k] / post.sum()) for k in range(3)},
    "sd": {f"p[{k}]": float(np.sqrt(stats.beta(post[k], post.sum() - post[k]).var())) for k in range(3)},
}

# 5. Binomial counts with a Beta prior.
trials, succ = 10, np.array([7.0, 6.0])
a, b = 2.0, 3.0
k = succ.sum()
out["beta_binomial"] = {
    "trials": trials,
    "y": succ.tolist(),
    "log_z": float(
        sum(np.log(special.comb(trials, s)) for s in succ)
        + special.betaln(a + k, b + 2 * trials - k)
        - special.betaln(a, b)
    ),
    "mean": {"p": float((a + k) / (a + b + 2 * trials))},
    "sd": {"p": float(stats.beta(a + k, b + 2 * trials - k).std())},
}

# 6. Two modes: mu ~ N(0, 2), y ~ N(mu^2, 0.5): modes at about +-1.
y = np.array([1.1, 0.9, 1.0])
log_f = lambda mu: stats.norm.logpdf(mu, 0, 2) + stats.norm.logpdf(y, mu * mu, 0.5).sum()
log_z, mean, sd = moments_1d(log_f, -6, 6, {"abs_mu": abs, "mu": lambda x: x})
out["bimodal"] = {"y": y.tolist(), "log_z": log_z, "mean": mean, "sd": sd}

# 7. A potential, tempered with the likelihood: mu ~ N(0, 1), exp(-((mu - 2) / 0.5)^2 / 2).
y = np.array([0.5])
log_f = lambda mu: stats.norm.logpdf(mu, 0, 1) - 0.5 * ((mu - 2) / 0.5) ** 2 + stats.norm.logpdf(y, mu, 1).sum()
log_z, mean, sd = moments_1d(log_f, -8, 10, {"mu": lambda x: x})
out["potential"] = {"y": y.tolist(), "log_z": log_z, "mean": mean, "sd": sd}

# 8. A regression whose noise scale collapses late in the tempering (posteriordb's sblrc-blr
# in shape): beta ~ N(0, 10) (5 coefficients), sigma ~ HalfNormal(10), y ~ N(X beta, sigma),
# 100 rows of predictors on a scale of 100. Given sigma, y ~ N(0, sigma^2 I + 100 X X'),
# by Woodbury's identity; sigma by quadrature.
rng = np.random.default_rng(20261208)
n, d = 100, 5
mix = np.eye(d) + 0.4 * rng.normal(size=(d, d))
X = np.round(100 * rng.normal(size=(n, d)) @ mix, 3)
beta_true = rng.normal(size=d)
y = np.round(X @ beta_true + rng.normal(size=n), 6)
XtX, Xty, yty = X.T @ X, X.T @ y, y @ y


def log_lik_sigma(s):
    s2 = s * s
    logdet = n * np.log(s2) + np.linalg.slogdet(np.eye(d) + 100 / s2 * XtX)[1]
    q = (yty - Xty @ np.linalg.solve(s2 / 100 * np.eye(d) + XtX, Xty)) / s2
    return -0.5 * n * np.log(2 * np.pi) - 0.5 * logdet - 0.5 * q


log_f = lambda s: stats.halfnorm.logpdf(s, scale=10) + log_lik_sigma(s)
peak = max(np.linspace(0.05, 20, 4000), key=log_f)
shifted = lambda s: log_f(s) - log_f(peak)
log_z, mean, sd = moments_1d(shifted, peak / 4, peak * 4, {"sigma": lambda s: s})
out["regression"] = {
    "X": X.ravel().tolist(),
    "y": y.tolist(),
    "log_z": log_z + float(log_f(peak)),
    "mean": mean,
    "sd": sd,
}

path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "smc_oracle.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(json.dumps({k: v["log_z"] for k, v in out.items()}, indent=1))
