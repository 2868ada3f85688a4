//! The functions of the query language, as teachers see them: each has a line in [`FUNCTIONS`]
//! (which the reference in `lessons/README.md` follows) and a type rule in [`check_call`]. What
//! they compute is in `calls.rs`.

use super::expr::Expr;
use super::query::{check, QueryError, TypeEnv};
use super::value::Ty;

/// One function, as documented for teachers.
#[derive(Debug, Clone, Copy)]
pub struct FnDoc {
    /// How it is called.
    pub signature: &'static str,
    /// What it gives.
    pub doc: &'static str,
}

const fn f(signature: &'static str, doc: &'static str) -> FnDoc {
    FnDoc { signature, doc }
}

/// Every function, in the order the reference lists them.
pub const FUNCTIONS: &[FnDoc] = &[
    f("packets()", "every captured frame (a list of packets)"),
    f("packets(client)", "the frames of the client's TCP connection"),
    f("syn(client)", "the SYN that opened the client's connection"),
    f("synack(client)", "the server's SYN-ACK answering it"),
    f("handshake_ack(client)", "the client's ACK that completes the three-way handshake"),
    f("fin(client, side)", "the first FIN sent by `client` or `server` on that connection"),
    f("segments(client, side)", "the segments carrying data (tcp.len > 0) sent by `client` or `server`"),
    f("conn(client)", "the client's TCP connection"),
    f("conns()", "every TCP connection in the capture"),
    f("message(client, n)", "the n-th line the client sent with `send` (1 = the first; its /name line does not count)"),
    f("message(client, \"text\")", "the first line the client sent that contains the text"),
    f("messages(client)", "every line the client sent with `send`, in order"),
    f("relay(client, n)", "the n-th line the server sent to the client, not counting notices that start with `*`"),
    f("relay(client, \"text\")", "the first line the server sent to the client that contains the text"),
    f("records(client)", "the TLS records of the client's connection, both ways, in the order they completed"),
    f("records(client, side)", "only those sent by `client` or `server`"),
    f("record(client, \"name\")", "the first record holding that handshake message (\"ClientHello\", \"Certificate\", …) or of that type (\"change_cipher_spec\", \"alert\", \"application_data\")"),
    f("arp()", "every ARP frame"),
    f("received(client)", "the lines the client received (the welcome and notices included)"),
    f("refused(client)", "true if the client's connection attempt failed"),
    f("error(client)", "the error a refused client reported"),
    f("keylog()", "the TLS secrets logged so far, in the SSLKEYLOGFILE format"),
    f("lines(text)", "the non-empty lines of a text"),
    f("count(list)", "how many elements"),
    f("first(list)", "the first element"),
    f("last(list)", "the last element"),
    f("nth(list, n)", "the n-th element, from 1"),
    f("max(list)", "the largest number"),
    f("min(list)", "the smallest number"),
    f("sum(list)", "the sum of the numbers"),
    f("distinct(list)", "the list without repeated values"),
    f("all(list)", "true if every element is true (a list of yes/no)"),
    f("any(list)", "true if some element is true"),
    f("where(list, condition)", "the elements for which the condition holds; inside it `.name` reads the element's property, e.g. where(packets(alice), .tcp.len > 0)"),
    f("contains(text, \"part\")", "true if the text contains the part"),
    f("contains(list, value)", "true if the list holds the value"),
    f("len(text)", "bytes in the text (UTF-8)"),
    f("left(text, n)", "the first n characters of the text (e.g. of a random in hex)"),
    f("appears(what, \"text\")", "true if the text's bytes appear as they are in the raw bytes of a packet, list of packets, message (its frames), connection or record: what an eavesdropper could read"),
    f("without_keys(query)", "the query computed on the same capture without the TLS secrets, as an eavesdropper would"),
];

fn err(at: usize, what: impl Into<String>) -> QueryError {
    QueryError {
        at,
        what: what.into(),
    }
}

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
            super::query::start_of(e),
            format!("{what} must be {}, but this is {}", want.name(), ty.name()),
        ))
    }
}

fn list_elem(e: &Expr, env: &TypeEnv, name: &str) -> Result<Ty, QueryError> {
    match check(e, env)? {
        Ty::List(inner) => Ok(*inner),
        Ty::Any => Ok(Ty::Any),
        other => Err(err(
            super::query::start_of(e),
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
            super::query::start_of(e),
            format!(
                "a message is chosen by a number or a text, not by {}",
                other.name()
            ),
        )),
    }
}

/// The type a call returns, after checking its arguments.
pub fn check_call(name: &str, args: &[Expr], at: usize, env: &TypeEnv) -> Result<Ty, QueryError> {
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
                        super::query::start_of(arg(0)?),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_function_type_checks() {
        let env = TypeEnv {
            clients: vec!["alice".into()],
            item: None,
        };
        for d in FUNCTIONS {
            let call = d
                .signature
                .replace("(list)", "(packets().tcp.len)")
                .replace("(list, n)", "(packets(), 1)")
                .replace("(list, condition)", "(packets(), .tcp.len > 0)")
                .replace("(list, value)", "(packets().tcp.len, 1)")
                .replace("client", "alice")
                .replace("side", "client")
                .replace(", n)", ", 1)")
                .replace("(text)", "(\"x\")")
                .replace("(text, n)", "(\"x\", 1)")
                .replace("(text, \"part\")", "(\"x\", \"y\")")
                .replace("(what, \"text\")", "(packets(), \"x\")")
                .replace("(query)", "(count(packets()))");
            let call = match d.signature {
                "all(list)" | "any(list)" => {
                    call.replace("packets().tcp.len", "packets().tcp.flags.syn")
                }
                _ => call,
            };
            let q = super::super::query::Query::parse(&call, &env);
            assert!(q.is_ok(), "{} → {call}: {:?}", d.signature, q.err());
        }
    }
}
