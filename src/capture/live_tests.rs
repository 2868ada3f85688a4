//! Live capture internals: the permission error and the fallback dedupe (the tests that capture
//! on the loopback are in tests/live_capture.rs, run by the test harness).

use super::*;

#[test]
fn permission_error_says_what_to_do() {
    let err = open_error("lo", std::io::Error::from_raw_os_error(libc::EPERM));
    let text = err.to_string();
    assert!(matches!(err, CaptureError::NoPermission { .. }));
    for needed in [
        "run as root",
        "setcap cap_net_raw+ep",
        "packetpath inspect FILE",
        "\"lo\"",
    ] {
        assert!(text.contains(needed), "missing {needed:?} in: {text}");
    }
    assert!(matches!(
        open_error("lo", std::io::Error::from_raw_os_error(libc::EMFILE)),
        CaptureError::Io(..)
    ));
}

/// The fallback dedupe (kernels without `PACKET_IGNORE_OUTGOING`), as a pure function: of each
/// pair of identical consecutive frames the second is dropped; a third identical one (a real
/// resend right after) is kept, and different frames always are. Runs without privileges.
#[test]
fn fallback_dedupe_drops_only_the_second_identical_copy() {
    let syn = Bytes::from(crate::capture::test_support::tcp_frame(
        40000, 8443, 0x02, b"",
    ));
    let data = Bytes::from(crate::capture::test_support::tcp_frame(
        40000, 8443, 0x18, b"hi",
    ));
    let ack = Bytes::from(crate::capture::test_support::tcp_frame(
        8443, 40000, 0x10, b"",
    ));
    // What the loopback shows: every packet as sent and as received, then `data` resent (twice).
    let seen = [
        &syn, &syn, &data, &data, &ack, &ack, &data, &data, &data, &data,
    ];
    let mut dedupe = LoopbackDedupe::default();
    let kept: Vec<&Bytes> = seen
        .iter()
        .copied()
        .filter(|f| !dedupe.is_second_copy(f))
        .collect();
    assert_eq!(kept, [&syn, &data, &ack, &data, &data]);
    // A frame differing in one byte from the one before is not a copy.
    let mut other = data.to_vec();
    other[20] ^= 1;
    let mut dedupe = LoopbackDedupe::default();
    assert!(!dedupe.is_second_copy(&data));
    assert!(!dedupe.is_second_copy(&Bytes::from(other)));
    assert!(!dedupe.is_second_copy(&data));
    assert!(dedupe.is_second_copy(&data));
}
