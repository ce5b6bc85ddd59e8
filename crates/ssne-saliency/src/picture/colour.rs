//! Colour maps: a diverging map centred at zero for signed saliency, and grey
//! for source images.

/// A diverging colour map: `zero` at 0, blending linearly to `negative` at
/// `-limit` and `positive` at `+limit`; values beyond the limit are clamped.
/// The default is blue, white, red (the end colours of ColorBrewer's RdBu).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Diverging {
    /// Colour of `-limit` and below.
    pub negative: [u8; 3],
    /// Colour of 0.
    pub zero: [u8; 3],
    /// Colour of `+limit` and above.
    pub positive: [u8; 3],
}

impl Default for Diverging {
    fn default() -> Self {
        Diverging {
            negative: [33, 102, 172],
            zero: [255, 255, 255],
            positive: [178, 24, 43],
        }
    }
}

impl Diverging {
    /// The colour of `value` for the symmetric limits `±limit`. A limit that
    /// is not positive and finite (an all-zero map) and a NaN value give the
    /// zero colour.
    pub fn colour(&self, value: f32, limit: f32) -> [u8; 3] {
        if !(limit.is_finite() && limit > 0.0) || value.is_nan() {
            return self.zero;
        }
        let t = (f64::from(value) / f64::from(limit)).clamp(-1.0, 1.0);
        let end = if t < 0.0 { self.negative } else { self.positive };
        let t = t.abs();
        std::array::from_fn(|c| {
            let (from, to) = (f64::from(self.zero[c]), f64::from(end[c]));
            // The blend stays between two u8 values, so the cast cannot wrap.
            (from + (to - from) * t).round() as u8
        })
    }
}

/// The symmetric limit of a map: its largest finite absolute value (0 for
/// an empty or all-zero map).
pub fn symmetric_limit<'a>(values: impl IntoIterator<Item = &'a f32>) -> f32 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f32, |acc, v| acc.max(v.abs()))
}

/// Grey level of `value` on the range `[lo, hi]`: `lo` is black, `hi` white.
pub(crate) fn grey(value: f32, lo: f32, hi: f32) -> [u8; 3] {
    let level = if hi > lo && value.is_finite() {
        // Clamped to [0, 255] before the cast.
        ((f64::from(value) - f64::from(lo)) / (f64::from(hi) - f64::from(lo)) * 255.0)
            .round()
            .clamp(0.0, 255.0) as u8
    } else {
        0
    };
    [level; 3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_white_and_limits_are_the_end_colours() {
        let map = Diverging::default();
        assert_eq!(map.colour(0.0, 2.0), [255, 255, 255]);
        assert_eq!(map.colour(2.0, 2.0), map.positive);
        assert_eq!(map.colour(-2.0, 2.0), map.negative);
        assert_eq!(map.colour(5.0, 2.0), map.positive, "clamped");
        assert_eq!(map.colour(1.0, 0.0), map.zero, "no limit, no colour");
        assert_eq!(map.colour(f32::NAN, 1.0), map.zero);
        // Half way: the mean of white and the end colour, rounded.
        assert_eq!(map.colour(1.0, 2.0), [217, 140, 149]);
    }

    #[test]
    fn limit_is_the_largest_magnitude() {
        assert_eq!(symmetric_limit(&[1.0, -3.0, 2.0, f32::INFINITY]), 3.0);
        assert_eq!(symmetric_limit(&[]), 0.0);
    }

    #[test]
    fn grey_spans_the_range() {
        assert_eq!(grey(0.0, 0.0, 1.0), [0; 3]);
        assert_eq!(grey(1.0, 0.0, 1.0), [255; 3]);
        assert_eq!(grey(0.5, 0.5, 0.5), [0; 3]);
    }
}
