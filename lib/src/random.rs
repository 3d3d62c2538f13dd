//! The one source of randomness: identifiers, owner tokens and retry jitter all come from
//! here (version-4 UUIDs, i.e. the operating system's generator, underneath).

use std::time::Duration;

/// A fresh random (version 4) UUID.
pub fn uuid() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}

/// 64 random bits.
pub fn u64() -> u64 {
    let bytes = uuid().into_bytes();
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(out)
}

/// A random value in `0..bound` (0 when `bound` is 0).
pub fn below(bound: u64) -> u64 {
    if bound == 0 {
        0
    } else {
        u64() % bound
    }
}

/// A random owner token that any JSON reader holds exactly (below 2^53) and DynamoDB
/// stores as a number.
pub fn token() -> u64 {
    u64() >> 11
}

/// `base_ms << attempt` (the shift capped at `max_shift`) plus up to `jitter_ms` of random
/// jitter: a growing pause that keeps concurrent retries from colliding in lockstep.
pub fn backoff(attempt: usize, base_ms: u64, max_shift: usize, jitter_ms: u64) -> Duration {
    let shift = attempt.min(max_shift).min(32) as u32;
    Duration::from_millis(base_ms.saturating_mul(1u64 << shift) + below(jitter_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_in_their_ranges() {
        for _ in 0..1000 {
            assert!(below(20) < 20);
            assert!(token() < 1 << 53);
        }
        assert_eq!(below(0), 0);
        assert_ne!(uuid(), uuid());
    }

    #[test]
    fn backoff_grows_then_caps() {
        for attempt in 0..10 {
            let pause = backoff(attempt, 5, 5, 20).as_millis() as u64;
            let floor = 5u64 << attempt.min(5);
            assert!((floor..floor + 20).contains(&pause), "{attempt}: {pause}");
        }
    }
}
