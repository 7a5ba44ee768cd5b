//! The quickstart model: mu ~ N(0, 5), sigma ~ HalfNormal(2), x ~ N(mu, sigma) observed.
//!
//! Run with `cargo run --release --example quickstart`.

use exmc::prelude::*;

fn main() -> Result<()> {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0))?;
    let sigma = m.rv("sigma", HalfNormal::new(2.0))?;
    m.observe("x", Normal::new(mu, sigma), &[2.1, 1.8, 2.5, 2.0, 1.9, 2.3, 2.2, 1.7, 2.4, 2.6])?;

    let fit = Sampler::new(&m).chains(4).warmup(1000).draws(1000).seed(7).run()?;
    println!("{}", fit.summary());
    let (draw_grads, warmup_grads) = fit.trace.leapfrog_steps();
    println!(
        "backend {} | {} divergences | E-BFMI {:?} | {draw_grads} + {warmup_grads} gradients | sampling {:.3} s (compile {:.4} s)",
        fit.backend,
        fit.divergences(),
        fit.bfmi().iter().map(|b| format!("{b:.2}")).collect::<Vec<_>>(),
        fit.timing.sampling_s,
        fit.timing.compile_s,
    );
    Ok(())
}
