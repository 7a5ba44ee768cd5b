//! The results API: `fit.draws(name)` with its shape and labels, `fit.mean` / `fit.sd` by
//! variable or element (index or coordinate label), checked against a conjugate posterior and
//! against the summary; unknown names are typed errors that list what exists.

use exmc::prelude::*;

/// theta[k] ~ N(0, 1), y[k] ~ N(theta[k], 1) observed once each: theta[k] | y ~ N(y/2, 1/√2).
#[test]
fn draws_mean_and_sd_match_the_conjugate_posterior_and_the_summary() {
    let ys = [2.0, -1.0, 0.5];
    let mut m = Model::new();
    let theta = m.rv_vec("theta", Normal::new(0, 1), 3).unwrap();
    m.set_labels(theta, vec!["north".into(), "south".into(), "west".into()]).unwrap();
    m.observe("y", Normal::new(theta, 1), &ys).unwrap();
    m.deterministic("total", theta.sum()).unwrap();
    let fit = Sampler::new(&m).chains(4).warmup(500).draws(1000).seed(3).progress(false).run().unwrap();

    let d = fit.draws("theta").unwrap();
    assert_eq!(d.shape(), vec![4, 1000, 3]);
    assert_eq!(d.labels().unwrap(), ["north", "south", "west"]);
    assert_eq!(d.values().len(), 4 * 1000 * 3);
    assert_eq!(d.get(3, 999, 2), Some(d.values()[(3 * 1000 + 999) * 3 + 2]));
    assert_eq!(d.get(4, 0, 0), None);
    assert_eq!(fit.draws("total").unwrap().shape(), vec![4, 1000]);

    let summary = fit.summary();
    let (means, sds) = (d.mean(), d.sd());
    for (k, (label, y)) in ["north", "south", "west"].iter().zip(ys).enumerate() {
        let name = format!("theta[{label}]");
        let row = summary.get(&name).unwrap();
        // The same numbers by label, by index, from the view, and in the summary.
        assert_eq!(fit.mean(&name).unwrap(), fit.mean(&format!("theta[{k}]")).unwrap());
        assert!((fit.mean(&name).unwrap() - means[k]).abs() < 1e-12);
        assert!((fit.mean(&name).unwrap() - row.mean).abs() < 1e-9);
        assert!((fit.sd(&name).unwrap() - sds[k]).abs() < 1e-12);
        assert!((fit.sd(&name).unwrap() - row.sd).abs() < 1e-9);
        // Against the posterior N(y/2, 1/√2): within 4 MCSE for the mean, 10% for the sd.
        assert!((means[k] - y / 2.0).abs() < 4.0 * row.mcse_mean, "{name}: {} vs {}", means[k], y / 2.0);
        assert!((sds[k] / 0.5f64.sqrt() - 1.0).abs() < 0.1, "{name}: sd {}", sds[k]);
    }
    let total = fit.mean("total").unwrap();
    assert!((total - means.iter().sum::<f64>()).abs() < 1e-9);
    let ch = d.element(1).unwrap();
    assert_eq!((ch.len(), ch[0].len()), (4, 1000));
}

#[test]
fn unknown_or_ambiguous_names_are_errors_naming_them() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0, 1)).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0, 1), 2).unwrap();
    m.observe("y", Normal::new(mu + beta.sum(), 1), &[0.3]).unwrap();
    let fit = Sampler::new(&m).chains(1).warmup(50).draws(20).progress(false).run().unwrap();
    let err = |r: exmc::Result<f64>| r.unwrap_err().to_string();
    assert!(err(fit.mean("nope")).contains("`nope`") && err(fit.mean("nope")).contains("mu, beta"));
    assert!(err(fit.mean("beta")).contains("2 elements"), "{}", err(fit.mean("beta")));
    assert!(err(fit.sd("beta[2]")).contains("`beta[2]`"));
    assert!(fit.draws("nope").is_err());
    assert!(fit.mean("mu").is_ok() && fit.mean("beta[1]").is_ok());
}
