//! The bit masks Linux shows for a process in `/proc/PID/status` (`CapEff:`, `SigIgn:`, …): hex
//! numbers with one bit per capability or signal. Read by `doctor` (which capabilities are held)
//! and by the stop signals (whether SIGHUP was ignored when the program started, as `nohup` does).

/// The mask on the line `field` (e.g. `"SigIgn"`) of a status text, if there is one.
pub fn status_mask(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
}

/// [`status_mask`] of this process; `None` if /proc cannot be read.
pub fn own_status_mask(field: &str) -> Option<u64> {
    status_mask(&std::fs::read_to_string("/proc/self/status").ok()?, field)
}

/// Whether bit `bit` (from 0) of this process's `field` mask is set; false if it cannot be read.
pub fn own_status_bit(field: &str, bit: u32) -> bool {
    own_status_mask(field).is_some_and(|mask| mask & (1u64 << bit) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_read_by_field_name() {
        let status = "Name:\tpacketpath\nSigIgn:\t0000000000000001\nCapEff:\t0000000000002000\n";
        assert_eq!(status_mask(status, "SigIgn"), Some(1));
        assert_eq!(status_mask(status, "CapEff"), Some(1 << 13));
        assert_eq!(
            status_mask(status, "Cap"),
            None,
            "a whole field name, not a prefix"
        );
        assert_eq!(status_mask(status, "SigBlk"), None);
    }
}
