use super::*;
use crate::dissect::{dissect, Packet};
use crate::frame::LinkType;

/// An IPv4 packet (raw IP, no link header) 10.0.0.1 → 10.0.0.2, protocol TCP, with `data` as
/// its payload; the checksum filled in.
fn ipv4(id: u16, data: &[u8]) -> Vec<u8> {
    let mut p = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    p[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p.extend_from_slice(data);
    let sum = !ones_complement_sum(&p[..20]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p
}

/// IPv4 fragment of `whole` (made by [`ipv4`]): data bytes `range`, More fragments as given.
fn ipv4_fragment(whole: &[u8], range: Range<usize>, more: bool) -> Vec<u8> {
    let mut f = whole[..20].to_vec();
    f.extend_from_slice(&whole[20 + range.start..20 + range.end]);
    f[2..4].copy_from_slice(&((20 + range.len()) as u16).to_be_bytes());
    let word = (range.start / 8) as u16 | if more { 0x2000 } else { 0 };
    f[6..8].copy_from_slice(&word.to_be_bytes());
    f[10..12].copy_from_slice(&[0, 0]);
    let sum = !ones_complement_sum(&f[..20]);
    f[10..12].copy_from_slice(&sum.to_be_bytes());
    f
}

/// An IPv6 fragment ::1 → ::2 of identification `id`: data `data` at `offset`.
fn ipv6_fragment(id: u32, offset: usize, data: &[u8], more: bool) -> Vec<u8> {
    let mut f = vec![0x60, 0, 0, 0];
    f.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[44, 64]);
    f.extend_from_slice(&[0; 15]);
    f.push(1);
    f.extend_from_slice(&[0; 15]);
    f.push(2);
    let word = offset as u16 | u16::from(more);
    f.extend_from_slice(&[6, 0]);
    f.extend_from_slice(&word.to_be_bytes());
    f.extend_from_slice(&id.to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// Feeds frames (numbered from 1) to a defragmenter; returns what each push did.
struct Feeder {
    defrag: Defragmenter,
    frames: Vec<Vec<u8>>,
}

impl Feeder {
    fn new() -> Self {
        Feeder {
            defrag: Defragmenter::default(),
            frames: Vec::new(),
        }
    }

    fn push_at(&mut self, frame: Vec<u8>, at_ns: i128) -> Pushed {
        let number = self.frames.len() as u32 + 1;
        let packet: Packet = dissect(LinkType::RawIp, &frame);
        let ip = packet.ip.clone().expect("an IP packet");
        assert!(ip.is_fragment());
        let frames = &self.frames;
        let out = self
            .defrag
            .push(number, Timestamp(at_ns), &ip, &frame, |n| {
                frames.get(n as usize - 1).map(|f| f.as_slice())
            });
        self.frames.push(frame);
        out
    }

    fn push(&mut self, frame: Vec<u8>) -> Pushed {
        self.push_at(frame, self.frames.len() as i128)
    }
}

fn complete(p: Pushed) -> Reassembled {
    match p {
        Pushed::Complete(r) => r,
        other => panic!("expected a complete packet, got {other:?}"),
    }
}

fn held(p: &Pushed) -> bool {
    matches!(p, Pushed::Held)
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

#[test]
fn ipv4_in_any_order_with_a_duplicate() {
    let whole = ipv4(0x1234, &data(100));
    let parts = [(0..40, true), (40..80, true), (80..100, false)];
    let orders: [&[usize]; 4] = [&[0, 1, 2], &[2, 1, 0], &[1, 0, 1, 2], &[0, 2, 2, 1]];
    for order in orders {
        let mut f = Feeder::new();
        let last = order.len() - 1;
        for (i, &k) in order.iter().enumerate() {
            let (r, more) = parts[k].clone();
            let out = f.push(ipv4_fragment(&whole, r, more));
            if i < last {
                assert!(held(&out), "{order:?}: fragment {i} completes nothing");
            } else {
                let r = complete(out);
                // The same packet, unfragmented, its checksum valid.
                assert_eq!(r.bytes, whole, "{order:?}");
                assert_eq!(r.data_start, 20);
                let p = dissect(LinkType::RawIp, &r.bytes);
                assert!(!p.ip.as_ref().unwrap().is_fragment());
                assert_eq!(
                    p.ip.unwrap().checksum,
                    Some(crate::dissect::ChecksumStatus::Verified)
                );
            }
        }
        let d = &f.defrag.datagrams()[0];
        assert_eq!(
            d.state,
            DatagramState::Reassembled {
                frame: order.len() as u32
            }
        );
        assert_eq!(d.fragments.len(), order.len(), "duplicates are listed too");
        assert_eq!(d.data_len, Some(100));
        for n in 1..=order.len() as u32 {
            assert_eq!(f.defrag.of_frame(n).map(|(i, _)| i), Some(0));
        }
        assert_eq!(f.defrag.pending_bytes, 0);
        assert!(f.defrag.pending.is_empty());
    }
}

#[test]
fn ipv4_overlap_keeps_the_bytes_that_came_first() {
    let whole = ipv4(7, &data(48));
    let mut f = Feeder::new();
    assert!(held(&f.push(ipv4_fragment(&whole, 0..24, true))));
    // 16..48 overlaps 16..24 and carries other bytes there: the first ones win.
    let mut late = ipv4_fragment(&whole, 16..48, false);
    late[20..28].copy_from_slice(&[0xee; 8]);
    let r = complete(f.push(late));
    assert_eq!(r.bytes, whole);
    let pieces = f.defrag.datagrams()[0].pieces();
    assert_eq!(
        pieces.iter().map(|p| (p.offset, p.len)).collect::<Vec<_>>(),
        [(0, 24), (24, 24)]
    );
}

#[test]
fn ipv6_reassembles_and_drops_overlaps() {
    let payload = data(64);
    // In order, the middle one twice (an exact duplicate is dropped, RFC 8200 §4.5).
    let mut f = Feeder::new();
    assert!(held(&f.push(ipv6_fragment(9, 0, &payload[..24], true))));
    assert!(held(&f.push(ipv6_fragment(9, 24, &payload[24..48], true))));
    assert!(held(&f.push(ipv6_fragment(9, 24, &payload[24..48], true))));
    let r = complete(f.push(ipv6_fragment(9, 48, &payload[48..], false)));
    assert_eq!(r.data_start, 48);
    assert_eq!(&r.bytes[48..], &payload[..]);
    let p = dissect(LinkType::RawIp, &r.bytes);
    let ip = p.ip.unwrap();
    assert!(!ip.is_fragment(), "an atomic fragment");
    assert_eq!(ip.total_len, 40 + 8 + 64);
    assert_eq!(
        p.payload.len(),
        64 - 20,
        "the TCP payload after a 20-byte header"
    );

    // An overlap that is not an exact duplicate drops the packet (RFC 5722).
    let mut f = Feeder::new();
    assert!(held(&f.push(ipv6_fragment(9, 0, &payload[..24], true))));
    match f.push(ipv6_fragment(9, 16, &payload[16..48], true)) {
        Pushed::Discarded(FragmentError::Overlap { start: 16, end: 24 }) => {}
        other => panic!("{other:?}"),
    }
    // The same place with other bytes is an overlap too.
    let mut f = Feeder::new();
    assert!(held(&f.push(ipv6_fragment(9, 0, &payload[..24], true))));
    assert!(matches!(
        f.push(ipv6_fragment(9, 0, &[0; 24], true)),
        Pushed::Discarded(FragmentError::Overlap { .. })
    ));
    assert_eq!(f.defrag.pending_bytes, 0);
    // Later fragments with that identification start a new packet, which never completes.
    assert!(held(&f.push(ipv6_fragment(9, 48, &payload[48..], false))));
    assert_eq!(f.defrag.datagrams().len(), 2);
    assert_eq!(f.defrag.datagrams()[1].state, DatagramState::Pending);
}

#[test]
fn malformed_fragment_sets_are_dropped_with_a_reason() {
    let whole = ipv4(1, &data(64));
    // Not a multiple of 8 before the last fragment.
    let mut f = Feeder::new();
    assert!(matches!(
        f.push(ipv4_fragment(&whole, 0..20, true)),
        Pushed::Discarded(FragmentError::NotMultipleOf8 { len: 20 })
    ));
    // Two last fragments that disagree.
    let mut f = Feeder::new();
    assert!(held(&f.push(ipv4_fragment(&whole, 56..64, false))));
    assert!(matches!(
        f.push(ipv4_fragment(&whole, 40..48, false)),
        Pushed::Discarded(FragmentError::InconsistentEnd {
            first: 64,
            second: 48
        })
    ));
    // Data beyond a known end.
    let mut f = Feeder::new();
    assert!(held(&f.push(ipv4_fragment(&whole, 0..16, true))));
    assert!(held(&f.push(ipv4_fragment(&whole, 48..64, false))));
    let mut beyond = ipv4_fragment(&whole, 56..64, true);
    beyond[6..8].copy_from_slice(&(0x2000u16 | 8).to_be_bytes()); // offset 64, more
    assert!(matches!(
        f.push(beyond),
        Pushed::Discarded(FragmentError::InconsistentEnd { .. })
    ));
    // A fragment reaching past 65,535 bytes.
    let mut f = Feeder::new();
    let mut far = ipv4_fragment(&whole, 0..16, false);
    far[6..8].copy_from_slice(&0x1fffu16.to_be_bytes()); // offset 65,528
    assert!(matches!(
        f.push(far),
        Pushed::Discarded(FragmentError::TooLong { end: 65_544 })
    ));
    // A fragment cut short by the snapshot length.
    let mut f = Feeder::new();
    let mut cut = ipv4_fragment(&whole, 0..16, true);
    cut.truncate(30);
    assert!(matches!(
        f.push(cut),
        Pushed::Discarded(FragmentError::Truncated)
    ));
}

#[test]
fn memory_is_bounded_and_old_packets_expire() {
    let whole = ipv4(0, &data(64));
    let mut f = Feeder::new();
    for id in 0..=MAX_PENDING_DATAGRAMS as u16 {
        let mut frag = ipv4_fragment(&whole, 0..16, true);
        frag[4..6].copy_from_slice(&id.to_be_bytes());
        assert!(held(&f.push(frag)));
    }
    assert_eq!(f.defrag.pending.len(), MAX_PENDING_DATAGRAMS);
    assert_eq!(
        f.defrag.datagrams()[0].state,
        DatagramState::Discarded(FragmentError::Evicted)
    );
    assert_eq!(f.defrag.pending_bytes, MAX_PENDING_DATAGRAMS * 16);

    // A fragment more than 60 s after the first of its packet: the old one timed out.
    let mut f = Feeder::new();
    assert!(held(&f.push_at(ipv4_fragment(&whole, 0..16, true), 0)));
    assert!(held(
        &f.push_at(ipv4_fragment(&whole, 16..64, false), TIMEOUT_NS + 1)
    ));
    assert_eq!(
        f.defrag.datagrams()[0].state,
        DatagramState::Discarded(FragmentError::TimedOut)
    );
    assert_eq!(f.defrag.datagrams()[1].state, DatagramState::Pending);

    // The byte bound: big fragments of many packets push the oldest out.
    let big = ipv4(0, &data(60_000));
    let mut f = Feeder::new();
    for id in 0..100u16 {
        let mut frag = ipv4_fragment(&big, 0..59_000, true);
        frag[4..6].copy_from_slice(&id.to_be_bytes());
        f.push(frag);
        assert!(f.defrag.pending_bytes <= MAX_PENDING_BYTES);
    }
    let evicted = f
        .defrag
        .datagrams()
        .iter()
        .filter(|d| d.state == DatagramState::Discarded(FragmentError::Evicted))
        .count();
    assert_eq!(evicted, 100 - MAX_PENDING_BYTES / 59_000);
}

#[test]
fn any_split_and_order_gives_the_same_packet() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..300 {
        let len = 8 + (rand() % 3000) as usize;
        let whole = ipv4(round as u16, &data(len));
        let mut parts = Vec::new();
        let mut at = 0;
        while at < len {
            let size = 8 * (1 + (rand() % 40) as usize);
            let end = (at + size).min(len);
            parts.push((at..end, end < len));
            at = end;
        }
        if parts.len() == 1 {
            continue; // one piece is no fragment
        }
        let dups: Vec<_> = parts.iter().filter(|_| rand() % 5 == 0).cloned().collect();
        parts.extend(dups);
        for i in (1..parts.len()).rev() {
            let j = (rand() % (i as u64 + 1)) as usize;
            parts.swap(i, j);
        }
        let mut f = Feeder::new();
        let mut done = None;
        for (r, more) in parts {
            match f.push(ipv4_fragment(&whole, r, more)) {
                Pushed::Complete(r) => {
                    // Duplicates after completion start the packet again, and may complete it
                    // again (as a receiver would, for a packet sent twice).
                    assert_eq!(r.bytes, whole, "round {round}");
                    done = Some(r);
                }
                Pushed::Held => {}
                Pushed::Discarded(e) => panic!("round {round}: {e}"),
            }
        }
        assert_eq!(done.expect("completed").bytes, whole, "round {round}");
    }
}
