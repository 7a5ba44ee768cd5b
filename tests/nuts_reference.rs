//! The iterative, checkpointed trajectory builder against a slow recursive reference (Stan's
//! `build_tree`, with the generalised criterion and the two extra checks at every merge,
//! including the top-level merge of the old trajectory with each new subtree).
//!
//! Termination does not depend on which leaf is sampled, so for the same step size, initial
//! momentum and doubling directions both builders must take the same number of leapfrog steps,
//! reach the same depth and agree on divergence — over many random Gaussian targets, metrics
//! and step sizes (including unstable ones that diverge).

use exmc::backend::DrawState;
use exmc::backend::cpu::ChainState;
use exmc::nuts::{DirectionWords, Trajectory};
use exmc::rng::{ChainRng, Purpose};

struct Target {
    prec: Vec<f64>,
}

/// One random configuration: target, metric, start, step size and depth limit.
struct Case {
    target: Target,
    inv_mass: Vec<f64>,
    q0: Vec<f64>,
    eps: f64,
    max_depth: u32,
}

impl Target {
    fn logp_grad(&self, q: &[f64], g: &mut [f64]) -> f64 {
        let mut lp = 0.0;
        for i in 0..q.len() {
            g[i] = -self.prec[i] * q[i];
            lp -= 0.5 * self.prec[i] * q[i] * q[i];
        }
        lp
    }
}

#[derive(Clone)]
struct Z {
    q: Vec<f64>,
    p: Vec<f64>,
    g: Vec<f64>,
}

/// A built piece in build order: first leaf's momentum, last leaf's momentum, momentum sum.
struct Piece {
    first: Vec<f64>,
    last: Vec<f64>,
    rho: Vec<f64>,
}

struct Reference<'a> {
    target: &'a Target,
    inv_mass: Vec<f64>,
    eps: f64,
    h0: f64,
    n_leapfrog: u32,
    diverged: bool,
}

fn criterion(m: &[f64], p_minus: &[f64], p_plus: &[f64], rho: &[f64]) -> bool {
    let dot = |p: &[f64]| (0..m.len()).map(|i| m[i] * p[i] * rho[i]).sum::<f64>();
    dot(p_plus) > 0.0 && dot(p_minus) > 0.0
}

impl Reference<'_> {
    fn leapfrog(&mut self, z: &mut Z, sign: f64) -> f64 {
        let h = self.eps * sign;
        for i in 0..z.q.len() {
            z.p[i] += 0.5 * h * z.g[i];
            z.q[i] += h * self.inv_mass[i] * z.p[i];
        }
        let lp = self.target.logp_grad(&z.q, &mut z.g);
        let mut kinetic = 0.0;
        for i in 0..z.q.len() {
            z.p[i] += 0.5 * h * z.g[i];
            kinetic += self.inv_mass[i] * z.p[i] * z.p[i];
        }
        let e = -lp + 0.5 * kinetic;
        if e.is_nan() { f64::INFINITY } else { e }
    }

    /// Merging `a` (built first) and `b` (built second): whole, and across the boundary.
    fn merge_ok(&self, a: &Piece, b: &Piece) -> bool {
        let m = &self.inv_mass;
        let add = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(x, y)| x + y).collect::<Vec<_>>();
        criterion(m, &a.first, &b.last, &add(&a.rho, &b.rho))
            && criterion(m, &a.first, &b.first, &add(&a.rho, &b.first))
            && criterion(m, &a.last, &b.last, &add(&b.rho, &a.last))
    }

    /// Stan's recursive `build_tree`; `None` when the subtree diverged or turned.
    fn build(&mut self, depth: u32, z: &mut Z, sign: f64) -> Option<Piece> {
        if depth == 0 {
            let e = self.leapfrog(z, sign);
            self.n_leapfrog += 1;
            if e - self.h0 > 1000.0 {
                self.diverged = true;
                return None;
            }
            return Some(Piece { first: z.p.clone(), last: z.p.clone(), rho: z.p.clone() });
        }
        let a = self.build(depth - 1, z, sign)?;
        let b = self.build(depth - 1, z, sign)?;
        if !self.merge_ok(&a, &b) {
            return None;
        }
        let rho = a.rho.iter().zip(&b.rho).map(|(x, y)| x + y).collect();
        Some(Piece { first: a.first, last: b.last, rho })
    }
}

/// (depth, n_leapfrog, diverged) from the reference.
fn reference(case: &Case, rng: &ChainRng) -> (u32, u32, bool) {
    let Case { target, inv_mass, q0, eps, max_depth } = case;
    let (eps, max_depth) = (*eps, *max_depth);
    let d = q0.len();
    let mut g = vec![0.0; d];
    let lp = target.logp_grad(q0, &mut g);
    let mut p = vec![0.0; d];
    rng.fill_normals(0, Purpose::Momentum, &mut p);
    for (p, m) in p.iter_mut().zip(inv_mass) {
        *p /= m.sqrt();
    }
    let kinetic: f64 = (0..d).map(|i| inv_mass[i] * p[i] * p[i]).sum();
    let z0 = Z { q: q0.to_vec(), p: p.clone(), g };
    let mut r = Reference {
        target,
        inv_mass: inv_mass.to_vec(),
        eps,
        h0: -lp + 0.5 * kinetic,
        n_leapfrog: 0,
        diverged: false,
    };
    // Ends in time order: [backward, forward]; the whole trajectory as a piece in time order.
    let mut ends = [z0.clone(), z0];
    let mut tree = Piece { first: p.clone(), last: p.clone(), rho: p };
    let mut depth = 0;
    while depth < max_depth {
        // The host's scheme: bit `depth` of the trajectory's direction word.
        // (Iteration 0's word: word 0 of block 0.)
        let forward = rng.words(0, 0, Purpose::Direction)[0] >> depth & 1 == 1;
        let (side, sign) = if forward { (1, 1.0) } else { (0, -1.0) };
        let Some(new) = r.build(depth, &mut ends[side], sign) else { break };
        depth += 1;
        // Build order for the merge: the old trajectory, then the new subtree.
        let old = if forward {
            Piece { first: tree.first.clone(), last: tree.last.clone(), rho: tree.rho.clone() }
        } else {
            Piece { first: tree.last.clone(), last: tree.first.clone(), rho: tree.rho.clone() }
        };
        let ok = r.merge_ok(&old, &new);
        let rho: Vec<f64> = tree.rho.iter().zip(&new.rho).map(|(x, y)| x + y).collect();
        tree = if forward {
            Piece { first: tree.first, last: new.last, rho }
        } else {
            Piece { first: new.last, last: tree.last, rho }
        };
        if !ok {
            break;
        }
    }
    (depth, r.n_leapfrog, r.diverged)
}

/// (depth, n_leapfrog, diverged) from the backend's iterative builder.
fn iterative(case: &Case, rng: &ChainRng, seed: u64, chain: usize) -> (u32, u32, bool) {
    let Case { target, inv_mass, q0, eps, max_depth } = case;
    let (eps, max_depth) = (*eps, *max_depth);
    let d = q0.len();
    let mut state = ChainState::new(d, max_depth as usize, ChainRng::new(seed, chain));
    state.set_inv_mass(inv_mass);
    let mut g = vec![0.0; d];
    let lp = target.logp_grad(q0, &mut g);
    state.set_point(q0, &g, lp);
    let mut traj = Trajectory::new(DirectionWords::default().word(rng, 0), 0, max_depth);
    let mut grad = |q: &[f64], g: &mut [f64]| target.logp_grad(q, g);
    loop {
        let cmd = traj.command(0, eps);
        let rep = state.step(&cmd, &mut grad);
        if let Some(end) = traj.advance(&rep) {
            let mut ds = DrawState::default();
            state.draw_state(&mut ds);
            return (end.depth, ds.n_leapfrog, end.diverged);
        }
    }
}

#[test]
fn iterative_builder_matches_recursive_reference() {
    let seed = 77;
    let (mut compared, mut turned_early, mut diverged, mut max_depth_hits) = (0, 0, 0, 0);
    for chain in 0..600usize {
        let rng = ChainRng::new(seed, chain);
        let u = |k: u32| rng.uniform(1_000_000, k, Purpose::Init);
        let d = 1 + (u(0) * 6.0) as usize;
        let prec: Vec<f64> = (0..d).map(|i| (8.0 * u(1 + i as u32) - 4.0).exp()).collect();
        let inv_mass: Vec<f64> = (0..d).map(|i| (2.0 * u(20 + i as u32) - 1.0).exp()).collect();
        let q0: Vec<f64> = (0..d).map(|i| 4.0 * u(40 + i as u32) - 2.0).collect();
        let eps = 0.02 + 3.0 * u(60) * u(61);
        let max_depth = 1 + (u(62) * 8.0) as u32;
        let case = Case { target: Target { prec }, inv_mass, q0, eps, max_depth };
        let want = reference(&case, &rng);
        let got = iterative(&case, &rng, seed, chain);
        assert_eq!(got, want, "chain {chain}: d {d} eps {eps} max_depth {max_depth}");
        compared += 1;
        turned_early += (want.0 < max_depth && !want.2) as usize;
        diverged += want.2 as usize;
        max_depth_hits += (want.0 == max_depth) as usize;
    }
    // The random cases must exercise every way a trajectory ends.
    assert!(
        turned_early > 100 && diverged > 10 && max_depth_hits > 10,
        "{turned_early} {diverged} {max_depth_hits}"
    );
    assert_eq!(compared, 600);
}
