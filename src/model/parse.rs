//! Expression strings of model files: `"mu + tau * theta_z"`, `"X @ beta"`,
//! `"a[county] + b * floor"`, `"exp(-x) / (1 + x^2)"`.
//!
//! Grammar, loosest binding first: `==` (data only: 1 where equal, else 0); `+ -`; `* / @`
//! (matrix × vector or matrix); unary `-`; `^` (right associative); postfix `x[i]` (element
//! `i` for a whole number, a gather for integer data) and `m[i, j]` (a matrix's element, or
//! pairs of elements); atoms are numbers, names, `f(args)` and parentheses. Parsing is
//! iterative (shunting-yard into reverse Polish notation), so nesting depth costs no stack;
//! every error carries the column.

/// A parse or evaluation error at a 1-based column of the expression.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub reason: String,
}

fn err<T>(column: usize, reason: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError { column, reason: reason.into() })
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    /// `+ - * / @`
    Op(char),
    /// `^` or `**`
    Pow,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let s: String = chars[start..i].iter().collect();
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => out.push((Tok::Num(v), col)),
                _ => return err(col, format!("`{s}` is not a finite number")),
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), col));
            continue;
        }
        let tok = match c {
            '=' if chars.get(i + 1) == Some(&'=') => {
                i += 1;
                Tok::Op('=')
            }
            '+' | '-' | '/' | '@' => Tok::Op(c),
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                Tok::Pow
            }
            '*' => Tok::Op('*'),
            '^' => Tok::Pow,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            other => return err(col, format!("unexpected character `{other}`")),
        };
        out.push((tok, col));
        i += 1;
    }
    Ok(out)
}

/// One step of an expression in reverse Polish notation, with its column.
#[derive(Clone, Debug, PartialEq)]
pub enum Rpn {
    /// A number literal.
    Num(f64),
    /// A name (a node, data or transformed data).
    Name(String),
    /// A binary operator: `+ - * / @ ^`, and `=` for `==`.
    Bin(char),
    /// Unary minus.
    Neg,
    /// A call of `.0` with `.1` arguments.
    Call(String, usize),
    /// `x[i]` (`.0` = 1) or `x[i, j]` (2): operand then indices.
    Index(usize),
}

#[derive(Clone, Debug)]
enum Pending {
    Bin(char),
    Neg,
    LParen,
    /// A function's opening parenthesis: name, column.
    Call(String, usize),
    LBracket,
}

fn precedence(op: &Pending) -> (u8, bool) {
    // (precedence, right-associative)
    match op {
        Pending::Bin('=') => (1, false),
        Pending::Bin('+' | '-') => (2, false),
        Pending::Bin('^') => (5, true),
        Pending::Bin(_) => (3, false),
        Pending::Neg => (4, true),
        _ => (0, false),
    }
}

/// Parses an expression into reverse Polish notation (iteratively).
pub fn parse(text: &str) -> Result<Vec<(Rpn, usize)>, ParseError> {
    let toks = lex(text)?;
    if toks.is_empty() {
        return err(1, "empty expression");
    }
    let mut out: Vec<(Rpn, usize)> = Vec::with_capacity(toks.len());
    let mut ops: Vec<(Pending, usize)> = Vec::new();
    // Argument counts of open calls (one entry per open call).
    let mut argc: Vec<usize> = Vec::new();
    // Whether the previous token ends an operand (so `-` is binary, `[` is an index).
    let mut after_operand = false;
    let pop_op = |out: &mut Vec<(Rpn, usize)>, (op, col): (Pending, usize)| match op {
        Pending::Bin(c) => out.push((Rpn::Bin(c), col)),
        Pending::Neg => out.push((Rpn::Neg, col)),
        _ => {}
    };
    let mut k = 0;
    while k < toks.len() {
        let (tok, col) = toks[k].clone();
        match tok {
            Tok::Num(v) => {
                if after_operand {
                    return err(col, "expected an operator before this number");
                }
                out.push((Rpn::Num(v), col));
                after_operand = true;
            }
            Tok::Ident(name) => {
                if after_operand {
                    return err(col, format!("expected an operator before `{name}`"));
                }
                if matches!(toks.get(k + 1), Some((Tok::LParen, _))) {
                    ops.push((Pending::Call(name, col), col));
                    argc.push(0);
                    k += 2;
                    if matches!(toks.get(k), Some((Tok::RParen, _))) {
                        // f(): no arguments.
                        let (Some((Pending::Call(name, c), _)), Some(n)) = (ops.pop(), argc.pop()) else {
                            return err(col, "unbalanced call");
                        };
                        out.push((Rpn::Call(name, n), c));
                        after_operand = true;
                        k += 1;
                    } else {
                        after_operand = false;
                    }
                    continue;
                }
                out.push((Rpn::Name(name), col));
                after_operand = true;
            }
            Tok::Op(_) | Tok::Pow if !after_operand => match tok {
                Tok::Op('-') => ops.push((Pending::Neg, col)),
                // A unary plus changes nothing.
                Tok::Op('+') => {}
                Tok::Op(c) => return err(col, format!("expected a value before `{c}`")),
                _ => return err(col, "expected a value before `^`"),
            },
            Tok::Op(_) | Tok::Pow => {
                let c = if let Tok::Op(c) = tok { c } else { '^' };
                let this = Pending::Bin(c);
                let (p, right) = precedence(&this);
                while let Some((top, _)) = ops.last() {
                    let (q, _) = precedence(top);
                    let stop = matches!(top, Pending::LParen | Pending::Call(..) | Pending::LBracket);
                    if stop || q < p || (q == p && right) {
                        break;
                    }
                    let popped = ops.pop().expect("checked");
                    pop_op(&mut out, popped);
                }
                ops.push((this, col));
                after_operand = false;
            }
            Tok::LParen => {
                if after_operand {
                    return err(col, "expected an operator before `(`");
                }
                ops.push((Pending::LParen, col));
            }
            Tok::LBracket => {
                if !after_operand {
                    return err(col, "`[` must follow a value to index");
                }
                ops.push((Pending::LBracket, col));
                argc.push(0);
                after_operand = false;
            }
            Tok::Comma => {
                if !after_operand {
                    return err(col, "expected a value before `,`");
                }
                loop {
                    match ops.last() {
                        Some((Pending::Call(..) | Pending::LBracket, _)) => break,
                        Some((Pending::LParen, _)) | None => {
                            return err(col, "`,` outside a function call or an index");
                        }
                        Some(_) => {
                            let popped = ops.pop().expect("checked");
                            pop_op(&mut out, popped);
                        }
                    }
                }
                if let Some(n) = argc.last_mut() {
                    *n += 1;
                }
                after_operand = false;
            }
            Tok::RParen | Tok::RBracket => {
                if !after_operand {
                    return err(col, "expected a value before the closing bracket");
                }
                loop {
                    let Some((top, top_col)) = ops.pop() else {
                        return err(col, "unbalanced closing bracket");
                    };
                    match (top, &tok) {
                        (Pending::LParen, Tok::RParen) => break,
                        (Pending::Call(name, c), Tok::RParen) => {
                            let n = argc.pop().unwrap_or(0) + 1;
                            out.push((Rpn::Call(name, n), c));
                            break;
                        }
                        (Pending::LBracket, Tok::RBracket) => {
                            let n = argc.pop().unwrap_or(0) + 1;
                            out.push((Rpn::Index(n), top_col));
                            break;
                        }
                        (Pending::LParen | Pending::Call(..) | Pending::LBracket, _) => {
                            return err(col, "mismatched brackets");
                        }
                        (other, _) => pop_op(&mut out, (other, top_col)),
                    }
                }
                after_operand = true;
            }
        }
        k += 1;
    }
    if !after_operand {
        return err(text.chars().count().max(1), "the expression ends without a value");
    }
    while let Some((op, col)) = ops.pop() {
        match op {
            Pending::LParen | Pending::Call(..) | Pending::LBracket => return err(col, "unclosed bracket"),
            other => pop_op(&mut out, (other, col)),
        }
    }
    Ok(out)
}

/// The names an expression reads, with their columns (for dependency order).
pub fn names(rpn: &[(Rpn, usize)]) -> Vec<(&str, usize)> {
    rpn.iter()
        .filter_map(|(r, c)| match r {
            Rpn::Name(n) => Some((n.as_str(), *c)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str) -> String {
        parse(text)
            .unwrap()
            .iter()
            .map(|(r, _)| match r {
                Rpn::Num(v) => format!("{v}"),
                Rpn::Name(n) => n.clone(),
                Rpn::Bin(c) => c.to_string(),
                Rpn::Neg => "neg".into(),
                Rpn::Call(f, n) => format!("{f}/{n}"),
                Rpn::Index(n) => format!("[]/{n}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(show("mu + tau * theta_z"), "mu tau theta_z * +");
        assert_eq!(show("a - b - c"), "a b - c -");
        assert_eq!(show("2 ^ 3 ^ 2"), "2 3 2 ^ ^");
        assert_eq!(show("-x ^ 2"), "x 2 ^ neg");
        assert_eq!(show("-x * y"), "x neg y *");
        assert_eq!(show("X @ beta + a[county] * 2"), "X beta @ a county []/1 2 * +");
        assert_eq!(show("exp(-(x + 1)) / dot(a, b[0])"), "x 1 + neg exp/1 a b 0 []/1 dot/2 /");
        // A matrix element: row and column, with calls and indices inside.
        assert_eq!(show("L[1, f(i, 2)] * b[a[0], 1]"), "L 1 i 2 f/2 []/2 b a 0 []/1 1 []/2 *");
        assert_eq!(show("f() + x ** 2.5e-1"), "f/0 x 0.25 ^ +");
        assert_eq!(show("+x"), "x");
        assert_eq!(show("w == 2 * k"), "w 2 k * =");
    }

    #[test]
    fn errors_carry_columns() {
        for (text, column) in [
            ("a + ", 4),
            ("a + * b", 5),
            ("(a + b", 1),
            ("a + b)", 6),
            ("a b", 3),
            ("a[1", 2),
            ("f(a,, b)", 5),
            ("x $ y", 3),
            ("", 1),
            ("[1]", 1),
            ("1e999", 1),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.column, column, "{text:?}: {e:?}");
        }
    }

    #[test]
    fn deep_nesting_is_iterative() {
        let deep = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(parse(&deep).unwrap().len(), 1);
        let neg = format!("{}x", "-".repeat(100_000));
        assert_eq!(parse(&neg).unwrap().len(), 100_001);
    }
}
