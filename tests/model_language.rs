//! The modelling language of issue 10: elementwise operations, reductions, potentials, named
//! data, integer literals and element labels, checked against analytic posteriors and oracles.

mod common;

use exmc::backend::gpu::MappingChoice;
use exmc::prelude::*;

fn fit(m: &Model, seed: u64) -> Fit {
    Sampler::new(m)
        .backend(BackendChoice::Cpu)
        .chains(4)
        .warmup(500)
        .draws(1000)
        .seed(seed)
        .progress(false)
        .run()
        .unwrap()
}

/// `pm.Potential`: x ~ N(0, 1) plus the term −x²/2 is N(0, 1/2): sd 0.7071.
#[test]
fn potential_adds_to_the_log_density() {
    let mut m = Model::new();
    let x = m.rv("x", Normal::new(0, 1)).unwrap();
    m.potential("extra", -0.5 * x.square()).unwrap();
    let f = fit(&m, 1);
    let row = f.summary().get("x").cloned().unwrap();
    assert!(row.mean.abs() < 4.0 * row.mcse_mean, "{row:?}");
    assert!((row.sd - 0.5f64.sqrt()).abs() < 0.05 * 0.5f64.sqrt(), "{row:?}");
    assert!(f.trace.var("extra").is_none(), "potentials are not recorded");
    // A vector potential is the sum of its elements.
    let mut m = Model::new();
    let x = m.rv_vec("x", Normal::new(0, 1), 2).unwrap();
    m.potential("extra", -0.5 * x.square()).unwrap();
    let f = fit(&m, 2);
    for e in 0..2 {
        let row = f.summary().get(&format!("x[{e}]")).cloned().unwrap();
        assert!((row.sd - 0.5f64.sqrt()).abs() < 0.05 * 0.5f64.sqrt(), "{row:?}");
    }
}

/// Named data read by reference, integer data validated, a conjugate posterior with the data as
/// a named node: y ~ N(mu + 2 x, 1), mu ~ N(0, 10) → mu | y normal with known moments.
#[test]
fn named_data_and_integer_literals() {
    let xs = vec![0.5, -1.0, 2.0, 0.0, 1.5];
    let ys = vec![2.2, -0.9, 5.1, 1.1, 4.0];
    let mut m = Model::new();
    let x = m.data("x", xs.clone()).unwrap();
    let mu = m.rv("mu", Normal::new(0, 10)).unwrap();
    m.observe("y", Normal::new(mu + 2 * x, 1), &ys).unwrap();
    // Posterior of mu: precision 1/100 + 5, mean Σ(y − 2x) / (1/100 + 5).
    let prec = 0.01 + 5.0;
    let mean: f64 = ys.iter().zip(&xs).map(|(y, x)| y - 2.0 * x).sum::<f64>() / prec;
    let f = fit(&m, 3);
    let row = f.summary().get("mu").cloned().unwrap();
    assert!((row.mean - mean).abs() < 4.0 * row.mcse_mean, "{row:?} vs {mean}");
    assert!((row.sd - prec.powf(-0.5)).abs() < 0.05 * prec.powf(-0.5), "{row:?}");
    assert!(f.trace.var("x").is_none(), "data are not recorded");
    // JSON keeps the data node once and round-trips.
    let json = m.to_json().unwrap();
    assert_eq!(Model::from_json(&json).unwrap(), m);
    // Integer data must be whole; data must be finite.
    m.int_data("idx", &[0, 1]).unwrap();
    let bad = r#"{"nodes": [{"name": "k", "shape": {"vector": 2}, "kind": {"data": {"values": [1.0, 2.5], "integer": true}}}]}"#;
    assert!(
        matches!(Model::from_json(bad), Err(Error::InvalidData { index: 1, .. })),
        "{:?}",
        Model::from_json(bad)
    );
    assert!(matches!(m.data("nan", vec![1.0, f64::NAN]), Err(Error::NonFiniteData { index: 1, .. })));
}

/// Element labels name the elements in the trace and the summary; bad labels are typed errors.
#[test]
fn labels_name_elements() {
    let mut m = Model::new();
    let a = m.rv_vec("a", Normal::new(0, 1), 3).unwrap();
    m.set_labels(a, vec!["Aitkin".into(), "Anoka".into(), "Becker".into()]).unwrap();
    let f = fit(&m, 4);
    let s = f.summary();
    assert!(s.get("a[Anoka]").is_some(), "{s}");
    assert!(s.get("a[1]").is_none());
    for bad in [
        vec!["x".to_string()],
        vec!["x".into(), "x".into(), "y".into()],
        vec!["a]".into(), "b".into(), "c".into()],
    ] {
        assert!(matches!(m.set_labels(a, bad), Err(Error::InvalidNode { .. })));
    }
}

/// Gathers on both backends: y_i ~ N(a[g_i], 1), a_k ~ N(0, 10) is conjugate per group, so
/// a_k | y ~ N(Σ_{g_i = k} y_i / (0.01 + n_k), 1 / (0.01 + n_k)).
#[test]
fn varying_intercepts_by_gather_match_the_conjugate_posterior() {
    let groups = 5;
    let g: Vec<i64> = (0..40).map(|i| (i * 3 % groups) as i64).collect();
    let y: Vec<f64> =
        g.iter().enumerate().map(|(i, &k)| k as f64 - 2.0 + ((i * 7 % 11) as f64 - 5.0) * 0.2).collect();
    let mut m = Model::new();
    let group = m.int_data("group", &g).unwrap();
    let a = m.rv_vec("a", Normal::new(0, 10), groups).unwrap();
    m.observe("y", Normal::new(a.at(group), 1), &y).unwrap();
    let mut runs: Vec<(BackendChoice, MappingChoice)> =
        common::backends("varying_intercepts_by_gather_match_the_conjugate_posterior")
            .into_iter()
            .map(|b| (b, MappingChoice::Auto))
            .collect();
    if runs.len() > 1 {
        // The workgroup mapping keeps the gathered vector in workgroup memory.
        runs.push((BackendChoice::Gpu, MappingChoice::Workgroup));
    }
    for (backend, mapping) in runs {
        let s =
            Sampler::new(&m).backend(backend).gpu_mapping(mapping).chains(4).warmup(500).draws(1000).seed(8);
        let f = s.progress(false).run().unwrap();
        let s = f.summary();
        for k in 0..groups {
            let n = g.iter().filter(|&&x| x as usize == k).count() as f64;
            let sum: f64 = g.iter().zip(&y).filter(|(x, _)| **x as usize == k).map(|(_, y)| y).sum();
            let (mean, sd) = (sum / (0.01 + n), (0.01 + n).powf(-0.5));
            let row = s.get(&format!("a[{k}]")).unwrap();
            assert!((row.mean - mean).abs() < 4.0 * row.mcse_mean, "{backend:?} a[{k}]: {row:?} vs {mean}");
            assert!((row.sd - sd).abs() < 0.1 * sd, "{backend:?} a[{k}]: {row:?} vs sd {sd}");
        }
    }
}

/// Matrix products on both backends: y ~ N(X β, 1) with β ~ N(0, 100) has the posterior
/// N(A⁻¹ Xᵀ y, A⁻¹), A = XᵀX + I/10⁴ (solved here by Gaussian elimination).
#[test]
fn regression_by_matvec_matches_the_conjugate_posterior() {
    let (rows, cols) = (30, 3);
    let x: Vec<f64> = (0..rows * cols)
        .map(|k| if k % cols == 0 { 1.0 } else { ((k * 7) % 11) as f64 * 0.2 - 1.0 })
        .collect();
    let truth = [0.5, -1.0, 2.0];
    let y: Vec<f64> = (0..rows)
        .map(|i| {
            (0..cols).map(|j| x[i * cols + j] * truth[j]).sum::<f64>() + ((i * 13 % 7) as f64 - 3.0) * 0.3
        })
        .collect();
    let mut a = vec![vec![0.0; cols + 1]; cols];
    for r in 0..cols {
        for c in 0..cols {
            a[r][c] = (0..rows).map(|i| x[i * cols + r] * x[i * cols + c]).sum::<f64>()
                + if r == c { 1e-4 } else { 0.0 };
        }
        a[r][cols] = (0..rows).map(|i| x[i * cols + r] * y[i]).sum();
    }
    // A⁻¹ by elimination on [A | I], and the mean A⁻¹ Xᵀy.
    let mut aug: Vec<Vec<f64>> = (0..cols)
        .map(|r| {
            let mut row = a[r][..cols].to_vec();
            row.extend((0..cols).map(|c| if c == r { 1.0 } else { 0.0 }));
            row.push(a[r][cols]);
            row
        })
        .collect();
    for p in 0..cols {
        let piv = aug[p][p];
        aug[p].iter_mut().for_each(|v| *v /= piv);
        for r in 0..cols {
            if r != p {
                let f = aug[r][p];
                let prow = aug[p].clone();
                aug[r].iter_mut().zip(&prow).for_each(|(v, q)| *v -= f * q);
            }
        }
    }
    let mut m = Model::new();
    let xm = m.data_matrix("X", rows, cols, x.clone()).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0, 100), cols).unwrap();
    m.observe("y", Normal::new(xm.matvec(beta), 1), &y).unwrap();
    for backend in common::backends("regression_by_matvec_matches_the_conjugate_posterior") {
        let f = Sampler::new(&m)
            .backend(backend)
            .chains(4)
            .warmup(500)
            .draws(1000)
            .seed(9)
            .progress(false)
            .run()
            .unwrap();
        let s = f.summary();
        for j in 0..cols {
            let (mean, sd) = (aug[j][2 * cols], aug[j][cols + j].sqrt());
            let row = s.get(&format!("beta[{j}]")).unwrap();
            assert!(
                (row.mean - mean).abs() < 4.0 * row.mcse_mean,
                "{backend:?} beta[{j}]: {row:?} vs {mean}"
            );
            assert!((row.sd - sd).abs() < 0.1 * sd, "{backend:?} beta[{j}]: {row:?} vs sd {sd}");
        }
    }
}

/// Flat priors (improper, as posteriordb's): mu ~ Flat with y ~ N(mu, 1) has the posterior
/// N(ȳ, 1/√n); a HalfFlat scale stays positive.
#[test]
fn flat_priors_give_the_likelihood_posterior() {
    let y = [1.2, 0.4, 2.2, 1.0, 0.7, 1.9, 1.5, 0.3];
    let mut m = Model::new();
    let mu = m.rv("mu", Flat::new()).unwrap();
    m.observe("y", Normal::new(mu, 1), &y).unwrap();
    let s = m.rv("s", HalfFlat::new()).unwrap();
    m.observe("z", Exponential::new(s), &[0.5, 1.5, 1.0]).unwrap();
    let f = fit(&m, 6);
    let row = f.summary().get("mu").cloned().unwrap();
    let (mean, sd) = (y.iter().sum::<f64>() / 8.0, 8f64.powf(-0.5));
    assert!((row.mean - mean).abs() < 4.0 * row.mcse_mean, "{row:?} vs {mean}");
    assert!((row.sd - sd).abs() < 0.05 * sd, "{row:?} vs {sd}");
    // s | z ~ Gamma(1 + 3, 3): mean 4/3.
    let row = f.summary().get("s").cloned().unwrap();
    assert!((row.mean - 4.0 / 3.0).abs() < 4.0 * row.mcse_mean, "{row:?}");
}

/// Domain mistakes (item 5): a real-valued free variable feeding a scale, a probability or a
/// categorical's weights is named in a warning the fit carries and prints; positive,
/// non-negative and unit-interval constructions are not.
#[test]
fn domain_mistakes_are_named() {
    use exmc::rewrite::domain_warnings;
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    let s = m.rv("s", Normal::new(1, 1)).unwrap();
    let t = m.deterministic("t", s * 2.0).unwrap();
    m.observe("y", Normal::new(mu, t), &[0.3, -0.2, 0.5]).unwrap();
    let w = domain_warnings(&m);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("`sigma` of `y`") && w[0].contains("`s`") && !w[0].contains("`mu`"), "{w:?}");
    let f = fit(&m, 3);
    assert!(f.warnings.iter().any(|x| x.contains("`s`")), "{:?}", f.warnings);
    assert!(f.summary().to_string().contains("silently truncated"));

    // Proven positive or in (0, 1): no warning.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let h = m.rv("h", HalfNormal::new(1)).unwrap();
    let u = m.rv("u", Uniform::new(0, 1)).unwrap();
    let b = m.rv("b", Beta::new(2, 2)).unwrap();
    m.observe("y1", Normal::new(a, h + a.exp()), &[0.1]).unwrap();
    m.observe("y2", Normal::new(a, a.softplus() * h), &[0.1]).unwrap();
    m.observe("k1", Bernoulli::new(u), &[1.0]).unwrap();
    m.observe("k2", Bernoulli::new(b), &[0.0]).unwrap();
    m.observe("k3", Bernoulli::new(a.logistic()), &[1.0]).unwrap();
    assert!(domain_warnings(&m).is_empty(), "{:?}", domain_warnings(&m));

    // A real variable as a probability, a positive one above 1 as a probability.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let g = m.rv("g", Gamma::new(2, 2)).unwrap();
    m.observe("k", Bernoulli::new(a), &[1.0]).unwrap();
    m.observe("j", Binomial::new(3, g), &[1.0]).unwrap();
    let w = domain_warnings(&m);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("`p` of `k`") && w[0].contains("[0, 1]") && w[0].contains("`a`"), "{w:?}");
    assert!(w[1].contains("`g`"), "{w:?}");

    // A categorical's probabilities may be zero, but not negative.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let h = m.rv("h", HalfNormal::new(1)).unwrap();
    let zero = Expr::stack([Expr::from(h), Expr::constant(0.0), Expr::from(h)]);
    m.observe("c1", Categorical::new(zero), &[0.0, 2.0]).unwrap();
    assert!(domain_warnings(&m).is_empty(), "{:?}", domain_warnings(&m));
    m.observe("c2", Categorical::new(Expr::stack([h, a])), &[0.0]).unwrap();
    let w = domain_warnings(&m);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("`p` of `c2`") && w[0].contains("must be non-negative") && w[0].contains("`a`"),
        "{w:?}"
    );
}

/// Truncated normals as priors (item 4): the three forms sample their analytic moments on
/// every backend (mean within 4 MCSE, sd within 5%), and a bound that is another parameter
/// holds in every draw (the shifted-log transform reads it).
#[test]
fn truncated_normals_sample_their_moments() {
    use exmc::model::DistKind;
    for backend in common::backends("truncated_normals_sample_their_moments") {
        let mut m = Model::new();
        m.rv("two", TruncatedNormal::new(0.5, 1, -1, 2)).unwrap();
        m.rv("low", TruncatedNormal::lower(1, 2, 0.5)).unwrap();
        m.rv("up", TruncatedNormal::upper(-1, 0.5, -2)).unwrap();
        let a = m.rv("a", Normal::new(0, 1)).unwrap();
        m.rv("below_a", TruncatedNormal::upper(0, 1, a)).unwrap();
        let f = Sampler::new(&m)
            .backend(backend)
            .chains(4)
            .warmup(500)
            .draws(1000)
            .seed(5)
            .progress(false)
            .run()
            .unwrap();
        for (name, kind, p) in [
            ("two", DistKind::TruncatedNormal, vec![-1.0, 2.0, 0.5, 1.0]),
            ("low", DistKind::TruncatedNormalLower, vec![0.5, 1.0, 2.0]),
            ("up", DistKind::TruncatedNormalUpper, vec![-2.0, -1.0, 0.5]),
        ] {
            let (mean, var) = kind.moments(&p).unwrap();
            let row = f.summary().get(name).cloned().unwrap();
            assert!((row.mean - mean).abs() < 4.0 * row.mcse_mean, "{backend:?} {name}: {row:?} vs {mean}");
            assert!(
                (row.sd / var.sqrt() - 1.0).abs() < 0.05,
                "{backend:?} {name}: {row:?} vs sd {}",
                var.sqrt()
            );
        }
        let (xs, bounds) = (common::pooled(&f, "below_a", 0), common::pooled(&f, "a", 0));
        assert!(xs.iter().zip(&bounds).all(|(x, a)| x < a));
        // One-sided forms sample through a shifted log, whose far side is as steep as a lone
        // HalfNormal's under its log transform (which also diverges in a few draws of 4,000).
        assert!(f.divergences() < 40, "{backend:?}: {}", f.divergences());
    }
}

/// Domain warnings stay cheap and bounded: a chain of 10⁵ deterministics feeding a probability
/// is followed without recursion, and hundreds of mistakes give 20 warnings and a last line.
#[test]
fn domain_warnings_are_bounded() {
    use exmc::rewrite::domain_warnings;
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let mut d = m.deterministic("d0", a.logistic()).unwrap();
    for k in 1..100_000 {
        d = m.deterministic(&format!("d{k}"), d).unwrap();
    }
    m.observe("y", Bernoulli::new(d), &[1.0]).unwrap();
    assert!(domain_warnings(&m).is_empty());
    let mut m = Model::new();
    let s = m.rv("s", Normal::new(0, 1)).unwrap();
    for k in 0..300 {
        m.observe(&format!("y{k}"), Normal::new(0, s), &[0.5]).unwrap();
    }
    let w = domain_warnings(&m);
    assert_eq!(w.len(), 21);
    assert!(w[20].contains("not listed"), "{}", w[20]);
}
