//! Static shapes: scalars, vectors and matrices, with NumPy's broadcasting.

use serde::{Deserialize, Serialize};

/// Shape of a node or expression value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// One value.
    Scalar,
    /// A vector of the given length.
    Vector(usize),
    /// A matrix of `.0` rows and `.1` columns, stored row by row: a data node
    /// (`Model::data_matrix`), a free node (`Model::rv_matrix`, an LKJ Cholesky factor), a
    /// product [`Expr::matmul`](crate::model::Expr::matmul), a
    /// [`Expr::reshape`](crate::model::Expr::reshape), and elementwise operations on them.
    Matrix(usize, usize),
}

impl Shape {
    /// Most elements a node may have: GPU kernels index with 32-bit integers, and a vector this
    /// long already takes 32 GiB per copy.
    pub const MAX_LEN: usize = u32::MAX as usize;

    /// Number of scalar elements.
    pub fn len(self) -> usize {
        match self {
            Shape::Scalar => 1,
            Shape::Vector(n) => n,
            Shape::Matrix(r, c) => r.saturating_mul(c),
        }
    }

    /// Elements per row: a matrix's columns, else every element (an ordered node's rows).
    pub fn row_len(self) -> usize {
        match self {
            Shape::Matrix(_, cols) => cols,
            _ => self.len(),
        }
    }

    /// Whether there are no elements (an empty vector).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Dimensions as a list (`[]`, `[n]` or `[rows, cols]`), as trace files want them.
    pub fn dims(self) -> Vec<usize> {
        match self {
            Shape::Scalar => vec![],
            Shape::Vector(n) => vec![n],
            Shape::Matrix(r, c) => vec![r, c],
        }
    }

    /// Shape of a value of `len` elements (1 is a scalar).
    pub fn of_len(len: usize, vector: bool) -> Shape {
        if vector { Shape::Vector(len) } else { Shape::Scalar }
    }

    /// Broadcast of two shapes, as NumPy's: a scalar broadcasts to anything, and a vector of
    /// `c` values to each row of an `r × c` matrix; a vector of `r·c` values combines with the
    /// matrix element by element, row by row. `None` when lengths differ otherwise.
    pub fn broadcast(self, other: Shape) -> Option<Shape> {
        match (self, other) {
            (Shape::Scalar, s) | (s, Shape::Scalar) => Some(s),
            (Shape::Vector(a), Shape::Vector(b)) if a == b => Some(self),
            (m @ Shape::Matrix(_, c), Shape::Vector(v)) | (Shape::Vector(v), m @ Shape::Matrix(_, c))
                if v == c =>
            {
                Some(m)
            }
            // Row by row with a vector of as many values (the flat form of the same matrix).
            (m @ Shape::Matrix(..), Shape::Vector(v)) | (Shape::Vector(v), m @ Shape::Matrix(..))
                if v == m.len() =>
            {
                Some(m)
            }
            (Shape::Matrix(..), Shape::Matrix(..)) if self == other => Some(self),
            _ => None,
        }
    }

    /// Whether a value of this shape fits a node of shape `node`: it broadcasts to it, or it is
    /// a matrix whose rows, in order, are the node's values.
    pub fn fits(self, node: Shape) -> bool {
        let row_over_matrix =
            matches!((self, node), (Shape::Vector(v), Shape::Matrix(..)) if v != node.len());
        self == node
            || (self.broadcast(node) == Some(node) && !row_over_matrix)
            || (matches!(self, Shape::Matrix(..))
                && matches!(node, Shape::Vector(_))
                && self.len() == node.len())
    }

    /// The index of element `e` (row by row) as written in brackets: `3` in a vector, `1, 2`
    /// in a matrix (ArviZ's and PyMC's `beta[1, 2]`). The first index takes what the others
    /// leave, so a position past the end is still written as given (`theta[5]` of three).
    pub fn index_label(dims: &[usize], e: usize) -> String {
        if dims.len() < 2 {
            return e.to_string();
        }
        let mut index = vec![0; dims.len()];
        let mut rest = e;
        for (i, &n) in index.iter_mut().zip(dims).skip(1).rev() {
            *i = rest % n.max(1);
            rest /= n.max(1);
        }
        index[0] = rest;
        index.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
    }

    /// The name of element `e` (row by row) of a value named `name` with dimensions `dims`:
    /// `theta[3]`, `beta[1, 2]`, `a[Aitkin]` or `beta[x1, a]` with labels, and `name` itself
    /// for a scalar (no dimensions). Nodes, traces and unconstrained positions all name
    /// elements so.
    pub fn element_name(name: &str, dims: &[usize], labels: Option<&[String]>, e: usize) -> String {
        match labels {
            _ if dims.is_empty() => name.to_string(),
            Some(l) if e < l.len() => format!("{name}[{}]", l[e]),
            _ => format!("{name}[{}]", Shape::index_label(dims, e)),
        }
    }

    /// The labels of a matrix's elements, row by row, from the labels of its rows and of its
    /// columns: `"x1, a"` (ArviZ's `beta[x1, a]`).
    pub fn matrix_labels(rows: &[String], cols: &[String]) -> Vec<String> {
        rows.iter().flat_map(|r| cols.iter().map(move |c| format!("{r}, {c}"))).collect()
    }

    /// The row and column labels that [`Shape::matrix_labels`] made `flat` from, for an
    /// `r × c` matrix; `None` when `flat` is not such a product.
    pub fn split_matrix_labels(flat: &[String], r: usize, c: usize) -> Option<(Vec<String>, Vec<String>)> {
        if r == 0 || c == 0 || flat.len() != r.checked_mul(c)? {
            return None;
        }
        let rows: Vec<String> = (0..r)
            .map(|i| flat[i * c].split_once(", ").map(|(a, _)| a.to_string()))
            .collect::<Option<_>>()?;
        let cols: Vec<String> =
            (0..c).map(|j| flat[j].split_once(", ").map(|(_, b)| b.to_string())).collect::<Option<_>>()?;
        // A row or column label with a comma would split elsewhere: not such a product.
        let commas = rows.iter().chain(&cols).any(|l| l.contains(','));
        (!commas && Shape::matrix_labels(&rows, &cols) == flat).then_some((rows, cols))
    }

    /// The element (row by row) that a bracketed index names: `3`, or `1, 2` in a matrix
    /// (spaces optional); a single number is also the flat position in a matrix. `None` when
    /// out of range.
    pub fn parse_index(dims: &[usize], text: &str) -> Option<usize> {
        let parts: Option<Vec<usize>> = text.split(',').map(|p| p.trim().parse().ok()).collect();
        let parts = parts?;
        let len: usize = dims.iter().product();
        match parts.as_slice() {
            [e] => (*e < len).then_some(*e),
            _ if parts.len() == dims.len() && parts.iter().zip(dims).all(|(i, n)| i < n) => {
                Some(parts.iter().zip(dims).fold(0, |acc, (&i, &n)| acc * n + i))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shape;

    #[test]
    fn index_labels_and_their_parse() {
        assert_eq!(Shape::index_label(&[], 0), "0");
        assert_eq!(Shape::index_label(&[3], 5), "5");
        assert_eq!(Shape::index_label(&[2, 3], 1), "0, 1");
        assert_eq!(Shape::index_label(&[2, 3], 5), "1, 2");
        // Past the end, the first index keeps counting.
        assert_eq!(Shape::index_label(&[2, 3], 7), "2, 1");
        for e in 0..6 {
            assert_eq!(Shape::parse_index(&[2, 3], &Shape::index_label(&[2, 3], e)), Some(e));
        }
        assert_eq!(Shape::parse_index(&[2, 3], "1,0"), Some(3));
        assert_eq!(Shape::parse_index(&[2, 3], " 5 "), Some(5));
        for bad in ["6", "2, 0", "0, 3", "0, 0, 0", "", "a", "-1", "1, "] {
            assert_eq!(Shape::parse_index(&[2, 3], bad), None, "{bad}");
        }
        assert_eq!(Shape::parse_index(&[0, 3], "0"), None);
    }

    #[test]
    fn matrix_labels_split_back_exactly() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let flat = Shape::matrix_labels(&s(&["x1", "x2"]), &s(&["a", "b", "c"]));
        assert_eq!(flat[5], "x2, c");
        assert_eq!(Shape::split_matrix_labels(&flat, 2, 3), Some((s(&["x1", "x2"]), s(&["a", "b", "c"]))));
        assert_eq!(Shape::split_matrix_labels(&flat, 3, 2), None);
        // A comma inside a row label (another tool's coordinates) does not split exactly.
        let commas = Shape::matrix_labels(&s(&["NY, US"]), &s(&["a", "b"]));
        assert_eq!(Shape::split_matrix_labels(&commas, 1, 2), None);
        assert_eq!(Shape::split_matrix_labels(&s(&["a", "b"]), 1, 2), None);
    }
}
