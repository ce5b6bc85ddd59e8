//! Natural logarithm in the tape's precision: the standard one for `f64`, a
//! short inlined table-and-polynomial version for `f32` tapes. The KL terms need
//! one logarithm per pair of points; a library call costs more than the rest
//! of the pair's work, and only `f32` accuracy is needed for an `f32` loss.

use std::any::TypeId;

use ssne_tensor::Real;

/// `ln x` for `x > 0`, accurate to the precision of `R`.
#[inline(always)]
pub(super) fn ln_in<R: Real>(x: f64) -> f64 {
    if TypeId::of::<R>() == TypeId::of::<f32>() && (f64::MIN_POSITIVE..f64::INFINITY).contains(&x) {
        ln_single_precision(x)
    } else {
        x.ln()
    }
}

/// Bits of 0.69921875: arguments are reduced to `z` in `[OFF, 2 OFF)`.
const OFF: u64 = 0x3fe6_6000_0000_0000;

/// Subintervals of `[OFF, 2 OFF)`, selected by the top 4 mantissa bits of
/// `x - OFF`: their centre `c` (exactly 1 for the one holding 1, so that
/// `ln` keeps its relative accuracy near 0), `1 / c` and `ln c`.
const TABLE: [(f64, f64, f64); 16] = [
    (0.71484375, 1.3989071038251366, -0.33569129163814154),
    (0.74609375, 1.3403141361256545, -0.2929040164329326),
    (0.77734375, 1.2864321608040201, -0.2518726197550701),
    (0.80859375, 1.2367149758454106, -0.2124586512141934),
    (0.83984375, 1.1906976744186046, -0.17453941635189968),
    (0.87109375, 1.147982062780269, -0.13800567301944372),
    (0.90234375, 1.1082251082251082, -0.10275973395776894),
    (0.93359375, 1.0711297071129706, -0.06871389254805181),
    (0.96484375, 1.0364372469635628, -0.03578910785158528),
    (1.0, 1.0, 0.0),
    (1.0546875, 0.9481481481481482, 0.053244514518812285),
    (1.1171875, 0.8951048951048951, 0.11081436634029011),
    (1.1796875, 0.847682119205298, 0.16524957289530717),
    (1.2421875, 0.8050314465408805, 0.21687393830061436),
    (1.3046875, 0.7664670658682635, 0.26596354849713794),
    (1.3671875, 0.7314285714285714, 0.3127557100038969),
];

/// `ln x` for a positive normal `f64`, to about 1e-9 relative error (better
/// than `f32` needs): `x = 2^k z` with `z` in `[OFF, 2 OFF)`, `c` the centre of
/// `z`'s subinterval, then `ln x = k ln 2 + ln c + log1p(z/c - 1)` with
/// `|z/c - 1| < 0.03` and a degree-5 Taylor polynomial for `log1p`. Plain
/// operations only, so the bits are the same on every machine.
#[inline(always)]
fn ln_single_precision(x: f64) -> f64 {
    let bits = x.to_bits();
    let tmp = bits.wrapping_sub(OFF);
    let idx = ((tmp >> 48) & 15) as usize;
    // Arithmetic shift: the exponent of x relative to OFF, negative below it.
    let k = (tmp as i64) >> 52;
    let z = f64::from_bits(bits.wrapping_sub(tmp & 0xfff0_0000_0000_0000));
    let (_, inv_c, ln_c) = TABLE[idx];
    let r = z * inv_c - 1.0;
    let r2 = r * r;
    let log1p = r + r2 * (-0.5 + r * (1.0 / 3.0)) + r2 * r2 * (-0.25 + r * 0.2);
    k as f64 * std::f64::consts::LN_2 + ln_c + log1p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_centres_inverses_and_logarithms() {
        for (idx, &(c, inv_c, ln_c)) in TABLE.iter().enumerate() {
            let lo = f64::from_bits(OFF + ((idx as u64) << 48));
            let hi = f64::from_bits(OFF + ((idx as u64 + 1) << 48));
            assert!(lo <= c && c < hi, "entry {idx}");
            assert_eq!(inv_c, 1.0 / c);
            assert!((ln_c - c.ln()).abs() <= 1e-16, "entry {idx}");
        }
    }

    #[test]
    fn single_precision_logarithm_is_within_half_an_f32_ulp() {
        // Every step of 1.37 over a wide range, at several mantissas, and a
        // dense sweep around 1 where ln is near 0.
        let mut samples = Vec::new();
        let mut x = 1e-60_f64;
        while x < 1e80 {
            samples.extend([1.0, 1.0001, 1.2345, 1.414, 1.5, 1.9999].map(|s| x * s));
            x *= 1.37;
        }
        samples.extend((1..4000).map(|i| 1.0 + (i as f64 - 2000.0) * 5e-5));
        samples.extend((0..=16).map(|i| f64::from_bits(OFF + (i << 48))));
        let worst = samples
            .iter()
            .filter(|&&v| v != 1.0)
            .map(|&v| {
                let exact = v.ln();
                (ln_single_precision(v) - exact).abs() / (f64::from(f32::EPSILON) * exact.abs())
            })
            .fold(0.0_f64, f64::max);
        assert!(worst <= 0.5, "worst error {worst} f32 ulp");
        assert_eq!(ln_single_precision(1.0), 0.0);
    }

    #[test]
    fn dispatch_by_precision_and_edge_values() {
        assert_eq!(ln_in::<f64>(0.3), 0.3_f64.ln());
        assert!((ln_in::<f32>(0.3) - 0.3_f64.ln()).abs() < 1e-9);
        let subnormal = f64::MIN_POSITIVE / 8.0;
        assert_eq!(ln_in::<f32>(subnormal), subnormal.ln());
        assert_eq!(ln_in::<f32>(f64::INFINITY), f64::INFINITY);
        assert!((ln_in::<f32>(1e300) - 1e300_f64.ln()).abs() < 1e-6);
    }
}
