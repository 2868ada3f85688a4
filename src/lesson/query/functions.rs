//! The functions of the query language, as teachers see them: each has a line in [`FUNCTIONS`]
//! (which the reference in `lessons/README.md` follows), a type rule in
//! [`super::typing`] and its computation in [`super::evaluation`]. Adding a function means a
//! line in each of the three.

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
    f("server_read()", "the lines the chat server's application read, from every client, in order (/name lines excluded): what reached it, whatever was sent"),
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
    f("pow(base, exponent)", "base to the power of exponent, e.g. pow(2, 7) = 128 (missing if it does not fit, or the exponent is negative)"),
    f("ms(microseconds)", "the time in milliseconds with its fraction, e.g. ms(40213) = 40.213 (shown with at most three decimals; a student may answer 40.2 when the question's tolerance allows it)"),
    f("left(text, n)", "the first n characters of the text (e.g. of a random in hex)"),
    f("appears(what, \"text\")", "true if the text's bytes appear as they are in the raw bytes of a packet, list of packets, message (its frames), connection or record: what an eavesdropper could read"),
    f("without_keys(query)", "the query computed on the same capture without the TLS secrets, as an eavesdropper would"),
];

#[cfg(test)]
mod tests {
    use super::super::typing::TypeEnv;
    use super::super::Query;
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
                .replace("(base, exponent)", "(2, 7)")
                .replace("(microseconds)", "(first(packets()).frame.time_us)")
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
            let q = Query::parse(&call, &env);
            assert!(q.is_ok(), "{} → {call}: {:?}", d.signature, q.err());
        }
    }
}
