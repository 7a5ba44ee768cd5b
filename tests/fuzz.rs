//! Issue 9's fuzz target: proptest over generated and mutated models. Each case builds a model
//! through the public builder from a random program (random and deep expressions, extreme
//! constants, huge and empty shapes, bad names, foreign and cloned `Var`s), round-trips it
//! through JSON (what the builder accepts must load back equal), loads mutated JSON
//! (truncated, bytes flipped, numbers and sizes replaced by extremes), samples it briefly on
//! the CPU backend with random sampler options, searches for its mode and draws from its
//! Laplace approximation and Pathfinder (`Optimizer`), and generates and validates (naga) the GPU
//! kernels of what compiles. Every call must return `Ok` or a typed error: a panic fails the
//! case (proptest then shrinks it to a minimal program), an abort (stack overflow) kills the
//! test binary, and a case that runs longer than `HANG_SECS` aborts it with the case printed.
//!
//! The suite runs it for `EXMC_FUZZ_SECS` seconds (default 20); the 10-minute run is
//! `EXMC_FUZZ_SECS=600 cargo test --release --test fuzz -- --nocapture`, which prints the
//! number of cases at the end. `EXMC_FUZZ_SEED` picks the first seed.

mod common;

use exmc::backend::gpu::module::{batch_logp_grad_module, step_module};
use exmc::backend::gpu::{Mapping, MappingChoice, Precision};
use exmc::model::{Dist, DistKind};
use exmc::prelude::*;
use exmc::rewrite::RewriteOptions;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// A constant, with the awkward values over-represented.
fn constant() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0..10.0f64,
        1 => any::<f64>(),
        1 => prop::sample::select(vec![
            0.0, -0.0, 1.0, -1.0, 1e-300, 1e300, -1e300, f64::MAX, f64::MIN, f64::MIN_POSITIVE, 5e-324,
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e39, -1e39, 1e-46, 3.5e38, 1e7, 1e16, 0.5,
        ]),
    ]
}

/// A length: small ones mostly, then empty, long and huge ones.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 1..5usize,
        1 => prop::sample::select(vec![
            0, 64, 1000, 1 << 31, 1 << 40, usize::MAX, usize::MAX / 2, Shape::MAX_LEN, Shape::MAX_LEN + 1,
        ]),
    ]
}

fn data() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        6 => prop::collection::vec(-3.0..3.0f64, 1..5),
        1 => prop::collection::vec(constant(), 0..5),
        1 => (1usize..3).prop_map(|n| (0..n * 1000).map(|i| (i % 17) as f64 * 0.1).collect()),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => (0u32..1000).prop_map(|i| format!("n{i}")),
        1 => prop::sample::select(vec!["", "theta[0]", "x]", " a", "tab\t", "é", "n1_z", "mu"]).prop_map(String::from),
    ]
}

#[derive(Clone, Debug)]
enum Tree {
    Const(f64),
    Data(Vec<f64>),
    /// A variable made earlier in the program (index modulo the count).
    Var(usize),
    Unary(u8, Box<Tree>),
    Binary(u8, Box<Tree>, Box<Tree>),
    Pow(Box<Tree>, f64),
    /// A reduction (sum or mean), element access, a gather at data, or a stack.
    Index(u8, Box<Tree>, Vec<f64>),
    /// `depth` repetitions of `e op c` around the tree (built in a loop, not recursion).
    Deep(Box<Tree>, u8, usize, f64),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        3 => constant().prop_map(Tree::Const),
        1 => data().prop_map(Tree::Data),
        4 => any::<usize>().prop_map(Tree::Var),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            3 => (0u8..7, inner.clone()).prop_map(|(o, a)| Tree::Unary(o, Box::new(a))),
            4 => (0u8..4, inner.clone(), inner.clone()).prop_map(|(o, a, b)| Tree::Binary(o, Box::new(a), Box::new(b))),
            1 => (inner.clone(), constant()).prop_map(|(a, c)| Tree::Pow(Box::new(a), c)),
            1 => (0u8..5, inner.clone(), prop::collection::vec(prop_oneof![0.0..4.0f64, constant()], 0..4))
                .prop_map(|(o, a, d)| Tree::Index(o, Box::new(a), d)),
            1 => (inner, 0u8..4, prop_oneof![4 => 1usize..100, 1 => 1000usize..120_000], constant())
                .prop_map(|(a, o, d, c)| Tree::Deep(Box::new(a), o, d, c)),
        ]
    })
}

#[derive(Clone, Debug)]
enum Step {
    Rv(String, u8, Vec<Tree>, Option<usize>),
    Observe(String, u8, Vec<Tree>, Vec<f64>),
    Deterministic(String, Tree),
    KeepCentered(usize),
    /// Continue on a clone of the model (the original's `Var`s stay in the list).
    Clone,
    /// Build a `Var` in a fresh unrelated model and add it to the list.
    Foreign,
    /// Named data, integer data, a data matrix (rows, values) or a potential.
    Data(u8, String, Vec<f64>, usize, Tree),
}

fn step() -> impl Strategy<Value = Step> {
    let params = || prop::collection::vec(tree(), 0..4);
    prop_oneof![
        6 => (name(), any::<u8>(), params(), prop::option::weighted(0.3, size()))
            .prop_map(|(n, f, p, s)| Step::Rv(n, f, p, s)),
        4 => (name(), any::<u8>(), params(), data()).prop_map(|(n, f, p, d)| Step::Observe(n, f, p, d)),
        3 => (name(), tree()).prop_map(|(n, t)| Step::Deterministic(n, t)),
        1 => any::<usize>().prop_map(Step::KeepCentered),
        1 => Just(Step::Clone),
        1 => Just(Step::Foreign),
        2 => (0u8..4, name(), data(), 0usize..4, tree()).prop_map(|(o, n, d, r, t)| Step::Data(o, n, d, r, t)),
    ]
}

#[derive(Clone, Debug)]
struct Options {
    chains: usize,
    warmup: usize,
    draws: usize,
    thin: usize,
    seed: u64,
    target_accept: f64,
    max_treedepth: u32,
    step_size: f64,
    noncenter: bool,
    init: Option<(usize, Vec<f64>)>,
    only_chains: Option<Vec<usize>>,
}

fn options() -> impl Strategy<Value = Options> {
    (
        (
            prop_oneof![8 => 1usize..3, 1 => Just(0usize), 1 => Just(usize::MAX)],
            0usize..12,
            0usize..8,
            0usize..3,
        ),
        (
            any::<u64>(),
            prop_oneof![8 => 0.6..0.95f64, 1 => constant()],
            0u32..9,
            prop_oneof![8 => 0.05..1.0f64, 1 => constant()],
        ),
        (
            any::<bool>(),
            prop::option::weighted(0.2, (any::<usize>(), prop::collection::vec(constant(), 0..3))),
            prop::option::weighted(
                0.1,
                prop::collection::vec(prop_oneof![0usize..4, Just(usize::MAX)], 0..4),
            ),
        ),
    )
        .prop_map(
            |(
                (chains, warmup, draws, thin),
                (seed, target_accept, max_treedepth, step_size),
                (noncenter, init, only_chains),
            )| {
                Options {
                    chains,
                    warmup,
                    draws,
                    thin,
                    seed,
                    target_accept,
                    max_treedepth,
                    step_size,
                    noncenter,
                    init,
                    only_chains,
                }
            },
        )
}

#[derive(Clone, Debug)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    /// Replace the k-th number in the text.
    Number(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let numbers = prop::sample::select(vec![
        "-1",
        "0",
        "1e308",
        "99",
        "-1e400",
        "1e400",
        "18446744073709551615",
        "1099511627776",
        "4294967296",
        "0.5",
        "-0.0",
        "2",
        "3",
    ]);
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), numbers).prop_map(|(k, n)| Mutation::Number(k, n.to_string())),
    ]
}

fn build_expr(t: &Tree, vars: &[Var]) -> Expr {
    match t {
        Tree::Const(c) => Expr::constant(*c),
        Tree::Data(d) => Expr::from(d.clone()),
        Tree::Var(i) if vars.is_empty() => Expr::constant(*i as f64 % 7.0),
        Tree::Var(i) => Expr::from(vars[i % vars.len()]),
        Tree::Unary(o, a) => {
            let a = build_expr(a, vars);
            match o % 12 {
                0 => -a,
                1 => a.exp(),
                2 => a.ln(),
                3 => a.ln_1p(),
                4 => a.sqrt(),
                5 => a.square(),
                6 => a.softplus(),
                7 => a.expm1(),
                8 => a.log_logistic(),
                9 => a.abs(),
                10 => a.tanh(),
                _ => a.logistic(),
            }
        }
        Tree::Binary(o, a, b) => binary(*o, build_expr(a, vars), build_expr(b, vars)),
        Tree::Pow(a, c) => build_expr(a, vars).powf(*c),
        Tree::Index(o, a, d) => {
            let a = build_expr(a, vars);
            match o % 5 {
                0 => a.sum(),
                1 => a.mean(),
                2 => a.get(d.first().copied().unwrap_or(0.0).abs() as usize % 4),
                3 => a.at(d.clone()),
                _ => Expr::stack([a.clone(), a.sum()]),
            }
        }
        Tree::Deep(a, o, depth, c) => {
            let mut e = build_expr(a, vars);
            for _ in 0..*depth {
                e = binary(*o, e, Expr::constant(*c));
            }
            e
        }
    }
}

fn binary(o: u8, a: Expr, b: Expr) -> Expr {
    match o % 5 {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        3 => a / b,
        _ => a.pow(b),
    }
}

fn dist(family: u8, params: &[Tree], vars: &[Var]) -> Dist {
    let kind = DistKind::SCALAR[family as usize % DistKind::SCALAR.len()];
    // Mostly the right number of parameters, sometimes not.
    let mut p: Vec<Expr> = params.iter().map(|t| build_expr(t, vars)).collect();
    if family < 200 {
        p.resize_with(kind.n_params(), || Expr::constant(1.5));
    }
    Dist { kind, params: p }
}

/// Builds the model; every builder call must return `Ok` or a typed error.
fn build(steps: &[Step]) -> Model {
    let mut m = Model::new();
    let mut vars: Vec<Var> = Vec::new();
    for s in steps {
        let made = match s {
            Step::Rv(n, f, p, None) => m.rv(n, dist(*f, p, &vars)),
            Step::Rv(n, f, p, Some(size)) => m.rv_vec(n, dist(*f, p, &vars), *size),
            Step::Observe(n, f, p, d) => m.observe(n, dist(*f, p, &vars), d),
            Step::Deterministic(n, t) => m.deterministic(n, build_expr(t, &vars)),
            Step::KeepCentered(i) => {
                if !vars.is_empty() {
                    let _ = m.keep_centered(vars[i % vars.len()]);
                }
                continue;
            }
            Step::Clone => {
                m = m.clone();
                continue;
            }
            Step::Foreign => {
                let mut other = Model::new();
                other.rv("f", Normal::new(0.0, 1.0))
            }
            Step::Data(o, n, d, rows, t) => match o % 4 {
                0 => m.data(n, d.clone()),
                1 => m.int_data(n, &d.iter().map(|&v| v as i64).collect::<Vec<_>>()),
                2 => m.data_matrix(n, *rows, d.len() / rows.max(&1), d.clone()),
                _ => m.potential(n, build_expr(t, &vars)),
            },
        };
        if let Ok(v) = made {
            vars.push(v);
        }
    }
    m
}

fn mutate(json: &str, muts: &[Mutation]) -> String {
    let mut bytes = json.as_bytes().to_vec();
    for m in muts {
        match m {
            Mutation::Truncate(i) if !bytes.is_empty() => bytes.truncate(i % bytes.len()),
            Mutation::Flip(i, b) if !bytes.is_empty() => {
                let at = i % bytes.len();
                bytes[at] = *b;
            }
            Mutation::Number(k, n) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let spans: Vec<(usize, usize)> = number_spans(&text);
                if let Some(&(a, b)) = spans.get(k % spans.len().max(1)) {
                    bytes = format!("{}{n}{}", &text[..a], &text[b..]).into_bytes();
                }
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() || (b[i] == b'-' && i + 1 < b.len() && b[i + 1].is_ascii_digit()) {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b"+-.eE".contains(&b[i])) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

fn sample(m: &Model, o: &Options) {
    let mut s = Sampler::new(m)
        .backend(BackendChoice::Cpu)
        .chains(o.chains)
        .warmup(o.warmup)
        .draws(o.draws)
        .thin(o.thin)
        .seed(o.seed)
        .target_accept(o.target_accept)
        .max_treedepth(o.max_treedepth)
        .step_size(o.step_size)
        .noncenter(o.noncenter)
        .threads(1)
        .progress(false);
    if let Some(ids) = &o.only_chains {
        s = s.only_chains(ids.clone());
    }
    if let Some((i, values)) = &o.init {
        let names: Vec<&str> = m.nodes().iter().map(|n| n.name.as_str()).collect();
        if !names.is_empty() {
            let set: std::collections::HashMap<String, Vec<f64>> =
                [(names[i % names.len()].to_string(), values.clone())].into();
            // One set for all chains, or one per chain (sometimes one too many) where the
            // chains are few enough to list.
            s = s.init(match o.seed % 3 {
                r if r > 0 && o.chains <= 64 => Init::PerChain(vec![set; o.chains + r as usize - 1]),
                _ => Init::Values(set),
            });
        }
    }
    if let Ok(fit) = s.run() {
        // Everything a user reads from a fit.
        let _ = fit.summary().to_string();
        let _ = (fit.bfmi(), fit.min_ess_bulk(), fit.divergences());
    }
    optimize(m, o);
}

/// A short maximum a posteriori search from the same start, and a Laplace approximation and
/// Pathfinder where the free values are few (the Hessian costs two gradients per coordinate).
fn optimize(m: &Model, o: &Options) {
    let mut opt = Optimizer::new(m).seed(o.seed).max_iters(30).jacobian(o.noncenter);
    if let Some((i, values)) = &o.init {
        let names: Vec<&str> = m.nodes().iter().map(|n| n.name.as_str()).collect();
        if !names.is_empty() {
            opt = opt.init(Init::Values([(names[i % names.len()].to_string(), values.clone())].into()));
        }
    }
    if let Ok(map) = opt.run() {
        let _ = map.to_string();
    }
    let free: usize = m.nodes().iter().filter(|n| n.is_free()).map(|n| n.len()).sum();
    if free <= 50
        && let Ok(l) = opt.laplace(o.draws.min(50))
    {
        let _ = l.fit.summary().to_string();
    }
    if free <= 50 {
        let small = PathfinderOptions {
            paths: 2,
            draws_per_path: o.draws.clamp(1, 30),
            draws: o.draws.clamp(1, 30),
            elbo_draws: 3,
            resample: o.seed.is_multiple_of(2),
            // 0 to 31: 0 is refused.
            history: (o.seed / 2 % 32) as usize,
        };
        if let Ok(pf) = opt.pathfinder(&small) {
            let _ = pf.fit.summary().to_string();
        }
    }
}

/// The GPU kernels of a model that compiles: generated for both precisions and mappings and
/// validated with naga (no device needed).
fn kernels(m: &Model) {
    let Ok(c) = exmc::compile::compile(m, RewriteOptions::default()) else { return };
    if c.logp_grad.lens.iter().any(|&l| l > 100_000) || c.logp_grad.len() > 20_000 {
        return; // codegen is linear, but naga's validation of such modules takes seconds
    }
    for precision in [Precision::F32, Precision::F64] {
        for choice in [MappingChoice::Invocation, MappingChoice::Workgroup] {
            let mapping = Mapping::choose(&c.logp_grad, choice);
            for src in [
                batch_logp_grad_module(&c.logp_grad, precision, mapping),
                step_module(&c.logp_grad, 10, 7, precision, 4, (mapping, 0)),
            ]
            .into_iter()
            .flatten()
            .map(|m| m.code)
            {
                let module = naga::front::wgsl::parse_str(&src)
                    .unwrap_or_else(|e| panic!("generated WGSL does not parse: {}", e.emit_to_string(&src)));
                let caps = match precision {
                    Precision::F32 => naga::valid::Capabilities::default(),
                    Precision::F64 => {
                        naga::valid::Capabilities::default() | naga::valid::Capabilities::FLOAT64
                    }
                };
                if let Err(e) =
                    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps).validate(&module)
                {
                    panic!("generated WGSL does not validate: {e:?}");
                }
            }
        }
    }
}

fn one_case(steps: &[Step], muts: &[Mutation], opts: &Options, gpu: bool) -> Result<(), TestCaseError> {
    common::fuzz::case_started(|| format!("{steps:?}\n{muts:?}\n{opts:?}"));
    let m = build(steps);
    let json = m.to_json().map_err(|e| TestCaseError::fail(format!("to_json: {e}")))?;
    let back = Model::from_json(&json).map_err(|e| TestCaseError::fail(format!("round trip: {e}")))?;
    prop_assert_eq!(&back, &m);
    if let Ok(mutated) = Model::from_json(&mutate(&json, muts)) {
        sample(&mutated, opts);
    }
    sample(&m, opts);
    if gpu {
        kernels(&m);
    }
    Ok(())
}

#[test]
fn fuzz_builder_json_sampler_and_codegen() {
    let strategy = (
        prop::collection::vec(step(), 0..10),
        prop::collection::vec(mutation(), 1..4),
        options(),
        prop::bool::weighted(0.25),
    );
    let r = common::fuzz::run(20, strategy, |(steps, muts, opts, gpu)| one_case(&steps, &muts, &opts, gpu));
    eprintln!("fuzz: {} cases in {} s ({} runs of 64, seeds from {})", r.cases, r.secs, r.runs, r.first_seed);
}
