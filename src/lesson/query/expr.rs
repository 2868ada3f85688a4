//! The little query language lessons use to point at things in a capture:
//! `syn(alice).tcp.options.mss`, `count(message(alice, 1).frames)`,
//! `synack(alice).tcp.ack_raw - syn(alice).tcp.seq_raw`,
//! `where(packets(alice), .tcp.len > 0 and .from == "client")`.
//!
//! ```text
//! expr    := or
//! or      := and (("or" | "||") and)*
//! and     := not (("and" | "&&") not)*
//! not     := ("not" | "!") not | compare
//! compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "contains") sum)?
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/" | "%") unary)*
//! unary   := "-" unary | postfix
//! postfix := primary ("." name)*          a dotted property path, e.g. .tcp.options.mss
//! primary := number | "string" | 'string' | true | false | name "(" args ")" | name
//!          | "." name ("." name)*          a property of the element inside where(...)
//!          | "it"                          the element itself, inside where(...)
//!          | "(" expr ")"
//! ```
//!
//! A bare name that is not called (`alice` in `syn(alice)`) is a piece of text: client names
//! and sides (`client`, `server`) need no quotes. Numbers are whole numbers, decimal or `0x` hex,
//! or have a fraction (`40.5`, as milliseconds from `ms(…)` do);
//! an IPv4 address (`10.0.0.1`) is a piece of text. Wireshark's spellings are accepted too:
//! `&&`, `||`, `!`, and `eq`, `ne`, `lt`, `le`, `gt`, `ge` for the comparisons.
//!
//! The timeline's display filter ([`super::filter`]) is the same language read in the *field*
//! dialect ([`parse_fields`]): there a bare dotted name is a field of the frame being tested
//! (`tcp.port == 8443` reads like `.tcp.port == 8443` inside `where(...)`), as in Wireshark.
//! This file only parses; [`super::typing`] checks types and [`super::evaluation`] evaluates.

use std::fmt;

/// A parsed query expression. `at` fields are character offsets in the source, for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A whole number.
    Num(i64),
    /// A number written with a fraction: `digits` / 10^`places` (`40.25` is `Dec(4025, 2)`).
    Dec(i64, u32),
    /// A piece of text (quoted, or a bare name).
    Text(String),
    /// `true` or `false`.
    Bool(bool),
    /// A function call: `syn(alice)`.
    Call {
        /// The function's name.
        name: String,
        /// Its arguments.
        args: Vec<Expr>,
        /// Where the name starts.
        at: usize,
    },
    /// A property path on a value: `syn(alice).tcp.seq` has path `["tcp", "seq"]`.
    Prop {
        /// The value whose property is read.
        base: Box<Expr>,
        /// The dotted name, split at the dots.
        path: Vec<String>,
        /// Where the path starts.
        at: usize,
    },
    /// A property of the current element inside `where(list, ...)`: `.tcp.len`.
    Item {
        /// The dotted name, split at the dots.
        path: Vec<String>,
        /// Where the path starts.
        at: usize,
    },
    /// `not x` or `-x`.
    Unary {
        /// Which.
        op: UnOp,
        /// Of what.
        expr: Box<Expr>,
    },
    /// `a + b`, `a == b`, `a and b`, ...
    Binary {
        /// Which operator.
        op: BinOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
        /// Where the operator is.
        at: usize,
    },
}

/// A prefix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// Logical not.
    Not,
    /// Arithmetic minus.
    Neg,
}

/// An infix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (whole-number division)
    Div,
    /// `%`: the remainder of a whole-number division, never negative
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `and`
    And,
    /// `or`
    Or,
    /// `contains`: a text holds another (or a list holds a value)
    Contains,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Contains => "contains",
        }
    }
}

/// Writes an expression back as text (normalised spacing), to show parts of a query.
pub fn render(e: &Expr) -> String {
    match e {
        Expr::Num(n) => n.to_string(),
        Expr::Dec(digits, places) => written_decimal(*digits, *places),
        // A bare name stays bare (`syn(alice)`), other texts are quoted.
        Expr::Text(t)
            if t.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && t.chars().all(|c| c.is_alphanumeric() || c == '_')
                && ![
                    "and", "or", "not", "true", "false", "it", "eq", "ne", "lt", "le", "gt", "ge",
                    "contains",
                ]
                .contains(&t.as_str()) =>
        {
            t.clone()
        }
        Expr::Text(t) => format!("{t:?}"),
        Expr::Bool(b) => b.to_string(),
        Expr::Call { name, args, .. } => format!(
            "{name}({})",
            args.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Expr::Prop { base, path, .. } => format!("{}.{}", render(base), path.join(".")),
        Expr::Item { path, .. } if path.is_empty() => "it".into(),
        Expr::Item { path, .. } => format!(".{}", path.join(".")),
        Expr::Unary {
            op: UnOp::Not,
            expr,
        } => format!("not {}", render(expr)),
        Expr::Unary {
            op: UnOp::Neg,
            expr,
        } => format!("-{}", render(expr)),
        Expr::Binary {
            op, left, right, ..
        } => {
            let side = |x: &Expr| match x {
                Expr::Binary { .. } => format!("({})", render(x)),
                _ => render(x),
            };
            format!("{} {} {}", side(left), op.symbol(), side(right))
        }
    }
}

/// Why an expression could not be parsed: the character offset and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character offset in the expression (0-based).
    pub at: usize,
    /// What was expected and what was found.
    pub what: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.at + 1, self.what)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i64),
    Dec(i64, u32),
    Str(String),
    Name(String),
    Dot,
    Comma,
    Open,
    Close,
    Op(&'static str),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("the number {n}"),
            Tok::Dec(d, p) => format!("the number {}", written_decimal(*d, *p)),
            Tok::Str(s) => format!("the text {s:?}"),
            Tok::Name(n) => format!("`{n}`"),
            Tok::Dot => "`.`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::Op(o) => format!("`{o}`"),
        }
    }
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, what: String| ParseError { at, what };
    while let Some(&c) = chars.get(i) {
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            if let Some(len) = ipv4_literal(chars.get(i..).unwrap_or_default()) {
                let addr: String = chars.get(i..i + len).unwrap_or_default().iter().collect();
                out.push((start, Tok::Str(addr)));
                i += len;
                continue;
            }
            let mut j = i;
            while chars
                .get(j)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                j += 1;
            }
            let word: String = chars.get(i..j).unwrap_or_default().iter().collect();
            let clean = word.replace('_', "");
            let value = match clean.strip_prefix("0x").or(clean.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16),
                None => clean.parse::<i64>(),
            }
            .map_err(|_| err(start, format!("`{word}` is not a whole number")))?;
            // A fraction: `40.5` (digits on both sides of the point; `0x` numbers have none).
            let fraction = (chars.get(j) == Some(&'.')
                && chars.get(j + 1).is_some_and(char::is_ascii_digit)
                && clean.chars().all(|c| c.is_ascii_digit()))
            .then(|| {
                let mut k = j + 1;
                while chars.get(k).is_some_and(char::is_ascii_digit) {
                    k += 1;
                }
                k
            });
            match fraction {
                Some(k) => {
                    let digits: String = chars.get(j + 1..k).unwrap_or_default().iter().collect();
                    let places = u32::try_from(digits.len()).unwrap_or(u32::MAX);
                    let mantissa = format!("{clean}{digits}")
                        .parse::<i64>()
                        .ok()
                        .filter(|_| places <= 9)
                        .ok_or_else(|| {
                            err(start, format!("`{word}.{digits}` has too many digits"))
                        })?;
                    out.push((start, Tok::Dec(mantissa, places)));
                    i = k;
                }
                None => {
                    out.push((start, Tok::Num(value)));
                    i = j;
                }
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while chars
                .get(j)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                j += 1;
            }
            let word: String = chars.get(i..j).unwrap_or_default().iter().collect();
            out.push((start, Tok::Name(word)));
            i = j;
            continue;
        }
        if c == '"' || c == '\'' {
            let mut j = i + 1;
            let mut text = String::new();
            loop {
                match chars.get(j) {
                    None => {
                        return Err(err(
                            start,
                            format!("the text starting here has no closing {c}"),
                        ))
                    }
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        match chars.get(j + 1) {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some(&other) => text.push(other),
                            None => return Err(err(j, "a lone `\\` at the end".into())),
                        }
                        j += 2;
                        continue;
                    }
                    Some(&other) => text.push(other),
                }
                j += 1;
            }
            out.push((start, Tok::Str(text)));
            i = j + 1;
            continue;
        }
        let two: String = chars.get(i..i + 2).unwrap_or_default().iter().collect();
        let op2 = ["==", "!=", "<=", ">=", "&&", "||"]
            .into_iter()
            .find(|o| *o == two);
        if let Some(op) = op2 {
            out.push((start, Tok::Op(op)));
            i += 2;
            continue;
        }
        let tok = match c {
            '.' => Tok::Dot,
            ',' => Tok::Comma,
            '(' => Tok::Open,
            ')' => Tok::Close,
            '+' => Tok::Op("+"),
            '-' => Tok::Op("-"),
            '*' => Tok::Op("*"),
            '/' => Tok::Op("/"),
            '%' => Tok::Op("%"),
            '<' => Tok::Op("<"),
            '>' => Tok::Op(">"),
            '!' => Tok::Op("!"),
            '=' => return Err(err(start, "a single `=`: compare with `==`".into())),
            '&' => return Err(err(start, "a single `&`: write `&&` or `and`".into())),
            '|' => return Err(err(start, "a single `|`: write `||` or `or`".into())),
            other => return Err(err(start, format!("unexpected character `{other}`"))),
        };
        out.push((start, tok));
        i += 1;
    }
    Ok(out)
}

/// A number with a fraction as it was written: `Dec(400001, 4)` is "40.0001".
fn written_decimal(digits: i64, places: u32) -> String {
    let text = digits.unsigned_abs().to_string();
    let places = places as usize;
    let padded = format!("{text:0>width$}", width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    let sign = if digits < 0 { "-" } else { "" };
    format!("{sign}{whole}.{fraction}")
}

/// The value of a number written with a fraction: `digits` / 10^`places`.
pub fn decimal_value(digits: i64, places: u32) -> f64 {
    digits as f64 / 10f64.powi(i32::try_from(places).unwrap_or(i32::MAX))
}

/// How many characters at the start of `chars` spell a dotted-quad IPv4 address, if they do.
fn ipv4_literal(chars: &[char]) -> Option<usize> {
    let len = chars
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == '.')
        .count();
    let text: String = chars.get(..len)?.iter().collect();
    // A name character straight after (`1.2.3.4x`) is not an address.
    if chars
        .get(len)
        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
    {
        return None;
    }
    text.parse::<std::net::Ipv4Addr>().ok().map(|_| len)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    /// The field dialect: a bare (dotted) name reads a field of the current element.
    fields: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(a, _)| *a)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn is_name(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == word)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    fn unexpected(&self, wanted: &str) -> ParseError {
        let found = self
            .peek()
            .map_or("the end of the expression".to_string(), Tok::describe);
        ParseError {
            at: self.at(),
            what: format!("expected {wanted}, found {found}"),
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.is_name("or") || self.is_op("||") {
            let at = self.at();
            self.next();
            let right = self.and()?;
            left = binary(BinOp::Or, left, right, at);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not()?;
        while self.is_name("and") || self.is_op("&&") {
            let at = self.at();
            self.next();
            let right = self.not()?;
            left = binary(BinOp::And, left, right, at);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.is_name("not") || self.is_op("!") {
            self.next();
            let expr = self.not()?;
            return Ok(Expr::Unary {
                op: UnOp::Not,
                expr: Box::new(expr),
            });
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, ParseError> {
        let left = self.sum()?;
        let op = match self.peek() {
            Some(Tok::Op("==")) => BinOp::Eq,
            Some(Tok::Op("!=")) => BinOp::Ne,
            Some(Tok::Op("<")) => BinOp::Lt,
            Some(Tok::Op("<=")) => BinOp::Le,
            Some(Tok::Op(">")) => BinOp::Gt,
            Some(Tok::Op(">=")) => BinOp::Ge,
            Some(Tok::Name(word)) => match word.as_str() {
                "eq" => BinOp::Eq,
                "ne" => BinOp::Ne,
                "lt" => BinOp::Lt,
                "le" => BinOp::Le,
                "gt" => BinOp::Gt,
                "ge" => BinOp::Ge,
                "contains" => BinOp::Contains,
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        let at = self.at();
        self.next();
        let right = self.sum()?;
        Ok(binary(op, left, right, at))
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("+")) => BinOp::Add,
                Some(Tok::Op("-")) => BinOp::Sub,
                _ => return Ok(left),
            };
            let at = self.at();
            self.next();
            let right = self.product()?;
            left = binary(op, left, right, at);
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op("*")) => BinOp::Mul,
                Some(Tok::Op("/")) => BinOp::Div,
                Some(Tok::Op("%")) => BinOp::Rem,
                _ => return Ok(left),
            };
            let at = self.at();
            self.next();
            let right = self.unary()?;
            left = binary(op, left, right, at);
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Tok::Op("-")) {
            self.next();
            let expr = self.unary()?;
            return Ok(Expr::Unary {
                op: UnOp::Neg,
                expr: Box::new(expr),
            });
        }
        self.postfix()
    }

    fn path(&mut self) -> Result<Vec<String>, ParseError> {
        let mut path = Vec::new();
        loop {
            match self.next() {
                Some(Tok::Name(n)) => path.push(n),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("a property name after `.`"));
                }
            }
            if self.peek() == Some(&Tok::Dot) {
                self.next();
            } else {
                return Ok(path);
            }
        }
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut expr = self.primary()?;
        while self.peek() == Some(&Tok::Dot) {
            self.next();
            let at = self.at();
            let path = self.path()?;
            expr = Expr::Prop {
                base: Box::new(expr),
                path,
                at,
            };
        }
        Ok(expr)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let at = self.at();
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Dec(d, p)) => Ok(Expr::Dec(d, p)),
            Some(Tok::Str(s)) => Ok(Expr::Text(s)),
            Some(Tok::Dot) => {
                let at = self.at();
                let path = self.path()?;
                Ok(Expr::Item { path, at })
            }
            Some(Tok::Open) => {
                let inner = self.or()?;
                if self.next() != Some(Tok::Close) {
                    self.pos -= 1;
                    return Err(self.unexpected("`)`"));
                }
                Ok(inner)
            }
            Some(Tok::Name(name)) => match name.as_str() {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                // Inside where(list, …), `it` is the element itself.
                "it" if self.peek() != Some(&Tok::Open) => Ok(Expr::Item {
                    path: Vec::new(),
                    at,
                }),
                _ if self.fields && self.peek() != Some(&Tok::Open) => {
                    // A field of the element being tested: `tcp.port`, `tls`.
                    let mut path = vec![name];
                    if self.peek() == Some(&Tok::Dot) {
                        self.next();
                        path.extend(self.path()?);
                    }
                    Ok(Expr::Item { path, at })
                }
                _ if self.peek() == Some(&Tok::Open) => {
                    self.next();
                    let mut args = Vec::new();
                    if self.peek() == Some(&Tok::Close) {
                        self.next();
                    } else {
                        loop {
                            args.push(self.or()?);
                            match self.next() {
                                Some(Tok::Comma) => continue,
                                Some(Tok::Close) => break,
                                _ => {
                                    self.pos -= 1;
                                    return Err(self.unexpected("`,` or `)`"));
                                }
                            }
                        }
                    }
                    Ok(Expr::Call { name, args, at })
                }
                _ => Ok(Expr::Text(name)),
            },
            _ => {
                self.pos -= 1;
                Err(self.unexpected("a value, a name or a function call"))
            }
        }
    }
}

fn binary(op: BinOp, left: Expr, right: Expr, at: usize) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
        at,
    }
}

/// Parses one query expression.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    parse_dialect(src, false)
}

/// Parses an expression in the field dialect, where a bare dotted name (`tcp.port`) reads a field
/// of the element being tested, as in a Wireshark display filter.
pub fn parse_fields(src: &str) -> Result<Expr, ParseError> {
    parse_dialect(src, true)
}

fn parse_dialect(src: &str, fields: bool) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(ParseError {
            at: 0,
            what: "the expression is empty".into(),
        });
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: src.chars().count(),
        fields,
    };
    let expr = p.or()?;
    if p.peek().is_some() {
        return Err(p.unexpected("an operator or the end of the expression"));
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Expr>, at: usize) -> Expr {
        Expr::Call {
            name: name.into(),
            args,
            at,
        }
    }

    #[test]
    fn property_paths_and_bare_names() {
        let e = parse("syn(alice).tcp.options.mss").unwrap();
        assert_eq!(
            e,
            Expr::Prop {
                base: Box::new(call("syn", vec![Expr::Text("alice".into())], 0)),
                path: vec!["tcp".into(), "options".into(), "mss".into()],
                at: 11,
            }
        );
    }

    #[test]
    fn precedence_arithmetic_then_comparison_then_logic() {
        let e = parse("1 + 2 * 3 == 7 and not false").unwrap();
        let Expr::Binary {
            op: BinOp::And,
            left,
            right,
            ..
        } = e
        else {
            panic!("and at the top")
        };
        assert!(matches!(*left, Expr::Binary { op: BinOp::Eq, .. }));
        assert!(matches!(*right, Expr::Unary { op: UnOp::Not, .. }));
    }

    #[test]
    fn item_paths_inside_where() {
        let e = parse("where(packets(bob), .tcp.len > 0x10)").unwrap();
        let Expr::Call { args, .. } = e else { panic!() };
        assert_eq!(
            args[1],
            Expr::Binary {
                op: BinOp::Gt,
                left: Box::new(Expr::Item {
                    path: vec!["tcp".into(), "len".into()],
                    at: 21
                }),
                right: Box::new(Expr::Num(16)),
                at: 29,
            }
        );
    }

    #[test]
    fn render_round_trips() {
        for src in [
            "syn(alice).tcp.seq",
            "a == (1 + 2) * 3",
            "where(packets(), not .tcp.flags.syn and contains(it, \"x\"))",
            "ms(x) == 40.0001 or ms(x) < 0.050",
        ] {
            let e = parse(src).unwrap();
            assert_eq!(
                parse(&render(&e)).map(|p| render(&p)),
                Ok(render(&e)),
                "{src}"
            );
        }
        assert_eq!(render(&parse("a=='b c'").unwrap()), "a == \"b c\"");
        // A number with a fraction is shown as written.
        assert_eq!(render(&parse("x == 40.0001").unwrap()), "x == 40.0001");
        assert_eq!(render(&parse("x < 0.050").unwrap()), "x < 0.050");
    }

    #[test]
    fn strings_with_escapes() {
        assert_eq!(parse(r#""a \"b\"""#).unwrap(), Expr::Text("a \"b\"".into()));
        assert_eq!(parse("'it'").unwrap(), Expr::Text("it".into()));
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse("syn(alice").unwrap_err();
        assert_eq!(
            e.to_string(),
            "at character 10: expected `,` or `)`, found the end of the expression"
        );
        let e = parse("a = 1").unwrap_err();
        assert!(e.what.contains("=="), "{e}");
        assert_eq!(parse("syn(alice) syn(bob)").unwrap_err().at, 11);
        assert!(parse("").is_err());
        assert!(parse("\"open").unwrap_err().what.contains("closing"));
        assert!(parse("x.").is_err());
        assert!(parse("99999999999999999999").is_err());
    }
}
