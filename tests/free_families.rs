//! Every scalar family a free variable can follow, sampled by NUTS from its own density at each
//! of its example parameter sets (no data): the transform, its Jacobian, the density and its
//! gradient together. The draws' mean lies within 5 MCSE of the family's mean where the
//! variance is finite, and the share of draws below the family's median within 5 standard errors
//! of 1/2 (`√(1/4 / ESS_median)`) where the median has a closed form. CPU backend; fixed seeds.

use exmc::diagnostics::{ess_median, mcse_mean};
use exmc::prelude::*;

/// `error ≤ tol`, false for NaN.
fn within(error: f64, tol: f64) -> bool {
    error <= tol
}

#[test]
fn every_free_family_matches_its_moments_under_nuts() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for &kind in DistKind::SCALAR.iter().filter(|k| k.proper() && !k.support().observed_only()) {
        for (i, p) in kind.examples().iter().enumerate() {
            let mut m = Model::new();
            let params = p.iter().map(|&v| Expr::constant(v)).collect();
            m.rv("x", Dist { kind, params }).unwrap();
            let fit = Sampler::new(&m)
                .backend(BackendChoice::Cpu)
                .chains(4)
                .warmup(1000)
                .draws(2000)
                .seed(0xf4ee + 31 * i as u64 + kind as u64)
                .progress(false)
                .run()
                .unwrap();
            let chains = fit.trace.chains_of("x", 0).unwrap();
            let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            let all = chains.concat();
            let n = all.len() as f64;
            let label = format!("{} {p:?}", kind.name());
            if let Some(x) = all.iter().find(|&&x| !kind.in_support(x, p)) {
                failures.push(format!("{label}: draw {x} outside the support"));
            }
            if let Some((mean, _)) = kind.moments(p) {
                let got = all.iter().sum::<f64>() / n;
                let mcse = mcse_mean(&refs);
                if !within((got - mean).abs(), 5.0 * mcse) {
                    failures.push(format!("{label}: mean {got} vs {mean} (mcse {mcse:e})"));
                }
                checked += 1;
            }
            if let Some(median) = kind.median(p) {
                let below = all.iter().filter(|&&x| x < median).count() as f64 / n;
                let se = (0.25 / ess_median(&refs)).sqrt();
                if !within((below - 0.5).abs(), 5.0 * se) {
                    failures
                        .push(format!("{label}: {below} of the draws below the median {median} (se {se:e})"));
                }
                checked += 1;
            }
        }
    }
    eprintln!("{checked} checks");
    assert!(checked > 60, "only {checked} checks ran");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
