//! Neighbourhood graphs of areal models ([`Car`](super::Car), [`Icar`](super::Icar)): the
//! checks of an adjacency matrix `W` and the packed form the compiler gives the density
//! instead of the `K × K` matrix.
//!
//! A density over a graph reads its edges (`O(edges)` per evaluation, not `O(K²)`), the
//! degrees `Dᵢ = Σⱼ Wᵢⱼ` and a spectrum of the graph computed once (`O(K³)` at compile time):
//! the log determinant of a CAR precision `τ(D − αW)` is `K ln τ + Σ ln Dᵢ + Σ ln(1 − αλᵢ)`
//! with `λ` the eigenvalues of `D^{-1/2} W D^{-1/2}`, and an ICAR's normalising constant
//! holds the pseudo-determinant of the graph Laplacian `D − W`.
//!
//! The packed form is `[−(m + 1), c, D₀ … D_{K−1}, λ₀ … λ_{K−1}, i₀, j₀, w₀, …]`: the number
//! of edges `m` (negated, less one: a weight matrix starts with its zero diagonal element, so a
//! density told either form knows which it has), the constant part `c` of the log determinant
//! (`Σ ln Dᵢ` for a CAR, `ln pdet(D − W)` for an ICAR: summed once here rather than at every
//! evaluation), the degrees, the spectrum (ascending), then each edge `i < j` with its weight.

use nalgebra::DMatrix;

use super::vector::square_side;

/// Largest asymmetry `|Wᵢⱼ − Wⱼᵢ| / max(|Wᵢⱼ|, |Wⱼᵢ|, 1)` accepted.
const SYMMETRY_TOLERANCE: f64 = 1e-10;

/// Which spectrum a family's packed graph holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spectrum {
    /// The eigenvalues of `D^{-1/2} W D^{-1/2}` (a CAR's determinant), in `[−1, 1]`.
    Normalised,
    /// The eigenvalues of the Laplacian `D − W` (an ICAR's pseudo-determinant); the first is
    /// 0 for a connected graph.
    Laplacian,
}

/// The side `K` of an adjacency matrix of `len` values, or why it is not one.
pub(crate) fn side(len: usize) -> Result<usize, String> {
    square_side(len).ok_or_else(|| format!("W has {len} values, not K × K with K ≥ 2"))
}

/// The rules an adjacency matrix (row by row) keeps: square, finite, non-negative, symmetric,
/// zero on the diagonal, and every area with at least one neighbour. Returns `K`.
pub(crate) fn check(w: &[f64]) -> Result<usize, String> {
    let k = side(w.len())?;
    for i in 0..k {
        if w[i * k + i] != 0.0 {
            return Err(format!(
                "W[{i}, {i}] = {}: an area is not its own neighbour (the diagonal must be 0)",
                w[i * k + i]
            ));
        }
        for j in 0..k {
            let v = w[i * k + j];
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("W[{i}, {j}] = {v}: weights must be finite and ≥ 0"));
            }
            let u = w[j * k + i];
            if j < i && (v - u).abs() > SYMMETRY_TOLERANCE * v.abs().max(u.abs()).max(1.0) {
                return Err(format!("W must be symmetric (W[{i}, {j}] = {v}, W[{j}, {i}] = {u})"));
            }
        }
        if (0..k).all(|j| w[i * k + j] == 0.0) {
            return Err(format!("area {i} has no neighbours (row {i} of W is 0)"));
        }
        if !w[i * k..(i + 1) * k].iter().sum::<f64>().is_finite() {
            return Err(format!("row {i} of W sums to infinity"));
        }
    }
    Ok(k)
}

/// Why an ICAR refuses a graph of `parts` separate parts.
pub(crate) fn parts_refused(parts: usize) -> String {
    format!(
        "the graph of W has {parts} separate parts: an ICAR needs a connected graph (give each part its \
         own ICAR, or an island area its own normal)"
    )
}

/// The number of connected components of the graph of `W` (`K × K`, checked).
pub(crate) fn components(w: &[f64], k: usize) -> usize {
    let mut seen = vec![false; k];
    let mut count = 0;
    for start in 0..k {
        if seen[start] {
            continue;
        }
        count += 1;
        seen[start] = true;
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            for j in 0..k {
                if w[i * k + j] > 0.0 && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
    }
    count
}

/// The packed form of an adjacency matrix with the spectrum `spectrum`, or the rule it breaks
/// ([`check`]; a Laplacian's graph must also be connected, for its one zero eigenvalue).
pub(crate) fn pack(w: &[f64], spectrum: Spectrum) -> Result<Vec<f64>, String> {
    let k = check(w)?;
    if spectrum == Spectrum::Laplacian {
        match components(w, k) {
            1 => {}
            parts => return Err(parts_refused(parts)),
        }
    }
    let degree: Vec<f64> = (0..k).map(|i| w[i * k..(i + 1) * k].iter().sum()).collect();
    let matrix = DMatrix::from_fn(k, k, |i, j| match spectrum {
        Spectrum::Normalised => w[i * k + j] / (degree[i] * degree[j]).sqrt(),
        Spectrum::Laplacian if i == j => degree[i],
        Spectrum::Laplacian => -w[i * k + j],
    });
    // Eigenvalues only (no eigenvectors accumulated).
    let mut lam: Vec<f64> = matrix.symmetric_eigenvalues().iter().copied().collect();
    lam.sort_by(f64::total_cmp);
    let mut edges = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            // The mean of the two halves: within the symmetry tolerance, either would do.
            let v = 0.5 * (w[i * k + j] + w[j * k + i]);
            if v > 0.0 {
                edges.extend([i as f64, j as f64, v]);
            }
        }
    }
    let constant = match spectrum {
        Spectrum::Normalised => degree.iter().map(|d| d.ln()).sum(),
        // The smallest eigenvalue is the connected graph's one zero.
        Spectrum::Laplacian => lam[1..].iter().map(|l| l.ln()).sum(),
    };
    let mut out = Vec::with_capacity(2 + 2 * k + edges.len());
    out.push(-((edges.len() / 3) as f64) - 1.0);
    out.push(constant);
    out.extend(degree);
    out.extend(lam);
    out.extend(edges);
    Ok(out)
}

/// A packed graph, read.
pub(crate) struct Packed<'a> {
    /// The constant part of the log determinant: `Σ ln Dᵢ` ([`Spectrum::Normalised`]) or
    /// `ln pdet(D − W)` ([`Spectrum::Laplacian`]).
    pub constant: f64,
    /// Degrees `Dᵢ`.
    pub degree: &'a [f64],
    /// The spectrum, ascending.
    pub lam: &'a [f64],
    /// `(i, j, w)` per edge, flat.
    pub edges: &'a [f64],
}

impl Packed<'_> {
    /// Edge `e` as `(i, j, w)`.
    pub fn edge(&self, e: usize) -> (usize, usize, f64) {
        (self.edges[3 * e] as usize, self.edges[3 * e + 1] as usize, self.edges[3 * e + 2])
    }

    /// The number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len() / 3
    }
}

/// Whether `g` is a packed graph (rather than a `K × K` matrix, whose first element is 0).
pub(crate) fn is_packed(g: &[f64]) -> bool {
    g.first().is_some_and(|&h| h < 0.0)
}

/// The number of edges of a packed graph of `k` areas of `len` values, when `len` fits.
pub(crate) fn packed_edges(len: usize, k: usize) -> Option<usize> {
    let rest = len.checked_sub(2 + 2 * k)?;
    (k >= 2 && rest.is_multiple_of(3)).then_some(rest / 3)
}

/// Reads a packed graph of `k ≥ 2` areas; `None` when `g` does not have that form (its length,
/// its header, an edge's areas out of order or range, a degree that is not positive).
pub(crate) fn unpack(g: &[f64], k: usize) -> Option<Packed<'_>> {
    let m = packed_edges(g.len(), k)?;
    if g[0] != -(m as f64) - 1.0 {
        return None;
    }
    let p =
        Packed { constant: g[1], degree: &g[2..2 + k], lam: &g[2 + k..2 + 2 * k], edges: &g[2 + 2 * k..] };
    let edges_fit = p.edges.chunks(3).all(|e| {
        let (i, j) = (e[0], e[1]);
        i.fract() == 0.0 && j.fract() == 0.0 && 0.0 <= i && i < j && j < k as f64 && e[2] > 0.0
    });
    (edges_fit && p.degree.iter().all(|&d| d > 0.0)).then_some(p)
}

/// Runs `f` with the packed graph of `g` for `k` areas (packing a `K × K` matrix first,
/// `O(K³)`), or returns NaN when `g` is neither form or breaks a rule.
pub(crate) fn with_packed(g: &[f64], k: usize, spectrum: Spectrum, f: impl FnOnce(&Packed) -> f64) -> f64 {
    if is_packed(g) {
        return unpack(g, k).map_or(f64::NAN, |p| f(&p));
    }
    if g.len() != k * k {
        return f64::NAN;
    }
    match pack(g, spectrum) {
        Ok(owned) => unpack(&owned, k).map_or(f64::NAN, |p| f(&p)),
        Err(_) => f64::NAN,
    }
}

/// WGSL reading the packed graph argument `j` of `k` areas: the names of its degree,
/// spectrum and edge accessors, as closures of the element index (a `u32` expression).
pub(crate) struct PackedWgsl<'a> {
    code: &'a super::vector::VecCode<'a>,
    j: usize,
    k: usize,
}

impl<'a> PackedWgsl<'a> {
    /// The packed graph in argument `j` of `code`, for `k` areas.
    pub fn new(code: &'a super::vector::VecCode<'a>, j: usize, k: usize) -> Self {
        PackedWgsl { code, j, k }
    }

    /// The number of edges (from the argument's length), `None` when the argument is not a
    /// packed graph of `k` areas.
    pub fn edge_count(&self) -> Option<usize> {
        packed_edges(self.code.lens[self.j], self.k)
    }

    /// The constant part of the log determinant ([`Packed::constant`]).
    pub fn constant(&self) -> String {
        (self.code.arg)(self.j, "1u")
    }

    /// `Dᵢ` at index expression `i`.
    pub fn degree(&self, i: &str) -> String {
        (self.code.arg)(self.j, &format!("2u + {i}"))
    }

    /// `λᵢ` at index expression `i`.
    pub fn lam(&self, i: &str) -> String {
        (self.code.arg)(self.j, &format!("{}u + {i}", 2 + self.k))
    }

    /// Field `f` (0: `i`, 1: `j`, 2: `w`) of edge `e`.
    pub fn edge(&self, e: &str, f: usize) -> String {
        (self.code.arg)(self.j, &format!("{}u + 3u * {e}", 2 + 2 * self.k + f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path 0 – 1 – 2 and an island pair 3 – 4.
    fn two_parts() -> Vec<f64> {
        let mut w = vec![0.0; 25];
        for (i, j) in [(0, 1), (1, 2), (3, 4)] {
            w[i * 5 + j] = 1.0;
            w[j * 5 + i] = 1.0;
        }
        w
    }

    #[test]
    fn packs_degrees_spectrum_and_edges() {
        let w = two_parts();
        assert_eq!(components(&w, 5), 2);
        assert!(pack(&w, Spectrum::Laplacian).unwrap_err().contains("2 separate parts"));
        let g = pack(&w, Spectrum::Normalised).unwrap();
        assert!(is_packed(&g) && !is_packed(&w));
        let p = unpack(&g, 5).unwrap();
        assert_eq!(p.degree, &[1.0, 2.0, 1.0, 1.0, 1.0]);
        // D^{-1/2} W D^{-1/2}: the path's ±1 and 0, the pair's ±1 (bipartite parts).
        for (got, want) in p.lam.iter().zip([-1.0, -1.0, 0.0, 1.0, 1.0]) {
            assert!((got - want).abs() < 1e-12, "{:?}", p.lam);
        }
        assert_eq!(p.edge_count(), 3);
        assert_eq!(p.edge(2), (3, 4, 1.0));
        // The path's Laplacian alone: 0, 1, 3.
        let path: Vec<f64> = (0..9).map(|e| w[e / 3 * 5 + e % 3]).collect();
        let g = pack(&path, Spectrum::Laplacian).unwrap();
        let p = unpack(&g, 3).unwrap();
        for (got, want) in p.lam.iter().zip([0.0, 1.0, 3.0]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        // ln pdet = ln 1 + ln 3; a CAR's constant is Σ ln Dᵢ = ln 2 (degrees 1, 2, 1).
        assert!((p.constant - 3f64.ln()).abs() < 1e-12, "{}", p.constant);
        let n = pack(&path, Spectrum::Normalised).unwrap();
        assert!((unpack(&n, 3).unwrap().constant - 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn packed_graphs_are_read_only_when_whole() {
        let mut w = vec![0.0; 9];
        for (i, j) in [(0, 1), (1, 2)] {
            w[i * 3 + j] = 1.0;
            w[j * 3 + i] = 1.0;
        }
        let g = pack(&w, Spectrum::Normalised).unwrap();
        assert_eq!(g[0], -3.0);
        assert!(unpack(&g, 3).is_some());
        // Another number of areas, a cut edge list, an edge out of range or order, a header
        // that does not count the edges.
        assert!(unpack(&g, 2).is_none() && unpack(&g[..g.len() - 1], 3).is_none());
        for (at, v) in [(8, 3.0), (9, 0.0), (2, -1.0), (0, -2.0)] {
            let mut bad = g.clone();
            bad[at] = v;
            assert!(unpack(&bad, 3).is_none(), "element {at} = {v}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_adjacency_matrix() {
        let cases: [(Vec<f64>, &str); 5] = [
            (vec![0.0, 1.0, 1.0], "not K × K"),
            (vec![1.0, 1.0, 1.0, 0.0], "diagonal must be 0"),
            (vec![0.0, -1.0, -1.0, 0.0], "≥ 0"),
            (vec![0.0, 1.0, 2.0, 0.0], "symmetric"),
            (vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], "area 2 has no neighbours"),
        ];
        for (w, want) in cases {
            let err = check(&w).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }
}
