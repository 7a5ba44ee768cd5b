//! Gradients of compiled programs against central finite differences: every family with every
//! parameter random (as a likelihood and as a free variable, so every transform is covered),
//! and every expression instruction.

mod common;

use common::{data_for, random_params};
use exmc::backend::cpu::Executor;
use exmc::compile::compile;
use exmc::model::DistKind;
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;
use exmc::rng::{ChainRng, Purpose};

/// Central differences of log p at `u`, compared with the program's gradient.
fn check_gradient(m: &Model, label: &str, points: usize) {
    let compiled = compile(m, RewriteOptions::default()).unwrap();
    let exec = Executor::new(compiled.logp_grad.clone());
    let d = compiled.pointmap.dim;
    let mut ws = exec.workspace();
    let mut grad = vec![0.0; d];
    let mut scratch = vec![0.0; d];
    let rng = ChainRng::new(11, 0);
    let mut checked = 0;
    for k in 0..points {
        let u: Vec<f64> =
            (0..d).map(|i| 1.6 * rng.uniform(k as u64, i as u32, Purpose::Init) - 0.8).collect();
        let lp = exec.run(&mut ws, &u, &mut grad);
        assert!(lp.is_finite(), "{label}: logp not finite at {u:?}");
        let analytic = grad.clone();
        for i in 0..d {
            let h = 1e-5 * (1.0 + u[i].abs());
            let f = |x: f64, ws: &mut Vec<f64>, s: &mut Vec<f64>| {
                let mut v = u.clone();
                v[i] = x;
                exec.run(ws, &v, s)
            };
            let (fp, fm) = (f(u[i] + h, &mut ws, &mut scratch), f(u[i] - h, &mut ws, &mut scratch));
            let (fp2, fm2) =
                (f(u[i] + 2.0 * h, &mut ws, &mut scratch), f(u[i] - 2.0 * h, &mut ws, &mut scratch));
            // Fourth-order central difference.
            let fd = (8.0 * (fp - fm) - (fp2 - fm2)) / (12.0 * h);
            let err = (fd - analytic[i]).abs() / analytic[i].abs().max(1.0);
            assert!(
                err <= 1e-6,
                "{label}: d/du[{i}] analytic {} vs fd {fd} (rel err {err:e}) at {u:?}",
                analytic[i]
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

#[test]
fn every_family_as_likelihood_with_random_parameters() {
    // A likelihood without parameters (flat) has nothing to differentiate.
    for &kind in DistKind::SCALAR.iter().filter(|k| k.n_params() > 0) {
        let mut m = Model::new();
        let params = random_params(&mut m, kind);
        m.observe("y", Dist { kind, params }, &data_for(kind)).unwrap();
        check_gradient(&m, &format!("{} likelihood", kind.name()), 8);
    }
}

#[test]
fn every_family_as_free_variable_covers_every_transform() {
    for &kind in DistKind::SCALAR.iter().filter(|k| !k.support().observed_only()) {
        let mut m = Model::new();
        let params = random_params(&mut m, kind);
        m.rv_vec("x", Dist { kind, params }, 2).unwrap();
        check_gradient(&m, &format!("{} prior", kind.name()), 8);
    }
}

#[test]
fn every_expression_instruction() {
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0.0, 1.0)).unwrap();
    let b = m.rv_vec("b", HalfNormal::new(1.0), 3).unwrap();
    let c = m.rv("c", Beta::new(2.0, 2.0)).unwrap();
    let e = (-a).exp() * b.sqrt() + b.ln() - c.ln_1p() / b.square() + a.logistic() * b.powf(1.7)
        - 2.0 / (a * a + 1.0);
    let det = m.deterministic("e", e).unwrap();
    m.observe("y", Normal::new(det, b + c), &[0.5, -0.1, 2.0]).unwrap();
    check_gradient(&m, "expressions", 10);
    // The newer elementwise operations, reductions and integer literals.
    let mut m = Model::new();
    let a = m.rv("a", Normal::new(0, 1)).unwrap();
    let b = m.rv_vec("b", HalfNormal::new(1), 3).unwrap();
    let c = m.rv("c", Beta::new(2, 2)).unwrap();
    let e = a.expm1() * b.tanh() + (a * 2 - 1).log_logistic() + b.softplus().pow(c + 0.5)
        - (a - 0.1).abs() * b.mean()
        + b.dot(vec![0.3, -0.2, 0.1])
        + b.sum() / 3;
    let det = m.deterministic("e", e).unwrap();
    m.observe("y", Normal::new(det, b + c), &[0.5, -0.1, 2.0]).unwrap();
    check_gradient(&m, "newer expressions", 10);
}

/// Running sums and differences (a random walk), at T = 2, 3 and 1,000.
#[test]
fn running_sums_and_differences() {
    for t in [2, 3, 1000] {
        check_gradient(
            &common::random_walk(t),
            &format!("random walk, T = {t}"),
            if t > 100 { 1 } else { 6 },
        );
    }
}

#[test]
fn hierarchical_model_after_noncentring() {
    check_gradient(&common::eight_schools(&common::SCHOOLS_Y, &common::SCHOOLS_SIGMA), "eight schools", 5);
}

/// Gathers, element access, stacking and matrix products, with their adjoints (scatter-add,
/// one-hot, element access and the transposed product).
#[test]
fn indexing_and_linear_algebra() {
    let mut m = Model::new();
    let group = m.int_data("group", &[0, 2, 1, 2, 2, 0, 3]).unwrap();
    let x = m
        .data_matrix("X", 7, 3, (0..21).map(|k| ((k * 7) % 5) as f64 * 0.3 - 0.6).collect::<Vec<_>>())
        .unwrap();
    let a = m.rv_vec("a", Normal::new(0, 1), 4).unwrap();
    let beta = m.rv_vec("beta", Normal::new(0, 1), 3).unwrap();
    let s = m.rv("s", HalfNormal::new(1)).unwrap();
    let b0 = m.rv("b0", Normal::new(0, 1)).unwrap();
    let stacked = Expr::stack([Expr::from(b0), s * 2, a.get(3), beta.get(0) + 1]);
    let mu = a.at(group) + x.matvec(beta) + a.get(1) * 0.5;
    m.observe("y", Normal::new(mu, s + 0.5), &[0.1, -0.4, 1.2, 0.3, -0.9, 0.5, 0.0]).unwrap();
    m.observe("z", Normal::new(stacked.at(vec![0.0, 3.0, 1.0, 1.0]), 1), &[0.2, 0.4, -0.3, 0.6]).unwrap();
    check_gradient(&m, "indexing and linear algebra", 8);
}

/// Matrix shapes: a product, a row broadcast, a reshape, and a free normal with a matrix of
/// means (non-centred automatically, its standard normal keeping the matrix's shape).
#[test]
fn matrix_products_and_row_broadcasts() {
    let mut m = Model::new();
    let x = m.data_matrix("x", 3, 2, vec![1.0, 0.5, 1.0, -1.2, 1.0, 0.3]).unwrap();
    let b = m.rv_vec("b", Normal::new(0, 1), 6).unwrap();
    let row = m.rv_vec("row", Normal::new(0, 1), 3).unwrap();
    let tau = m.rv("tau", HalfNormal::new(1)).unwrap();
    let mu = m.deterministic("mu", x.matmul(b, 3) * 0.5 + row).unwrap();
    let z = m.rv_vec("z", Normal::new(mu, tau), 9).unwrap();
    let y: Vec<f64> = (0..9).map(|i| 0.3 * i as f64 - 1.0).collect();
    m.observe("y", Normal::new(Expr::from(z).reshape(3, 3).exp().ln(), 0.7), &y).unwrap();
    check_gradient(&m, "matrix products and row broadcasts", 6);
}

#[test]
fn vector_families_and_bijectors() {
    for (label, m) in exmc::model::dist::vector::examples() {
        check_gradient(&m, label, 4);
    }
}

#[test]
fn gaussian_processes_through_the_cholesky_factor() {
    for (label, m) in common::gaussian_process_models() {
        check_gradient(&m, label, 4);
    }
}
