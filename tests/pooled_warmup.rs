//! Pooled many-chain warmup (DECISIONS 50) at a test's scale: 128 chains of eight schools
//! (auto non-centred) and of a 20-d Gaussian with scales from 0.1 to 10. Against per-chain
//! adaptation (nutpie's schedule, 300 warmup draws): at most a quarter of the warmup gradients
//! per chain and R-hat ≤ 1.01 on both; on eight schools ESS per post-warmup gradient within 5%
//! or better; on the Gaussian, means and scales within Monte Carlo error of the truth. (On an
//! isotropic Gaussian ESS per gradient swings with the trajectory length — draws are antithetic
//! at some lengths, ESS above the draw count — so it says little about adaptation there.) The
//! 1,024-chain figures come from `cargo run --release --example pooled_warmup`.

mod common;

use exmc::prelude::*;

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

fn scales() -> Vec<f64> {
    (0..20).map(|i| 0.1 * 100f64.powf(i as f64 / 19.0)).collect()
}

fn gaussian() -> Model {
    let mut m = Model::new();
    m.rv_vec("x", Normal::new(0.0, scales()), 20).unwrap();
    m
}

struct Run {
    warmup_grads: f64,
    post_grads: f64,
    ess: f64,
    rhat: f64,
    fit: Fit,
}

fn run(m: &Model, adaptation: Adaptation, warmup: usize, threads: usize) -> Run {
    let chains = 128;
    let fit = Sampler::new(m)
        .chains(chains)
        .threads(threads)
        .warmup(warmup)
        .draws(300)
        .adaptation(adaptation)
        .seed(11)
        .progress(false)
        .run()
        .unwrap();
    let (post, warm) = fit.trace.leapfrog_steps();
    let rhat = fit.summary().rows.iter().map(|r| r.r_hat).fold(0.0f64, f64::max);
    Run {
        warmup_grads: warm as f64 / chains as f64,
        post_grads: post as f64 / chains as f64,
        ess: fit.min_ess_bulk(),
        rhat,
        fit,
    }
}

#[test]
fn pooled_warmup_costs_a_quarter_and_samples_as_well() {
    for (name, m) in [("eight schools", common::eight_schools(&Y, &SIGMA)), ("20-d Gaussian", gaussian())] {
        let own = run(&m, Adaptation::DrawGradient, 300, 2);
        let pooled = run(&m, Adaptation::Pooled, Adaptation::Pooled.default_warmup(), 2);
        let ratio = pooled.warmup_grads / own.warmup_grads;
        eprintln!(
            "{name}: warmup gradients per chain {:.0} pooled vs {:.0} per chain ({ratio:.3}); ESS per post-warmup gradient {:.4} vs {:.4}; R-hat max {:.4} vs {:.4}",
            pooled.warmup_grads,
            own.warmup_grads,
            pooled.ess / pooled.post_grads,
            own.ess / own.post_grads,
            pooled.rhat,
            own.rhat
        );
        assert!(ratio <= 0.25, "{name}: warmup gradients {ratio:.3} of per-chain adaptation's");
        assert!(
            name != "eight schools" || pooled.ess / pooled.post_grads >= 0.95 * own.ess / own.post_grads,
            "{name}: ESS per post-warmup gradient {} vs {}",
            pooled.ess / pooled.post_grads,
            own.ess / own.post_grads
        );
        assert!(pooled.rhat <= 1.01, "{name}: R-hat {}", pooled.rhat);
    }
}

#[test]
fn pooled_warmup_recovers_the_gaussian() {
    let r = run(&gaussian(), Adaptation::Pooled, 60, 2);
    let draws = r.fit.draws("x").unwrap();
    let (mean, sd) = (draws.mean(), draws.sd());
    for (i, s) in scales().iter().enumerate() {
        // Monte Carlo error of the mean with at least the run's minimum bulk ESS.
        let mcse = s / r.ess.sqrt();
        assert!(mean[i].abs() <= 4.0 * mcse, "x[{i}]: mean {} (scale {s}, mcse {mcse})", mean[i]);
        assert!((sd[i] / s - 1.0).abs() <= 0.05, "x[{i}]: sd {} against {s}", sd[i]);
    }
}

#[test]
fn pooled_draws_do_not_depend_on_the_thread_count() {
    // 300 chains: two pools (256 + 44), fixed by chain id.
    let m = common::eight_schools(&Y, &SIGMA);
    let draws = |threads| {
        Sampler::new(&m)
            .chains(300)
            .threads(threads)
            .adaptation(Adaptation::Pooled)
            .draws(20)
            .seed(5)
            .progress(false)
            .run()
            .unwrap()
    };
    let (a, b) = (draws(1), draws(2));
    assert_eq!(a.trace, b.trace);
}

#[test]
fn pooled_warmup_on_both_backends() {
    // One pool of 64 chains on each backend (the GPU's is its whole group): the posterior of
    // the 20-d Gaussian within Monte Carlo error, and short warmup trees.
    for backend in common::backends("pooled_warmup_on_both_backends") {
        let fit = Sampler::new(&gaussian())
            .chains(64)
            .adaptation(Adaptation::Pooled)
            .draws(200)
            .backend(backend)
            .seed(3)
            .progress(false)
            .run()
            .unwrap();
        let (post, warm) = fit.trace.leapfrog_steps();
        // 60 warmup iterations against 200 draws: warmup trees no longer than the draws'.
        assert!(
            warm as f64 <= 0.4 * post as f64,
            "{backend:?}: {warm} warmup gradients against {post} after"
        );
        let ess = fit.min_ess_bulk();
        let draws = fit.draws("x").unwrap();
        for (i, (m, s)) in draws.mean().iter().zip(scales()).enumerate() {
            assert!(m.abs() <= 4.0 * s / ess.sqrt(), "{backend:?}: x[{i}] mean {m} (scale {s})");
        }
    }
}
