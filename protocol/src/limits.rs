//! Frame-level limits, validated once at start.

use flatbuffers::VerifierOptions;

/// Smallest `max_frame_size` accepted. Below the default (1 MiB), the largest fields (64 KiB texts
/// and SDP offers) may no longer fit in one frame.
pub const MIN_FRAME_SIZE: u32 = 16 * 1024;
/// Largest `max_frame_size` accepted.
pub const MAX_FRAME_SIZE: u32 = 16 * 1024 * 1024;

/// Limits applied to every frame before any field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest frame (size prefix excluded) a peer may send. Default 1 MiB.
    pub max_frame_size: u32,
    /// Deepest nesting of tables accepted by the verifier. Default 16 (the schema nests 6 deep).
    pub max_depth: u32,
    /// Most tables in one frame accepted by the verifier. Default 100 000.
    pub max_tables: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_frame_size: 1024 * 1024, max_depth: 16, max_tables: 100_000 }
    }
}

/// A [`Limits`] value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitsError {
    #[error("max_frame_size {0} is out of range {MIN_FRAME_SIZE}..={MAX_FRAME_SIZE}")]
    FrameSize(u32),
    #[error("max_depth {0} is out of range 8..=64")]
    Depth(u32),
    #[error("max_tables {0} is out of range 16..=10000000")]
    Tables(u32),
}

impl Limits {
    /// Checks that every limit is in its allowed range.
    pub fn validate(&self) -> Result<(), LimitsError> {
        if !(MIN_FRAME_SIZE..=MAX_FRAME_SIZE).contains(&self.max_frame_size) {
            return Err(LimitsError::FrameSize(self.max_frame_size));
        }
        if !(8..=64).contains(&self.max_depth) {
            return Err(LimitsError::Depth(self.max_depth));
        }
        if !(16..=10_000_000).contains(&self.max_tables) {
            return Err(LimitsError::Tables(self.max_tables));
        }
        Ok(())
    }

    pub(crate) fn verifier_options(&self) -> VerifierOptions {
        VerifierOptions {
            max_depth: self.max_depth as usize,
            max_tables: self.max_tables as usize,
            // A frame's object graph may share substructures; never let it expand past twice its size.
            max_apparent_size: (self.max_frame_size as usize).saturating_mul(2),
            ignore_missing_null_terminator: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(Limits::default().validate(), Ok(()));
    }

    #[test]
    fn out_of_range_is_rejected() {
        let small = Limits { max_frame_size: 10, ..Limits::default() };
        assert_eq!(small.validate(), Err(LimitsError::FrameSize(10)));
        let deep = Limits { max_depth: 1000, ..Limits::default() };
        assert_eq!(deep.validate(), Err(LimitsError::Depth(1000)));
        let tables = Limits { max_tables: 1, ..Limits::default() };
        assert_eq!(tables.validate(), Err(LimitsError::Tables(1)));
    }
}
