//! 100-d independent Gaussian with sds log-spaced 0.01..100: mass-matrix adaptation must make
//! every coordinate mix (min bulk ESS ≥ 1000 over 4 × 1000 draws, no divergences), on the CPU
//! backend and (when an adapter exists) the GPU backend.

mod common;
use exmc::prelude::*;

#[test]
fn gaussian_100d_log_spaced_scales() {
    let sds: Vec<f64> = (0..100).map(|i| 10f64.powf(-2.0 + 4.0 * i as f64 / 99.0)).collect();
    let mut m = Model::new();
    m.rv_vec("x", Normal::new(0.0, sds.clone()), 100).unwrap();
    for backend in common::backends("gaussian_100d_log_spaced_scales") {
        let fit =
            Sampler::new(&m).backend(backend).chains(4).warmup(1000).draws(1000).seed(100).progress(false);
        let fit = fit.run().unwrap();
        let b = &fit.backend;
        // 100-element vectors: the GPU backend picks one workgroup (32 lanes) per chain.
        assert!(!b.starts_with("gpu") || b.contains("one workgroup of 32 lanes per chain"), "{b}");
        assert_eq!(fit.divergences(), 0, "{b}");
        let ess = fit.min_ess_bulk();
        assert!(ess >= 1000.0, "{b}: min bulk ESS {ess}");
        // Scales are recovered: the sample sd of each coordinate is within 10% of the truth.
        for (i, sd) in sds.iter().enumerate() {
            let all = fit.trace.chains_of("x", i).unwrap().concat();
            let n = all.len() as f64;
            let mean = all.iter().sum::<f64>() / n;
            let s = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            assert!((s / sd - 1.0).abs() < 0.1, "{b} x[{i}]: sd {s} vs {sd}");
        }
    }
}
