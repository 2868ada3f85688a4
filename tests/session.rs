//! The live session engine that the UI and the lessons drive.

mod common;

use common::*;
use packetpath::chat::Transport;
use packetpath::lab::Lab;
use packetpath::session::{ClientKnobs, Session, SessionOptions};

fn a_session_ties_each_message_to_its_frames_as_they_arrive() {
    block_on(async {
        let (dir, _) = cert_dir();
        let mut s = Session::new(SessionOptions {
            cert_dir: dir.path().to_path_buf(),
            lab: Lab::host(),
            ipv6: false,
        })
        .unwrap();
        s.start_server(Transport::Tls13).await.unwrap();
        s.connect("alice", ClientKnobs::default()).await.unwrap();
        s.connect("bob", ClientKnobs::default()).await.unwrap();
        s.send("alice", "hi bob").await.unwrap();
        assert_eq!(
            s.wait_line("bob", |l| l.starts_with("alice:"))
                .await
                .unwrap(),
            "alice: hi bob"
        );
        s.settle().await.unwrap();
        let trace = s.trace();
        let write = trace
            .app_events()
            .iter()
            .find(|e| &e.bytes[..] == b"hi bob\n")
            .expect("the write was tapped");
        let journey = trace.journey(write).expect("its frames were captured");
        assert_eq!(journey.bytes.application, 7);
        assert_eq!(journey.bytes.tls, 7 + 5 + 1 + 16);
        let (trace, frames, stats) = s.finish().await.unwrap();
        assert_eq!(trace.frames().len(), frames.len());
        assert_eq!(stats.dropped, 0);
        // Both clients' connections were captured, from SYN to FIN.
        assert_eq!(trace.tcp().connections().len(), 2);
    })
}

fn main() -> std::process::ExitCode {
    harness::run(vec![test!(
        a_session_ties_each_message_to_its_frames_as_they_arrive,
        Need::HostCapture
    )])
}
