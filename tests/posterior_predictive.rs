//! Posterior predictive: replicated data with the data's shape whose mean agrees with the data
//! within Monte Carlo error (the README's quickstart model file), and prediction at new group
//! indices and covariates in a radon-style varying-intercept model.

use exmc::diagnostics::mcse_mean;
use exmc::prelude::*;

#[test]
fn quickstart_replicates_have_the_data_shape_and_mean() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
    let m = Model::from_files(format!("{dir}/quickstart.toml"), None).unwrap();
    let fit = Sampler::new(&m).seed(5).progress(false).run().unwrap();
    let rep = posterior_predictive(&m, &fit, 9).unwrap();
    let x = rep.draws("x").unwrap();
    assert_eq!(x.shape(), vec![4, 1000, 10]);
    let data = [2.1, 1.8, 2.5, 2.0, 1.9, 2.3, 2.2, 1.7, 2.4, 2.6];
    let data_mean = data.iter().sum::<f64>() / 10.0;
    // Per draw, the mean of the ten replicates; its average over draws estimates E[mu | x],
    // which the weak N(0, 5) prior leaves within 0.001 of the data mean.
    let per_draw: Vec<Vec<f64>> = (0..4)
        .map(|c| (0..1000).map(|d| (0..10).map(|e| x.get(c, d, e).unwrap()).sum::<f64>() / 10.0).collect())
        .collect();
    let refs: Vec<&[f64]> = per_draw.iter().map(Vec::as_slice).collect();
    let mean = per_draw.iter().flatten().sum::<f64>() / 4000.0;
    let mcse = mcse_mean(&refs);
    assert!(
        (mean - data_mean).abs() < 4.0 * mcse + 0.001,
        "replicate mean {mean} vs data {data_mean} (mcse {mcse})"
    );
    // Replicates spread like the data: their sd is near the posterior sigma.
    let sigma = fit.mean("sigma").unwrap();
    let spread = {
        let v: Vec<f64> = x.values().to_vec();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|y| (y - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    };
    assert!((spread / sigma - 1.0).abs() < 0.25, "replicate sd {spread} vs sigma {sigma}");
}

/// y ~ N(a[group] + b·x, sigma) with five groups; predictions for new rows (groups 4, 0, 4 at
/// new x) have the new length and the means a[g] + b·x computed from the posterior draws.
#[test]
fn radon_style_prediction_at_new_group_indices() {
    let groups: Vec<i64> = (0..40).map(|i| i % 5).collect();
    let x: Vec<f64> = (0..40).map(|i| ((i * 7) % 11) as f64 / 10.0).collect();
    let truth_a = [0.5, 1.0, 1.5, 2.0, 2.5];
    let y: Vec<f64> = (0..40)
        .map(|i| truth_a[groups[i] as usize] - 0.7 * x[i] + 0.2 * (((i * 13) % 7) as f64 / 3.0 - 1.0))
        .collect();
    let mut m = Model::new();
    let g = m.int_data("group", &groups).unwrap();
    let xd = m.data("x", x).unwrap();
    let mu_a = m.rv("mu_a", Normal::new(0, 5)).unwrap();
    let sigma_a = m.rv("sigma_a", HalfNormal::new(2)).unwrap();
    let a = m.rv_vec("a", Normal::new(mu_a, sigma_a), 5).unwrap();
    let b = m.rv("b", Normal::new(0, 5)).unwrap();
    let sigma = m.rv("sigma", HalfNormal::new(1)).unwrap();
    m.observe("y", Normal::new(a.at(g) + b * xd, sigma), &y).unwrap();
    let fit = Sampler::new(&m).seed(2).progress(false).run().unwrap();

    m.set_data("group", vec![4.0, 0.0, 4.0]).unwrap();
    m.set_data("x", vec![0.0, 1.0, 2.0]).unwrap();
    let rep = posterior_predictive(&m, &fit, 3).unwrap();
    let yr = rep.draws("y").unwrap();
    assert_eq!(yr.shape(), vec![4, 1000, 3]);
    let ad = fit.draws("a").unwrap();
    let bd = fit.draws("b").unwrap();
    let sd = fit.draws("sigma").unwrap();
    for (k, (gi, xi)) in [(4, 0.0), (0, 1.0), (4, 2.0)].into_iter().enumerate() {
        // E[y_rep] = E[a_g + b·x]; the difference per draw is sigma·N(0, 1): its mean over 4000
        // draws is within 4·mean(sigma)/√4000 (draws of the noise are independent).
        let (mut diff, mut n) = (0.0, 0.0f64);
        for c in 0..4 {
            for d in 0..1000 {
                let mean = ad.get(c, d, gi).unwrap() + bd.get(c, d, 0).unwrap() * xi;
                diff += yr.get(c, d, k).unwrap() - mean;
                n += 1.0;
            }
        }
        let tol = 4.0 * sd.mean()[0] / n.sqrt();
        assert!((diff / n).abs() < tol, "row {k}: mean residual {} (tolerance {tol})", diff / n);
    }
    // An index beyond the fitted groups is an error naming the observed node.
    m.set_data("group", vec![7.0, 0.0, 1.0]).unwrap();
    let err = posterior_predictive(&m, &fit, 3).unwrap_err().to_string();
    assert!(err.contains("`y`"), "{err}");
    // set_data rejects what is not whole for integer data, and unknown names.
    assert!(m.set_data("group", vec![0.5]).is_err());
    assert!(m.set_data("nope", vec![1.0]).is_err());
    assert!(m.set_data("b", vec![1.0]).is_err());
}

/// A mean written as a deterministic follows data replaced by `set_data`, whether the length
/// stays or changes: deterministics are recomputed from the draws, as PyMC recomputes them,
/// not read from the trace.
#[test]
fn deterministics_follow_new_data() {
    let x: Vec<f64> = (0..20).map(|i| i as f64 / 10.0).collect();
    let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| 2.0 * v + 0.1 * ((i * 7 % 5) as f64 - 2.0)).collect();
    let mut m = Model::new();
    let xd = m.data("x", x).unwrap();
    let b = m.rv("b", Normal::new(0, 5)).unwrap();
    let mu = m.deterministic("mu", b * xd).unwrap();
    let obs = m.observe("y", Normal::new(mu, 0.1), &y).unwrap();
    // A deterministic may read the observations; it does not stop predictions.
    m.deterministic("resid", obs - mu).unwrap();
    let fit = Sampler::new(&m).seed(4).progress(false).run().unwrap();
    assert!(log_likelihood(&m, &fit).is_ok());
    let b_mean = fit.draws("b").unwrap().mean()[0];
    for new in [vec![10.0; 20], vec![5.0, -3.0]] {
        m.set_data("x", new.clone()).unwrap();
        let rep = posterior_predictive(&m, &fit, 5).unwrap();
        let draws = rep.draws("y").unwrap();
        assert_eq!(draws.shape(), vec![4, 1000, new.len()]);
        for (k, xk) in new.iter().enumerate() {
            // Over the same 4000 draws the replicates' mean is the draws' mean of b times x
            // plus the mean of 4000 independent noises of sd 0.1.
            let got = draws.mean()[k];
            let tol = 4.0 * 0.1 / 4000f64.sqrt();
            assert!((got - b_mean * xk).abs() < tol, "x = {xk}: {got} vs {}", b_mean * xk);
        }
    }
}
