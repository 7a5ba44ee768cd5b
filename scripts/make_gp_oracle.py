"""Reference posteriors of four Gaussian-process models for tests/gaussian_process.rs: simulated
data and PyMC's NUTS posterior summaries (pm.gp).

- marginal: 40 inputs x on [0, 10], y = sin(x) + 0.3 x + noise of sd 0.3;
  ls ~ Gamma(2, 1), eta ~ HalfNormal(2), sigma ~ HalfNormal(1),
  gp = pm.gp.Marginal(cov_func=eta**2 * ExpQuad(1, ls)), y ~ gp.marginal_likelihood(sigma).
  The process at 5 new inputs (gp.conditional, without noise) is drawn at every posterior draw.
- latent: 30 inputs on [0, 6], counts ~ Poisson(exp(0.5 + sin(x))); ls ~ Gamma(3, 2),
  eta ~ HalfNormal(1), c ~ Normal(0, 2), f = pm.gp.Latent(mean_func=Constant(c),
  cov_func=eta**2 * Matern52(1, ls)).prior(X), counts ~ Poisson(exp(f)); the process at 3 new
  inputs is drawn at every posterior draw.
- hsgp: 200 inputs on [-5, 5], y = sin(x) + 0.5 cos(2.3 x) + noise of sd 0.4;
  ls ~ InverseGamma(5, 5), eta ~ HalfNormal(1), sigma ~ HalfNormal(1),
  f = pm.gp.HSGP(m=[30], c=1.5, cov_func=eta**2 * Matern52(1, ls)).prior(X), y ~ Normal(f, sigma);
  the process at 3 new inputs (gp.conditional) at every posterior draw; target_accept 0.95
  (at 0.8 it has 26 divergences).
- rat_quad: 50 inputs on [0, 12], y = 0.6 sin(2 pi x / 4) + 0.2 x + noise of sd 0.25;
  ls ~ Gamma(2, 1), alpha ~ Gamma(2, 1), eta ~ HalfNormal(1), sigma ~ HalfNormal(1),
  gp = pm.gp.Marginal(cov_func=eta**2 * RatQuad(1, alpha, ls) + 0.25 * Matern12(1, 2)
  + WhiteNoise(0.1)), y ~ gp.marginal_likelihood(sigma); the process at 3 new inputs (its
  white noise included, as PyMC's conditional has it).

Deterministic data (fixed seed); the PyMC models are sampled by nutpie (PyMC's own sampler
without BLAS took over 25 minutes), 4 chains of 5000 draws after 1000 tuning steps
(target_accept 0.99 for the latent model: at 0.9 it has 55 divergences near a long lengthscale,
where the covariance is nearly singular, and eta's sd comes out 3% low), and PyMC draws the
predictions. ArviZ gives each quantity's posterior mean, standard
deviation, Monte Carlo standard errors of the mean and of the sd, and R-hat.

Usage: python scripts/make_gp_oracle.py   (writes tests/data/gp_oracle.json)
"""

import json
import pathlib

import arviz as az
import numpy as np
import nutpie
import pymc as pm

SEED = 20261208
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "gp_oracle.json"


def sample(model, target_accept):
    compiled = nutpie.compile_pymc_model(model)
    return nutpie.sample(compiled, draws=5000, tune=1000, chains=4, cores=2, seed=SEED,
                         target_accept=target_accept, progress_bar=False)


def summarize(idata, group, names):
    out = {}
    data = getattr(idata, group)
    summary = az.summary(data, var_names=names, round_to="none")
    for v in names:
        draws = data[v].values
        flat = draws.reshape(draws.shape[0] * draws.shape[1], -1)
        for e in range(flat.shape[1]):
            key = v if flat.shape[1] == 1 and draws.ndim == 2 else f"{v}[{e}]"
            out[key] = {
                "mean": float(flat[:, e].mean()),
                "sd": float(flat[:, e].std(ddof=1)),
                "mcse_mean": float(summary.loc[key, "mcse_mean"]),
                "mcse_sd": float(summary.loc[key, "mcse_sd"]),
                "r_hat": float(summary.loc[key, "r_hat"]),
            }
    return out


def record(out, name, m, gp, data, names, elems=(), target_accept=0.8):
    """Samples `m`, draws the process `gp` at `data["x_new"]` at every posterior draw (PyMC's
    conditional) and stores under `name` the data, the summaries of `names`, of the elements
    `elems` of the process `f` and of the predictions `f_new`, and the divergences."""
    idata = sample(m, target_accept)
    with m:
        gp.conditional("f_new", data["x_new"][:, None])
        pred = pm.sample_posterior_predictive(idata, var_names=["f_new"], random_seed=SEED, progressbar=False)
    post = summarize(idata, "posterior", names)
    if elems:
        f_draws = idata.posterior["f"].values
        fs = az.summary(idata, var_names=["f"], round_to="none")
        for e in elems:
            d = f_draws[:, :, e].ravel()
            post[f"f[{e}]"] = {"mean": float(d.mean()), "sd": float(d.std(ddof=1)),
                               "mcse_mean": float(fs.loc[f"f[{e}]", "mcse_mean"]),
                               "mcse_sd": float(fs.loc[f"f[{e}]", "mcse_sd"]),
                               "r_hat": float(fs.loc[f"f[{e}]", "r_hat"])}
    post.update(summarize(pred, "posterior_predictive", ["f_new"]))
    out["models"][name] = {
        **{k: v.tolist() for k, v in data.items()}, "posterior": post,
        "divergences": int(idata.sample_stats["diverging"].values.sum()),
    }
    print(name, {k: round(v["mean"], 3) for k, v in post.items()})


def main():
    rng = np.random.default_rng(SEED)
    out = {"pymc": pm.__version__, "models": {}}

    x = np.sort(rng.uniform(0, 10, size=40))
    y = np.sin(x) + 0.3 * x + rng.normal(0, 0.3, size=40)
    x_new = np.array([-1.0, 2.5, 5.0, 7.5, 11.0])
    with pm.Model() as m:
        ls = pm.Gamma("ls", 2, 1)
        eta = pm.HalfNormal("eta", 2)
        sigma = pm.HalfNormal("sigma", 1)
        gp = pm.gp.Marginal(cov_func=eta**2 * pm.gp.cov.ExpQuad(1, ls))
        gp.marginal_likelihood("y", X=x[:, None], y=y, sigma=sigma)
    record(out, "marginal", m, gp, {"x": x, "y": y, "x_new": x_new}, ["ls", "eta", "sigma"])

    x = np.linspace(0, 6, 30)
    counts = rng.poisson(np.exp(0.5 + np.sin(x))).astype(float)
    x_new = np.array([0.9, 3.1, 6.5])
    with pm.Model() as m:
        ls = pm.Gamma("ls", 3, 2)
        eta = pm.HalfNormal("eta", 1)
        c = pm.Normal("c", 0, 2)
        gp = pm.gp.Latent(mean_func=pm.gp.mean.Constant(c), cov_func=eta**2 * pm.gp.cov.Matern52(1, ls))
        f = gp.prior("f", X=x[:, None])
        pm.Poisson("y", mu=pm.math.exp(f), observed=counts)
    record(out, "latent", m, gp, {"x": x, "y": counts, "x_new": x_new}, ["ls", "eta", "c"], [0, 10, 20, 29], 0.99)

    x = np.sort(rng.uniform(-5, 5, size=200))
    y = np.sin(x) + 0.5 * np.cos(2.3 * x) + rng.normal(0, 0.4, size=200)
    x_new = np.array([-4.0, 0.3, 4.5])
    with pm.Model() as m:
        ls = pm.InverseGamma("ls", 5, 5)
        eta = pm.HalfNormal("eta", 1)
        sigma = pm.HalfNormal("sigma", 1)
        gp = pm.gp.HSGP(m=[30], c=1.5, cov_func=eta**2 * pm.gp.cov.Matern52(1, ls))
        f = gp.prior("f", X=x[:, None])
        pm.Normal("y", mu=f, sigma=sigma, observed=y)
    record(out, "hsgp", m, gp, {"x": x, "y": y, "x_new": x_new}, ["ls", "eta", "sigma"], [0, 100, 199], 0.95)

    x = np.sort(rng.uniform(0, 12, size=50))
    y = 0.6 * np.sin(2 * np.pi * x / 4) + 0.2 * x + rng.normal(0, 0.25, size=50)
    x_new = np.array([1.5, 6.2, 13.0])
    with pm.Model() as m:
        ls = pm.Gamma("ls", 2, 1)
        alpha = pm.Gamma("alpha", 2, 1)
        eta = pm.HalfNormal("eta", 1)
        sigma = pm.HalfNormal("sigma", 1)
        cov = (eta**2 * pm.gp.cov.RatQuad(1, alpha, ls) + 0.25 * pm.gp.cov.Matern12(1, 2.0)
               + pm.gp.cov.WhiteNoise(0.1))
        gp = pm.gp.Marginal(cov_func=cov)
        gp.marginal_likelihood("y", X=x[:, None], y=y, sigma=sigma)
    record(out, "rat_quad", m, gp, {"x": x, "y": y, "x_new": x_new}, ["ls", "alpha", "eta", "sigma"])

    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
