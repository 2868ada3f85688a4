//! The type rule of each function: its arguments, and the type it gives.

use super::super::expr::Expr;
use super::super::functions::FUNCTIONS;
use super::super::value::Ty;
use super::{check, err, start_of, QueryError, TypeEnv};

fn arity(name: &str, args: &[Expr], at: usize, allowed: &[usize]) -> Result<(), QueryError> {
    if allowed.contains(&args.len()) {
        return Ok(());
    }
    let forms: Vec<&str> = FUNCTIONS
        .iter()
        .filter(|d| d.signature.starts_with(&format!("{name}(")))
        .map(|d| d.signature)
        .collect();
    Err(err(
        at,
        format!(
            "{name}(…) takes {} argument(s), not {}: {}",
            allowed
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" or "),
            args.len(),
            forms.join(", ")
        ),
    ))
}

fn want(e: &Expr, want: &Ty, env: &TypeEnv, what: &str) -> Result<Ty, QueryError> {
    let ty = check(e, env)?;
    if ty.fits(want) {
        Ok(ty)
    } else {
        Err(err(
            start_of(e),
            format!("{what} must be {}, but this is {}", want.name(), ty.name()),
        ))
    }
}

fn list_elem(e: &Expr, env: &TypeEnv, name: &str) -> Result<Ty, QueryError> {
    match check(e, env)? {
        Ty::List(inner) => Ok(*inner),
        Ty::Any => Ok(Ty::Any),
        other => Err(err(
            start_of(e),
            format!("{name}(…) needs a list, but this is {}", other.name()),
        )),
    }
}

fn client_arg(e: &Expr, env: &TypeEnv, at: usize) -> Result<(), QueryError> {
    want(e, &Ty::Text, env, "a client name")?;
    if let Expr::Text(name) = e {
        if !env.clients.iter().any(|c| c == name) {
            let known = if env.clients.is_empty() {
                "no client has connected yet".to_string()
            } else {
                format!("clients so far: {}", env.clients.join(", "))
            };
            return Err(err(
                at,
                format!("no action in this step or an earlier one connects a client named {name} ({known})"),
            ));
        }
    }
    Ok(())
}

fn side_arg(e: &Expr, env: &TypeEnv, at: usize) -> Result<(), QueryError> {
    want(e, &Ty::Text, env, "a side")?;
    match e {
        Expr::Text(s) if s != "client" && s != "server" => Err(err(
            at,
            format!("a side is `client` or `server`, not `{s}`"),
        )),
        _ => Ok(()),
    }
}

fn selector_arg(e: &Expr, env: &TypeEnv) -> Result<(), QueryError> {
    match check(e, env)? {
        Ty::Num | Ty::Text | Ty::Any => Ok(()),
        other => Err(err(
            start_of(e),
            format!(
                "a message is chosen by a number or a text, not by {}",
                other.name()
            ),
        )),
    }
}

/// The type a call returns, after checking its arguments.
pub(super) fn check_call(
    name: &str,
    args: &[Expr],
    at: usize,
    env: &TypeEnv,
) -> Result<Ty, QueryError> {
    let list = |t: Ty| Ty::List(Box::new(t));
    let arg = |i: usize| args.get(i).ok_or_else(|| err(at, "missing argument"));
    match name {
        "packets" => {
            arity(name, args, at, &[0, 1])?;
            if let Some(c) = args.first() {
                client_arg(c, env, at)?;
            }
            Ok(list(Ty::Packet))
        }
        "syn" | "synack" | "handshake_ack" => {
            arity(name, args, at, &[1])?;
            client_arg(arg(0)?, env, at)?;
            Ok(Ty::Packet)
        }
        "fin" | "segments" => {
            arity(name, args, at, &[2])?;
            client_arg(arg(0)?, env, at)?;
            side_arg(arg(1)?, env, at)?;
            Ok(if name == "fin" {
                Ty::Packet
            } else {
                list(Ty::Packet)
            })
        }
        "conn" => {
            arity(name, args, at, &[1])?;
            client_arg(arg(0)?, env, at)?;
            Ok(Ty::Conn)
        }
        "conns" => {
            arity(name, args, at, &[0])?;
            Ok(list(Ty::Conn))
        }
        "messages" => {
            arity(name, args, at, &[1])?;
            client_arg(arg(0)?, env, at)?;
            Ok(list(Ty::Message))
        }
        "message" | "relay" => {
            arity(name, args, at, &[2])?;
            client_arg(arg(0)?, env, at)?;
            selector_arg(arg(1)?, env)?;
            Ok(Ty::Message)
        }
        "records" => {
            arity(name, args, at, &[1, 2])?;
            client_arg(arg(0)?, env, at)?;
            if let Some(side) = args.get(1) {
                side_arg(side, env, at)?;
            }
            Ok(list(Ty::Record))
        }
        "record" => {
            arity(name, args, at, &[2])?;
            client_arg(arg(0)?, env, at)?;
            want(arg(1)?, &Ty::Text, env, "the record's name")?;
            Ok(Ty::Record)
        }
        "arp" => {
            arity(name, args, at, &[0])?;
            Ok(list(Ty::Packet))
        }
        "received" | "refused" | "error" => {
            arity(name, args, at, &[1])?;
            client_arg(arg(0)?, env, at)?;
            Ok(match name {
                "received" => list(Ty::Text),
                "refused" => Ty::Bool,
                _ => Ty::Text,
            })
        }
        "keylog" => {
            arity(name, args, at, &[0])?;
            Ok(Ty::Text)
        }
        "server_read" => {
            arity(name, args, at, &[0])?;
            Ok(list(Ty::Text))
        }
        "lines" => {
            arity(name, args, at, &[1])?;
            want(arg(0)?, &Ty::Text, env, "lines(…)'s argument")?;
            Ok(list(Ty::Text))
        }
        "count" => {
            arity(name, args, at, &[1])?;
            list_elem(arg(0)?, env, name)?;
            Ok(Ty::Num)
        }
        "first" | "last" => {
            arity(name, args, at, &[1])?;
            list_elem(arg(0)?, env, name)
        }
        "nth" => {
            arity(name, args, at, &[2])?;
            want(arg(1)?, &Ty::Num, env, "the position")?;
            list_elem(arg(0)?, env, name)
        }
        "max" | "min" | "sum" => {
            arity(name, args, at, &[1])?;
            want(
                arg(0)?,
                &list(Ty::Num),
                env,
                &format!("{name}(…)'s argument"),
            )?;
            Ok(Ty::Num)
        }
        "distinct" => {
            arity(name, args, at, &[1])?;
            Ok(list(list_elem(arg(0)?, env, name)?))
        }
        "all" | "any" => {
            arity(name, args, at, &[1])?;
            want(
                arg(0)?,
                &list(Ty::Bool),
                env,
                &format!("{name}(…)'s argument"),
            )?;
            Ok(Ty::Bool)
        }
        "where" => {
            arity(name, args, at, &[2])?;
            let elem = list_elem(arg(0)?, env, name)?;
            let inner = TypeEnv {
                clients: env.clients.clone(),
                item: Some(elem.clone()),
            };
            want(arg(1)?, &Ty::Bool, &inner, "the condition")?;
            Ok(list(elem))
        }
        "contains" => {
            arity(name, args, at, &[2])?;
            match check(arg(0)?, env)? {
                Ty::List(inner) => {
                    want(arg(1)?, &inner, env, "the value looked for")?;
                }
                _ => {
                    want(arg(0)?, &Ty::Text, env, "contains(…)'s first argument")?;
                    want(arg(1)?, &Ty::Text, env, "the part looked for")?;
                }
            }
            Ok(Ty::Bool)
        }
        "len" => {
            arity(name, args, at, &[1])?;
            want(arg(0)?, &Ty::Text, env, "len(…)'s argument")?;
            Ok(Ty::Num)
        }
        "pow" => {
            arity(name, args, at, &[2])?;
            want(arg(0)?, &Ty::Num, env, "pow(…)'s base")?;
            want(arg(1)?, &Ty::Num, env, "pow(…)'s exponent")?;
            Ok(Ty::Num)
        }
        "ms" => {
            arity(name, args, at, &[1])?;
            want(arg(0)?, &Ty::Num, env, "ms(…)'s microseconds")?;
            Ok(Ty::Num)
        }
        "left" => {
            arity(name, args, at, &[2])?;
            want(arg(0)?, &Ty::Text, env, "left(…)'s text")?;
            want(arg(1)?, &Ty::Num, env, "left(…)'s count")?;
            Ok(Ty::Text)
        }
        "appears" => {
            arity(name, args, at, &[2])?;
            match check(arg(0)?, env)? {
                Ty::Packet | Ty::Message | Ty::Conn | Ty::Record | Ty::Any => {}
                Ty::List(inner) if matches!(*inner, Ty::Packet | Ty::Any) => {}
                other => {
                    return Err(err(
                        start_of(arg(0)?),
                        format!("appears(…) looks in packets, a message, a connection or a record, not in {}", other.name()),
                    ))
                }
            }
            want(arg(1)?, &Ty::Text, env, "the text looked for")?;
            Ok(Ty::Bool)
        }
        "without_keys" => {
            arity(name, args, at, &[1])?;
            check(arg(0)?, env)
        }
        _ => {
            let names: Vec<&str> = FUNCTIONS
                .iter()
                .filter_map(|d| d.signature.split('(').next())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            Err(err(
                at,
                format!(
                    "there is no function {name}(…); the functions are: {}",
                    names.join(", ")
                ),
            ))
        }
    }
}
