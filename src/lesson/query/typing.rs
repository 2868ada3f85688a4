//! Type checking: the type of a query, worked out when the lesson loads so that a teacher's
//! mistake (`tcp.sequence`, `syn(bob)` before bob connects, `count(1)`) is reported with the
//! place in the text, before any student runs the lesson. Property paths follow
//! [`super::entities`]; calls follow the rules in [`calls`].

mod calls;

use super::entities;
use super::expr::{BinOp, Expr, UnOp};
use super::value::Ty;

/// What the type checker knows at a point of the lesson.
#[derive(Debug, Clone, Default)]
pub struct TypeEnv {
    /// Clients connected (or refused) by the actions up to and including this step.
    pub clients: Vec<String>,
    /// The element type inside `where(list, ...)`.
    pub item: Option<Ty>,
}

impl TypeEnv {
    /// The environment of a query outside `where(...)`, with these clients connected.
    pub fn with_clients(clients: &[&str]) -> TypeEnv {
        TypeEnv {
            clients: clients.iter().map(|s| s.to_string()).collect(),
            item: None,
        }
    }
}

/// Why a query is not acceptable: where in the text, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Character offset in the query.
    pub at: usize,
    /// What is wrong, in a teacher's words.
    pub what: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at character {}: {}", self.at + 1, self.what)
    }
}

fn err(at: usize, what: impl Into<String>) -> QueryError {
    QueryError {
        at,
        what: what.into(),
    }
}

/// Where an expression starts, for errors about it as a whole.
pub fn start_of(e: &Expr) -> usize {
    match e {
        Expr::Call { at, .. } | Expr::Item { at, .. } => *at,
        Expr::Prop { base, .. } => start_of(base),
        Expr::Binary { left, .. } => start_of(left),
        Expr::Unary { expr, .. } => start_of(expr).saturating_sub(1),
        _ => 0,
    }
}

/// The type of `e`, or why it has none.
pub fn check(e: &Expr, env: &TypeEnv) -> Result<Ty, QueryError> {
    match e {
        Expr::Num(_) | Expr::Dec(..) => Ok(Ty::Num),
        Expr::Text(_) => Ok(Ty::Text),
        Expr::Bool(_) => Ok(Ty::Bool),
        Expr::Call { name, args, at } => calls::check_call(name, args, *at, env),
        Expr::Prop { base, path, at } => {
            let base_ty = check(base, env)?;
            entities::check_path(&base_ty, path).map_err(|what| err(*at, what))
        }
        Expr::Item { path, at } => match &env.item {
            Some(ty) => entities::check_path(ty, path).map_err(|what| err(*at, what)),
            None => Err(err(
                *at,
                "`it` and properties starting with `.` only make sense inside where(list, ...), where they read each element",
            )),
        },
        Expr::Unary { op, expr } => {
            let ty = check(expr, env)?;
            let (want, result) = match op {
                UnOp::Not => (Ty::Bool, Ty::Bool),
                UnOp::Neg => (Ty::Num, Ty::Num),
            };
            if !ty.fits(&want) {
                return Err(err(
                    start_of(expr),
                    format!("this is {}, but {} is needed here", ty.name(), want.name()),
                ));
            }
            Ok(result)
        }
        Expr::Binary {
            op,
            left,
            right,
            at,
        } => {
            let l = check(left, env)?;
            let r = check(right, env)?;
            let need = |ty: &Ty, want: Ty, side: &Expr| {
                if ty.fits(&want) {
                    Ok(())
                } else {
                    Err(err(
                        start_of(side),
                        format!(
                            "`{}` needs {} on both sides, but this is {}",
                            op.symbol(),
                            want.name(),
                            ty.name()
                        ),
                    ))
                }
            };
            match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                    need(&l, Ty::Num, left)?;
                    need(&r, Ty::Num, right)?;
                    Ok(Ty::Num)
                }
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    need(&l, Ty::Num, left)?;
                    need(&r, Ty::Num, right)?;
                    Ok(Ty::Bool)
                }
                BinOp::And | BinOp::Or => {
                    need(&l, Ty::Bool, left)?;
                    need(&r, Ty::Bool, right)?;
                    Ok(Ty::Bool)
                }
                BinOp::Contains => match (&l, &r) {
                    (Ty::List(item), r) if item.fits(r) || matches!((&**item, r), (Ty::Num, Ty::Text) | (Ty::Text, Ty::Num)) => Ok(Ty::Bool),
                    (l, r) if l.fits(&Ty::Text) && r.fits(&Ty::Text) => Ok(Ty::Bool),
                    _ => Err(err(
                        *at,
                        format!(
                            "`contains` looks for a text in a text (or a value in a list), not {} in {}",
                            r.name(),
                            l.name()
                        ),
                    )),
                },
                BinOp::Eq | BinOp::Ne => {
                    if l.fits(&r) || matches!((&l, &r), (Ty::Num, Ty::Text) | (Ty::Text, Ty::Num)) {
                        Ok(Ty::Bool)
                    } else {
                        Err(err(
                            *at,
                            format!("`{}` compares {} with {}", op.symbol(), l.name(), r.name()),
                        ))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Query;
    use super::*;

    fn env(clients: &[&str]) -> TypeEnv {
        TypeEnv::with_clients(clients)
    }

    #[test]
    fn types_of_queries() {
        let e = env(&["alice"]);
        let ty = |s: &str| Query::parse(s, &e).map(|q| q.ty);
        assert_eq!(ty("syn(alice).tcp.options.mss"), Ok(Ty::Num));
        assert_eq!(ty("syn(alice)"), Ok(Ty::Packet));
        assert_eq!(
            ty("packets(alice).tcp.len"),
            Ok(Ty::List(Box::new(Ty::Num)))
        );
        assert_eq!(
            ty("count(where(packets(alice), .tcp.len > 0))"),
            Ok(Ty::Num)
        );
        assert_eq!(
            ty("message(alice, 1).frames.tls.records"),
            Ok(Ty::List(Box::new(Ty::Record)))
        );
        assert_eq!(
            ty("synack(alice).tcp.ack_raw - syn(alice).tcp.seq_raw"),
            Ok(Ty::Num)
        );
        assert_eq!(ty("conn(alice).tls.version == 'TLS 1.3'"), Ok(Ty::Bool));
    }

    #[test]
    fn type_errors_name_the_problem() {
        let e = env(&["alice"]);
        let what = |s: &str| Query::parse(s, &e).unwrap_err().what;
        assert!(
            what("syn(alice).tcp.sequence").contains("tcp.sequence"),
            "{}",
            what("syn(alice).tcp.sequence")
        );
        assert!(what("syn(bob)").contains("bob"));
        assert!(what("synn(alice)").contains("synn"));
        assert!(what("syn(alice) + 1").contains("a number"));
        assert!(what(".tcp.len").contains("where"));
        assert!(what("count(1)").contains("list"));
        let at = Query::parse("syn(alice).tcp.sequence", &e).unwrap_err().at;
        assert_eq!(at, 11);
    }
}
