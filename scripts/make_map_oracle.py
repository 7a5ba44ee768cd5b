"""Maximum a posteriori points and Laplace approximations from PyMC for tests/optimize_pymc.rs.

- robust: a Student-t regression, 60 observations with two predictors; alpha ~ Normal(0, 5),
  beta ~ Normal(0, 2) (2), sigma ~ HalfNormal(2), nu ~ Gamma(2, 0.1),
  y ~ StudentT(nu, alpha + X beta, sigma).
- negbin: overdispersed counts, 80 observations with one predictor; a ~ Normal(0, 2),
  b ~ Normal(0, 1), phi ~ Exponential(0.5), y ~ NegativeBinomial(mu=exp(a + b x), alpha=phi).
- proportions: 4 groups' successes, theta ~ Beta(2, 2) (4), y ~ Binomial(n, theta); and
  counts of three outcomes, p ~ Dirichlet(2, 2, 2), counts ~ Multinomial(N, p).

For each model: pm.find_MAP (L-BFGS-B over the unconstrained space without the Jacobian,
tightened to ftol 1e-15, gtol 1e-12) gives the constrained values; scipy's L-BFGS-B on
model.compile_logp(jacobian=True) gives the mode over the unconstrained space, and
model.compile_d2logp(jacobian=True) the exact Hessian there, whose negated inverse is the
Laplace approximation's covariance (over PyMC's value variables, in model order).

Deterministic data (fixed seed).

Usage: python scripts/make_map_oracle.py   (writes tests/data/map_oracle.json)
"""

import json
import pathlib

import numpy as np
import pymc as pm
from pymc.blocking import DictToArrayBijection
from scipy import optimize

SEED = 20261207
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "map_oracle.json"
TIGHT = dict(ftol=1e-15, gtol=1e-12, maxiter=100000, maxfun=100000)


def robust(rng):
    n = 60
    x = rng.normal(size=(n, 2))
    y = 1.0 + 0.5 * x[:, 0] - 1.2 * x[:, 1] + 0.8 * rng.standard_t(3, size=n)
    with pm.Model() as m:
        alpha = pm.Normal("alpha", 0, 5)
        beta = pm.Normal("beta", 0, 2, shape=2)
        sigma = pm.HalfNormal("sigma", 2)
        nu = pm.Gamma("nu", 2, 0.1)
        pm.StudentT("y", nu=nu, mu=alpha + pm.math.dot(x, beta), sigma=sigma, observed=y)
    return m, {"x": x.ravel().tolist(), "y": y.tolist()}


def negbin(rng):
    n = 80
    x = rng.normal(size=n)
    mu = np.exp(1.2 + 0.6 * x)
    y = rng.negative_binomial(3.0, 3.0 / (3.0 + mu))
    with pm.Model() as m:
        a = pm.Normal("a", 0, 2)
        b = pm.Normal("b", 0, 1)
        phi = pm.Exponential("phi", 0.5)
        pm.NegativeBinomial("y", mu=pm.math.exp(a + b * x), alpha=phi, observed=y)
    return m, {"x": x.tolist(), "y": y.astype(float).tolist()}


def proportions(rng):
    trials = np.array([20, 35, 12, 50])
    successes = rng.binomial(trials, [0.3, 0.45, 0.2, 0.6])
    counts = np.array([14, 30, 9])
    with pm.Model() as m:
        theta = pm.Beta("theta", 2, 2, shape=4)
        pm.Binomial("y", n=trials, p=theta, observed=successes)
        p = pm.Dirichlet("p", a=np.array([2.0, 2.0, 2.0]))
        pm.Multinomial("counts", n=int(counts.sum()), p=p, observed=counts)
    return m, {"trials": trials.astype(float).tolist(), "y": successes.astype(float).tolist(),
               "counts": counts.astype(float).tolist()}


def laplace(m):
    """The mode over the unconstrained space (with the Jacobian) and the covariance there."""
    start = m.initial_point()
    x0 = DictToArrayBijection.map(start)
    logp = m.compile_logp(jacobian=True)
    dlogp = m.compile_dlogp(jacobian=True)
    d2logp = m.compile_d2logp(jacobian=True, negate_output=False)

    def point(u):
        return DictToArrayBijection.rmap(x0._replace(data=u))

    res = optimize.minimize(lambda u: -logp(point(u)), x0.data, jac=lambda u: -dlogp(point(u)),
                            method="L-BFGS-B", options=TIGHT)
    hess = d2logp(point(res.x))
    cov = np.linalg.inv(-hess)
    names = [v.name for v in m.value_vars]
    return {"u": res.x.tolist(), "value_vars": names, "covariance": cov.ravel().tolist(),
            "grad_norm": float(np.linalg.norm(dlogp(point(res.x))))}


def main():
    rng = np.random.default_rng(SEED)
    out = {}
    for name, make in [("robust", robust), ("negbin", negbin), ("proportions", proportions)]:
        m, data = make(rng)
        with m:
            mp = pm.find_MAP(progressbar=False, maxeval=100000, options=TIGHT)
        values = {v.name: np.atleast_1d(mp[v.name]).tolist() for v in m.free_RVs}
        out[name] = {"data": data, "map": values, "laplace": laplace(m)}
        print(name, values)
    OUT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
