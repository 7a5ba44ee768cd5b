//! Cost of the areal families on square grid maps (rook neighbours) of growing size: the
//! compile-time packing of the adjacency matrix (its spectrum, `O(K³)`) and the time per
//! gradient of a BYM-style model (`phi ~ Icar(W, sigma)`, `theta ~ Car(0, W, alpha, tau)`,
//! Poisson counts), which reads only the edges (`O(K + edges)`), beside a dense product
//! `W·x` of the same size as a yardstick. One thread:
//! `cargo run --release --example areal_bench`.

use std::time::Instant;

use exmc::backend::cpu::Executor;
use exmc::prelude::*;

/// The rook adjacency of a `side × side` grid, row by row.
fn grid(side: usize) -> Vec<f64> {
    let k = side * side;
    let mut w = vec![0.0; k * k];
    for r in 0..side {
        for c in 0..side {
            let i = r * side + c;
            for j in
                [(c + 1 < side).then_some(i + 1), (r + 1 < side).then_some(i + side)].into_iter().flatten()
            {
                w[i * k + j] = 1.0;
                w[j * k + i] = 1.0;
            }
        }
    }
    w
}

/// Best of five timings of `reps` calls of `f`, per call.
fn best(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            t.elapsed().as_secs_f64() / reps as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> Result<()> {
    println!(
        "{:>6} {:>7} {:>10} {:>10} {:>14} {:>14}",
        "K", "edges", "pack CAR", "pack ICAR", "µs/gradient", "µs dense W·x"
    );
    for side in [10usize, 20, 32, 45] {
        let k = side * side;
        let w = grid(side);
        let t = Instant::now();
        DistKind::Car.vec_prepare(1, &w).expect("a family with a graph").expect("a valid map");
        let pack_car = t.elapsed().as_secs_f64();
        let t = Instant::now();
        DistKind::Icar.vec_prepare(0, &w).expect("a family with a graph").expect("a valid map");
        let pack_icar = t.elapsed().as_secs_f64();

        let mut m = Model::new();
        let adj = m.data_matrix("W", k, k, w.clone())?;
        let b0 = m.rv("b0", Normal::new(0.0, 2.0))?;
        let sigma = m.rv("sigma", HalfNormal::new(1.0))?;
        let phi = m.rv("phi", Icar::new(adj, sigma))?;
        let alpha = m.rv("alpha", Beta::new(2.0, 2.0))?;
        let tau = m.rv("tau", Gamma::new(2.0, 2.0))?;
        let theta = m.rv("theta", Car::new(0.0, adj, alpha, tau))?;
        let y: Vec<f64> = (0..k).map(|i| (i % 7) as f64).collect();
        m.observe("y", Poisson::new((b0 + phi + theta).exp()), &y)?;
        let compiled = exmc::compile::compile(&m, exmc::rewrite::RewriteOptions::default())?;
        let exec = Executor::new(compiled.logp_grad.clone());
        let mut ws = exec.workspace();
        let d = compiled.pointmap.dim;
        let u: Vec<f64> = (0..d).map(|i| 0.01 * (i % 13) as f64 - 0.05).collect();
        let mut g = vec![0.0; d];
        let reps = (200_000 / k).max(20);
        let grad = best(reps, || {
            exec.run(&mut ws, &u, &mut g);
            std::hint::black_box(&g);
        });
        let x: Vec<f64> = (0..k).map(|i| i as f64 * 1e-3).collect();
        let mut out = vec![0.0; k];
        let dense = best(reps.min(200), || {
            for (o, row) in out.iter_mut().zip(w.chunks(k)) {
                *o = row.iter().zip(&x).map(|(a, b)| a * b).sum();
            }
            std::hint::black_box(&out);
        });
        let edges = 2 * side * (side - 1);
        println!(
            "{k:>6} {edges:>7} {:>9.3}s {:>9.3}s {:>14.1} {:>14.1}",
            pack_car,
            pack_icar,
            grad * 1e6,
            dense * 1e6
        );
    }
    Ok(())
}
