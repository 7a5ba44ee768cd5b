"""The ELBO optima of two models for tests/advi.rs, by deterministic quadrature.

ADVI maximises ELBO(q) = E_q[log p(zeta)] + H[q] over normals q on the unconstrained space.
Here the expectation is a Gauss-Hermite tensor rule (60 points per coordinate, exact to far
below the tests' tolerances for these smooth integrands) and the optimum is found by scipy's
BFGS to a gradient of 1e-10, so the oracle involves no random draws and nothing of exmc's.

- normal: mu ~ Normal(0, 10), sigma ~ HalfNormal(2), y ~ Normal(mu, sigma) for six values;
  coordinates (mu, ln sigma). Mean-field (mu, omega) and full-rank (mu, L) optima.
- beta_binomial: p ~ Beta(2, 2), 7 successes in 10 Binomial trials; coordinate logit p (a skew
  posterior on that scale). One coordinate: the two families coincide.

Usage: python scripts/make_advi_oracle.py   (writes tests/data/advi_oracle.json)
"""

import json
import pathlib

import numpy as np
from scipy import optimize, special, stats

Y = np.array([0.8, 1.4, 1.1, 0.9, 1.7, 0.4])
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(60)
WEIGHTS = WEIGHTS / WEIGHTS.sum()


def log_p_normal(mu, s):
    """Unconstrained log density with the log-Jacobian of sigma = exp(s)."""
    sigma = np.exp(s)
    lp = stats.norm.logpdf(mu, 0, 10) + stats.halfnorm.logpdf(sigma, scale=2) + s
    return lp + stats.norm.logpdf(Y[:, None, None], mu, sigma).sum(axis=0)


def log_p_beta_binomial(u):
    p = special.expit(u)
    lp = stats.beta.logpdf(p, 2, 2) + stats.binom.logpmf(7, 10, p)
    # log-Jacobian of the logistic map: ln p + ln(1 - p).
    return lp - np.logaddexp(0, -u) - np.logaddexp(0, u)


def elbo_2d(params, full):
    m = params[:2]
    if full:
        l = np.array([[np.exp(params[2]), 0.0], [params[3], np.exp(params[4])]])
    else:
        l = np.diag(np.exp(params[2:4]))
    e1, e2 = np.meshgrid(NODES, NODES, indexing="ij")
    w = np.outer(WEIGHTS, WEIGHTS)
    z1 = m[0] + l[0, 0] * e1
    z2 = m[1] + l[1, 0] * e1 + l[1, 1] * e2
    return (w * log_p_normal(z1, z2)).sum() + np.log(abs(l[0, 0] * l[1, 1]))


def elbo_1d(params):
    m, omega = params
    return (WEIGHTS * log_p_beta_binomial(m + np.exp(omega) * NODES)).sum() + omega


def maximise(f, x0):
    r = optimize.minimize(lambda x: -f(x), x0, method="BFGS", options={"gtol": 1e-10})
    assert r.success or r.status == 2, r
    return r.x, -r.fun


def main():
    out = {}
    x, elbo = maximise(lambda p: elbo_2d(p, False), np.array([1.0, -0.5, -1.5, -1.0]))
    out["normal_meanfield"] = {"mean": x[:2].tolist(), "sd": np.exp(x[2:]).tolist(), "elbo": elbo}
    x, elbo = maximise(lambda p: elbo_2d(p, True), np.array([1.0, -0.5, -1.5, 0.0, -1.0]))
    l = np.array([[np.exp(x[2]), 0.0], [x[3], np.exp(x[4])]])
    out["normal_fullrank"] = {
        "mean": x[:2].tolist(),
        "sd": np.sqrt((l**2).sum(axis=1)).tolist(),
        "cov": (l @ l.T).ravel().tolist(),
        "elbo": elbo,
    }
    x, elbo = maximise(elbo_1d, np.array([0.5, -0.5]))
    out["beta_binomial"] = {"mean": [x[0]], "sd": [np.exp(x[1])], "elbo": elbo}
    path = pathlib.Path(__file__).resolve().parent.parent / "tests/data/advi_oracle.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
