//! Sequential Monte Carlo (`sample_smc`) against closed forms and scipy's quadrature
//! (`scripts/make_smc_oracle.py` → `tests/data/smc_oracle.json`): each model's log marginal
//! likelihood and posterior moments. Tolerances come from the spread of 16 independent chains
//! (4 seeds × 4 chains): an average over chains is within [`T_999`] standard errors of its
//! oracle (plus, for the log evidence, the `var/2` by which the log of an unbiased estimate
//! falls short on average).

mod common;

use exmc::prelude::*;
use serde_json::Value;

fn oracle(name: &str) -> Value {
    let all: Value = common::test_data("smc_oracle.json");
    all[name].clone()
}

fn floats(v: &Value) -> Vec<f64> {
    common::floats(v)
}

/// The model the oracle script names `name`, as it builds it.
fn model(name: &str) -> Model {
    let o = oracle(name);
    let y = floats(&o["y"]);
    let mut m = Model::new();
    match name {
        "normal_known" => {
            let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
            m.observe("y", Normal::new(mu, 1.0), &y).unwrap();
        }
        "normal_unknown" => {
            let mu = m.rv("mu", Normal::new(0.0, 2.0)).unwrap();
            let sigma = m.rv("sigma", HalfNormal::new(1.0)).unwrap();
            m.observe("y", Normal::new(mu, sigma), &y).unwrap();
        }
        "eight_schools" => return common::eight_schools(&y, &floats(&o["sigma"])),
        "dirichlet_categorical" => {
            let p = m.rv_vec("p", Dirichlet::new(floats(&o["alpha"])), 3).unwrap();
            m.observe("y", Categorical::new(p), &y).unwrap();
        }
        "beta_binomial" => {
            let p = m.rv("p", Beta::new(2.0, 3.0)).unwrap();
            m.observe("y", Binomial::new(o["trials"].as_f64().unwrap(), p), &y).unwrap();
        }
        "bimodal" => {
            let mu = m.rv("mu", Normal::new(0.0, 2.0)).unwrap();
            m.observe("y", Normal::new(mu * mu, 0.5), &y).unwrap();
        }
        "potential" => {
            let mu = m.rv("mu", Normal::new(0.0, 1.0)).unwrap();
            let pull = (mu - 2.0) / 0.5;
            m.potential("pull", pull.clone() * pull * -0.5).unwrap();
            m.observe("y", Normal::new(mu, 1.0), &y).unwrap();
        }
        "regression" => {
            let x = floats(&o["X"]);
            let (rows, cols) = (y.len(), x.len() / y.len());
            let xm = m.data_matrix("X", rows, cols, x).unwrap();
            let beta = m.rv_vec("beta", Normal::new(0.0, 10.0), cols).unwrap();
            let sigma = m.rv("sigma", HalfNormal::new(10.0)).unwrap();
            m.observe("y", Normal::new(xm.matvec(beta), sigma), &y).unwrap();
        }
        _ => unreachable!("{name}"),
    }
    m
}

/// Student's t quantile at 0.9995 with 15 degrees of freedom: an average of 16 chains'
/// values is this many (estimated) standard errors from its expectation once in 1,000.
const T_999: f64 = 4.073;

/// Runs with seeds 1 to 4 (4 chains of 2,000 particles each).
fn runs(m: &Model, kernel: SmcKernel, backend: BackendChoice) -> Vec<Smc> {
    (1..=4)
        .map(|seed| sample_smc(m, &SmcOptions { seed, kernel, backend, ..SmcOptions::default() }).unwrap())
        .collect()
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (mean, (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

/// The chains' log evidence estimates against the oracle's `log_z`.
fn check_evidence(what: &str, smcs: &[Smc], want: f64) {
    let logz: Vec<f64> = smcs.iter().flat_map(|s| s.log_marginal_likelihood.clone()).collect();
    let (mean, sd) = mean_sd(&logz);
    assert!(sd < 0.1, "{what}: the chains' log evidence spreads by {sd}: {logz:?}");
    let tol = T_999 * sd / (logz.len() as f64).sqrt() + sd * sd / 2.0;
    assert!((mean - want).abs() <= tol, "{what}: log evidence {mean} ± {tol} vs {want} ({logz:?})");
}

/// How far short of the posterior's the particles' standard deviation may fall, relatively:
/// a population resampled and then moved a few times is slightly narrower than the posterior
/// (over 40 chains of the Dirichlet model, 0.5% for IMH, 0.4% for HMC, 0.2% for MH), which 16
/// chains' spread cannot resolve.
const SD_SHORTFALL: f64 = 0.01;

/// `g` of the particles (its mean, or its standard deviation), chain by chain, against `want`:
/// within `T_999` standard errors of the chains' spread, and `shortfall` more below it.
fn check_chains(
    what: &str,
    smcs: &[Smc],
    g: impl Fn(&[f64]) -> f64,
    values: impl Fn(&Fit) -> Vec<Vec<f64>>,
    want: f64,
    shortfall: f64,
) {
    let per_chain: Vec<f64> = smcs.iter().flat_map(|s| values(&s.fit)).map(|v| g(&v)).collect();
    let (mean, sd) = mean_sd(&per_chain);
    let tol = T_999 * sd / (per_chain.len() as f64).sqrt();
    assert!(
        mean <= want + tol && mean >= want - shortfall - tol,
        "{what}: {mean} ± {tol} vs {want} (shortfall {shortfall} allowed; {per_chain:?})"
    );
}

/// Element `elem` of `name` (after `f`), chain by chain.
fn chain_values(name: &str, elem: usize, f: fn(f64) -> f64) -> impl Fn(&Fit) -> Vec<Vec<f64>> {
    let name = name.to_string();
    move |fit: &Fit| {
        let v = fit.trace.var(&name).unwrap();
        let k = v.values.len() / (fit.trace.chains * fit.trace.draws);
        (0..fit.trace.chains)
            .map(|c| {
                (0..fit.trace.draws).map(|s| f(v.values[(c * fit.trace.draws + s) * k + elem])).collect()
            })
            .collect()
    }
}

fn sample_mean(v: &[f64]) -> f64 {
    mean_sd(v).0
}

fn sample_sd(v: &[f64]) -> f64 {
    mean_sd(v).1
}

/// Name `mu`, `p[1]`, or `abs_mu` (|mu|) as the oracle writes them.
fn quantity(label: &str) -> (String, usize, fn(f64) -> f64) {
    if label == "abs_mu" {
        return ("mu".into(), 0, f64::abs);
    }
    match label.split_once('[') {
        Some((name, rest)) => (name.into(), rest.trim_end_matches(']').parse().unwrap(), |x| x),
        None => (label.into(), 0, |x| x),
    }
}

fn check_model(name: &str, kernel: SmcKernel, backend: BackendChoice) {
    let o = oracle(name);
    let smcs = runs(&model(name), kernel, backend);
    let what = format!("{name} ({})", kernel.name());
    for smc in &smcs {
        assert!(smc.warnings().is_empty(), "{what}: {:?}", smc.warnings());
    }
    check_evidence(&what, &smcs, o["log_z"].as_f64().unwrap());
    for (label, want) in o["mean"].as_object().unwrap() {
        let (var, elem, f) = quantity(label);
        check_chains(
            &format!("{what}: mean of {label}"),
            &smcs,
            sample_mean,
            chain_values(&var, elem, f),
            want.as_f64().unwrap(),
            0.0,
        );
    }
    for (label, want) in o["sd"].as_object().unwrap() {
        let (var, elem, f) = quantity(label);
        check_chains(
            &format!("{what}: sd of {label}"),
            &smcs,
            sample_sd,
            chain_values(&var, elem, f),
            want.as_f64().unwrap(),
            SD_SHORTFALL * want.as_f64().unwrap(),
        );
    }
}

const MODELS: [&str; 7] = [
    "normal_known",
    "normal_unknown",
    "eight_schools",
    "dirichlet_categorical",
    "beta_binomial",
    "bimodal",
    "potential",
];

#[test]
fn independent_proposals_match_the_evidence_and_posteriors() {
    for name in MODELS {
        check_model(name, SmcKernel::Imh, BackendChoice::Cpu);
    }
}

#[test]
fn random_walk_moves_match_the_evidence_and_posteriors() {
    for name in MODELS {
        check_model(name, SmcKernel::Mh, BackendChoice::Cpu);
    }
}

#[test]
fn hamiltonian_moves_match_the_evidence_and_posteriors() {
    for name in MODELS {
        check_model(name, SmcKernel::Hmc, BackendChoice::Cpu);
    }
}

/// Without automatic non-centring the particles move in the model as written: the same
/// evidence for eight schools, and no standardised draws in the trace.
#[test]
fn the_model_as_written_gives_the_same_evidence() {
    let o = oracle("eight_schools");
    let smcs: Vec<Smc> = (1..=4)
        .map(|seed| {
            sample_smc(
                &model("eight_schools"),
                &SmcOptions { seed, noncenter: false, ..SmcOptions::default() },
            )
            .unwrap()
        })
        .collect();
    assert!(smcs[0].fit.trace.var("theta_z").is_none() && smcs[0].fit.noncentered.is_empty());
    check_evidence("eight schools as written", &smcs, o["log_z"].as_f64().unwrap());
}

/// Prior draws that round onto their support's edge cannot start a particle: where there are
/// many (a Dirichlet with concentrations of 0.003 puts components at 0 in most draws), the run
/// is refused rather than started from a truncated prior; a rare one (concentrations 0.05) is
/// replaced.
#[test]
fn prior_draws_on_the_edge() {
    let model = |alpha: f64| {
        let mut m = Model::new();
        let p = m.rv_vec("p", Dirichlet::new(vec![alpha; 3]), 3).unwrap();
        m.observe("y", Categorical::new(p), &[0.0, 2.0, 2.0]).unwrap();
        m
    };
    match sample_smc(&model(0.003), &SmcOptions { chains: 1, ..SmcOptions::default() }) {
        Err(Error::Smc { chain: 0, reason }) => assert!(reason.contains("truncated prior"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let smc = sample_smc(&model(0.05), &SmcOptions { chains: 1, seed: 2, ..SmcOptions::default() }).unwrap();
    assert!(smc.log_marginal_likelihood[0].is_finite());
}

/// Both modes of `mu ~ N(0, 2)`, `y ~ N(mu², 0.5)` keep their half of the particles in every
/// chain (where NUTS chains each stay in one).
#[test]
fn both_modes_keep_their_share() {
    let smcs = runs(&model("bimodal"), SmcKernel::Imh, BackendChoice::Cpu);
    let positive = |v: &[f64]| v.iter().filter(|&&x| x > 0.0).count() as f64 / v.len() as f64;
    for smc in &smcs {
        for share in chain_values("mu", 0, |x| x)(&smc.fit).iter().map(|v| positive(v)) {
            assert!(
                (0.35..0.65).contains(&share),
                "a chain keeps {share} of its particles in the positive mode"
            );
        }
    }
    check_chains("bimodal: share above 0", &smcs, positive, chain_values("mu", 0, |x| x), 0.5, 0.0);
}

/// The stages: `β` rises to 1, each stage's log evidence so far is recorded, the particles'
/// `lp` is the model's log density, and the draws' layout is a fit's.
#[test]
fn stages_and_draws_are_reported() {
    let m = model("eight_schools");
    let opts =
        SmcOptions { chains: 2, draws: 500, seed: 3, backend: BackendChoice::Cpu, ..SmcOptions::default() };
    let smc = sample_smc(&m, &opts).unwrap();
    assert_eq!(smc.fit.backend, "smc");
    assert_eq!(smc.fit.trace.chains, 2);
    assert_eq!(smc.fit.trace.draws, 500);
    assert_eq!(smc.fit.trace.draws("theta").unwrap().shape(), vec![2, 500, 8]);
    assert!(smc.fit.trace.var("theta_z").is_some(), "the non-centred coordinates are traced, as NUTS's are");
    for (stages, &log_ml) in smc.stages.iter().zip(&smc.log_marginal_likelihood) {
        assert!(stages.len() >= 2, "{stages:?}");
        assert!(stages.windows(2).all(|w| w[0].beta < w[1].beta));
        let last = stages.last().unwrap();
        assert_eq!(last.beta, 1.0);
        assert_eq!(last.log_marginal_likelihood, log_ml);
        for s in stages {
            assert!(
                s.steps >= 2 && (0.0..=1.0).contains(&s.accept_rate) && s.proposal_scale.is_nan(),
                "{s:?}"
            );
        }
    }
    // lp: the log density NUTS samples, at each particle (the normal densities of the
    // non-centred model, with tau's log-Jacobian).
    let t = &smc.fit.trace;
    let (mu, tau, z) = (t.var("mu").unwrap(), t.var("tau").unwrap(), t.var("theta_z").unwrap());
    let ln_norm = |x: f64, m: f64, s: f64| {
        -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    };
    let o = oracle("eight_schools");
    let (y, sigma) = (floats(&o["y"]), floats(&o["sigma"]));
    for s in [0, 77, 999] {
        let (mu, tau) = (mu.values[s], tau.values[s]);
        let mut want = ln_norm(mu, 0.0, 5.0)
            + (2.0 / (std::f64::consts::PI * 5.0 * (1.0 + (tau / 5.0).powi(2)))).ln()
            + tau.ln();
        for j in 0..8 {
            let zj = z.values[s * 8 + j];
            want += ln_norm(zj, 0.0, 1.0) + ln_norm(y[j], mu + tau * zj, sigma[j]);
        }
        let got = t.stats[s / 500][s % 500].lp;
        assert!((got - want).abs() < 1e-9 * want.abs(), "lp at particle {s}: {got} vs {want}");
    }
    // The MH kernel reports its proposal scale.
    let mh =
        sample_smc(&m, &SmcOptions { chains: 1, draws: 300, kernel: SmcKernel::Mh, ..SmcOptions::default() })
            .unwrap();
    assert!(mh.stages[0].iter().all(|s| s.proposal_scale > 0.0));
    // The pooled evidence is the log of the chains' mean estimate.
    let pooled = (smc.log_marginal_likelihood.iter().map(|l| l.exp()).sum::<f64>() / 2.0).ln();
    assert!((smc.log_evidence() - pooled).abs() < 1e-12);
}

/// A seed fixes every bit whatever the threads, and each chain's particles are its own: the
/// first chains of a 4-chain run are those of a 2-chain run.
#[test]
fn seed_fixes_every_bit() {
    let m = model("normal_unknown");
    let opts = SmcOptions { chains: 4, draws: 400, seed: 9, ..SmcOptions::default() };
    let pool = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let bits =
        |s: &Smc| s.fit.trace.var("mu").unwrap().values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for kernel in [SmcKernel::Mh, SmcKernel::Hmc] {
        let o = SmcOptions { kernel, ..opts.clone() };
        let (a, b) = (
            pool(4).install(|| sample_smc(&m, &o).unwrap()),
            pool(1).install(|| sample_smc(&m, &o).unwrap()),
        );
        assert_eq!(bits(&a), bits(&b), "{kernel:?}");
        assert_eq!(a.log_marginal_likelihood, b.log_marginal_likelihood);
    }
    let a = pool(4).install(|| sample_smc(&m, &opts).unwrap());
    let b = pool(1).install(|| sample_smc(&m, &opts).unwrap());
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(a.log_marginal_likelihood, b.log_marginal_likelihood);
    let two = sample_smc(&m, &SmcOptions { chains: 2, ..opts.clone() }).unwrap();
    assert_eq!(bits(&two)[..], bits(&a)[..800]);
    let other = sample_smc(&m, &SmcOptions { seed: 10, ..opts }).unwrap();
    assert_ne!(bits(&other), bits(&a));
}

/// The GPU backend (lavapipe in CI, in f64) gives the same evidence and posterior, and the
/// same particles as the CPU to rounding (where no acceptance decision turns on the last bit).
#[test]
fn gpu_backend_matches_the_oracle() {
    if common::gpu_f64("smc gpu_backend_matches_the_oracle").is_none() {
        return;
    }
    check_model("eight_schools", SmcKernel::Imh, BackendChoice::Gpu);
    let opts = SmcOptions { chains: 2, draws: 1000, seed: 4, ..SmcOptions::default() };
    let gpu =
        sample_smc(&model("eight_schools"), &SmcOptions { backend: BackendChoice::Gpu, ..opts.clone() })
            .unwrap();
    assert_eq!(gpu.fit.backend, "smc (gpu)");
    let cpu = sample_smc(&model("eight_schools"), &opts).unwrap();
    for (g, c) in gpu.log_marginal_likelihood.iter().zip(&cpu.log_marginal_likelihood) {
        assert!((g - c).abs() < 1e-9, "log evidence on the GPU {g}, on the CPU {c}");
    }
    let (g, c) = (&gpu.fit.trace.var("tau").unwrap().values, &cpu.fit.trace.var("tau").unwrap().values);
    let same = g.iter().zip(c).filter(|(g, c)| (*g - *c).abs() <= 1e-9 * c.abs()).count();
    assert!(same as f64 >= 0.99 * c.len() as f64, "{same} of {} particles agree", c.len());
}

#[test]
fn bad_options_and_models_are_refused() {
    let m = model("normal_known");
    let refused = |o: SmcOptions, option: &str| match sample_smc(&m, &o) {
        Err(Error::InvalidOption { option: got, reason }) => assert_eq!(got, option, "{reason}"),
        other => panic!("{option}: {other:?}"),
    };
    let d = SmcOptions::default;
    refused(SmcOptions { draws: 1, ..d() }, "draws");
    refused(SmcOptions { chains: 0, ..d() }, "chains");
    for t in [0.0, 1.0, f64::NAN, -0.5] {
        refused(SmcOptions { threshold: t, ..d() }, "threshold");
        refused(SmcOptions { correlation_threshold: t, ..d() }, "correlation_threshold");
    }
    refused(SmcOptions { max_stages: 0, ..d() }, "max_stages");
    // A threshold that keeps less than one particle would make every stage the last.
    refused(SmcOptions { draws: 10, threshold: 0.05, ..d() }, "threshold");
    // A flat prior has no draws to start from: the error names the node.
    let mut flat = Model::new();
    let mu = flat.rv("mu", Flat::new()).unwrap();
    flat.observe("y", Normal::new(mu, 1.0), &[0.1]).unwrap();
    let err = sample_smc(&flat, &SmcOptions::default()).unwrap_err();
    assert!(matches!(&err, Error::InvalidNode { node, .. } if node == "mu"), "{err:?}");
    // No free variables.
    let mut none = Model::new();
    none.observe("y", Normal::new(0.0, 1.0), &[0.1]).unwrap();
    assert!(matches!(sample_smc(&none, &SmcOptions::default()), Err(Error::NoFreeVariables)));
    // Too few stages for the tempering: the chain and the limit are named.
    let err =
        sample_smc(&model("eight_schools"), &SmcOptions { max_stages: 1, chains: 1, ..d() }).unwrap_err();
    match err {
        Error::Smc { chain: 0, reason } => assert!(reason.contains("max_stages"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

/// A regression whose noise scale collapses late in the tempering (posteriordb's `sblrc-blr`
/// in shape): the random-walk moves mix slowly there, so the particles lag behind the tempered
/// posteriors and the log evidence comes out low. Moves going on while the particles' mean
/// log-likelihood rises take the bias from about 10 units (the correlation rule alone: a mean
/// of −205.9 over 16 chains, their sd 1.1, against −196.137 by quadrature) to about 2.3 (mean
/// −198.4, sd 0.5); the stages whose moves reached their limit still rising are named.
///
/// The tolerances here are not the file's Monte Carlo ones, as the estimate is biased: each
/// chain within 4 units of the quadrature (the remaining bias plus 3.4 of the chains' sds; the
/// correlation rule alone misses by 7.3 or more), and the warning present — a known weakness
/// this test records: moves that follow the funnel would remove both, and then this test
/// should require the oracle's Monte Carlo tolerance and no warning.
#[test]
fn a_collapsing_noise_scale_is_followed_and_flagged() {
    let o = oracle("regression");
    let want = o["log_z"].as_f64().unwrap();
    let smc = sample_smc(
        &model("regression"),
        &SmcOptions { seed: 1, kernel: SmcKernel::Mh, ..SmcOptions::default() },
    )
    .unwrap();
    for (c, z) in smc.log_marginal_likelihood.iter().enumerate() {
        assert!((z - want).abs() < 4.0, "chain {c}: log evidence {z} vs {want}");
    }
    let warnings = smc.warnings();
    assert!(!warnings.is_empty(), "no stage flagged");
    for w in &warnings {
        assert!(w.contains("biased low") && w.contains("stage"), "{w}");
    }
    let lagging: Vec<&SmcStage> = smc.stages.iter().flatten().filter(|s| s.lagging).collect();
    assert!(lagging.iter().all(|s| s.steps == 400), "{lagging:?}");
    // The final particles follow the posterior: sigma's mean (sd 0.079) over 8,000 particles,
    // whose standard error would be 0.0009 were they independent; resampled particles are not,
    // and 0.01 leaves them ten times that (the 16 chains' means: 1.0765 to 1.0778).
    let sigma = &smc.fit.trace.var("sigma").unwrap().values;
    let mean = sigma.iter().sum::<f64>() / sigma.len() as f64;
    let oracle_mean = o["mean"]["sigma"].as_f64().unwrap();
    assert!((mean - oracle_mean).abs() < 0.01, "sigma's mean {mean} vs {oracle_mean}");
}
