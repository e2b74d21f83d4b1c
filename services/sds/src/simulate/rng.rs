//! The simulation's one source of chance: SplitMix64, seeded by `--seed`.
//!
//! What must stay true: the same seed gives the same numbers on every machine and every
//! build, for ever (a seed in a bug report must replay the same run), so the generator is
//! written out here rather than taken from a crate whose algorithm may change between
//! versions. Each use draws from a stream of its own ([`Rng::stream`]), so drawing one more
//! number for one thing does not shift what every other thing draws.

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, fast, and good enough for a workload.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent generator for the thing named `name` (number `index` of its kind).
    pub fn stream(seed: u64, name: &str, index: u64) -> Rng {
        // FNV-1a of the name: stable, and a different start for each name.
        let named = name.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
        });
        Rng::new(mix(seed ^ mix(named ^ mix(index.wrapping_add(GAMMA)))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// A number in `0..bound` (0 when `bound` is 0), without modulo bias worth the name
    /// (the multiply-shift method).
    pub fn below(&mut self, bound: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(bound);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_gives_the_published_sequence_for_seed_0() {
        // The reference implementation's first outputs from state 0.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn the_same_seed_and_name_give_the_same_stream_and_others_differ() {
        let draw = |seed, name, index| {
            let mut rng = Rng::stream(seed, name, index);
            (0..8).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, "fund", 3), draw(7, "fund", 3));
        assert_ne!(draw(7, "fund", 3), draw(8, "fund", 3));
        assert_ne!(draw(7, "fund", 3), draw(7, "fund", 4));
        assert_ne!(draw(7, "fund", 3), draw(7, "faults", 3));
    }

    #[test]
    fn draws_stay_within_their_bounds_and_reach_both_ends() {
        let mut rng = Rng::new(42);
        let drawn: Vec<u64> = (0..10_000).map(|_| rng.between(3, 9)).collect();
        assert!(drawn.iter().all(|value| (3..=9).contains(value)));
        assert!(drawn.contains(&3) && drawn.contains(&9));
        assert_eq!(rng.below(0), 0);
        let heads = (0..10_000).filter(|_| rng.chance(30)).count();
        assert!((2_500..3_500).contains(&heads), "{heads} in 10,000 at 30%");
    }
}
