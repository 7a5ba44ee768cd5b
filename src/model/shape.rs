//! Static shapes: scalars and vectors, with scalar-vector broadcasting.

use serde::{Deserialize, Serialize};

/// Shape of a node or expression value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// One value.
    Scalar,
    /// A vector of the given length.
    Vector(usize),
    /// A matrix of `.0` rows and `.1` columns, stored row by row: only data nodes
    /// (`Model::data_matrix`) have it, and only `Expr::matvec` reads one.
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

    /// Whether there are no elements (an empty vector).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Dimensions as a list (`[]` or `[n]`), as trace files want them.
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

    /// Broadcast of two shapes, or `None` when vector lengths differ (matrices broadcast with
    /// nothing: elementwise operations do not take them).
    pub fn broadcast(self, other: Shape) -> Option<Shape> {
        match (self, other) {
            (Shape::Matrix(..), _) | (_, Shape::Matrix(..)) => None,
            (Shape::Scalar, s) | (s, Shape::Scalar) => Some(s),
            (Shape::Vector(a), Shape::Vector(b)) if a == b => Some(self),
            _ => None,
        }
    }
}
