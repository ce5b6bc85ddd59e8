//! A branch-free `exp` for non-positive `f64` arguments, written so that the
//! compiler vectorises the search's inner loop (libm's `exp` is an opaque call).

const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// High part of ln 2 with trailing zero bits, so `k * LN2_HI` is exact for |k| < 2^11.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// ln 2 - LN2_HI (to double precision).
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5 * 2^52: adding it rounds a float of magnitude < 2^51 to an integer and
/// leaves that integer in the low mantissa bits.
const ROUND_SHIFT: f64 = 6_755_399_441_055_744.0;
/// Below ln(2^-1022) the result is subnormal; it is returned as 0. That is an
/// absolute error below 2.3e-308, invisible next to the row sum (which is >= 1).
const MIN_ARG: f64 = -708.396_418_532_264;

/// `e^x` for `x <= 0`, with a relative error of a few ulp (Taylor polynomial of
/// degree 12 on |r| <= ln(2)/2 after the reduction `x = k ln 2 + r`), and 0 for
/// `x < -708.39`. Positive arguments are not supported (callers only pass
/// `-beta * d` with `beta, d >= 0`).
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f64) -> f64 {
    let xc = x.max(MIN_ARG);
    let shifted = xc * LOG2_E + ROUND_SHIFT;
    let k = shifted - ROUND_SHIFT;
    let k_bits = shifted.to_bits().wrapping_sub(ROUND_SHIFT.to_bits());
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    // Taylor coefficients 1/j!, evaluated by Horner's rule.
    let mut p = 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^k built from its exponent bits; k >= -1022 thanks to the clamp above.
    let scale = f64::from_bits(k_bits.wrapping_add(1023) << 52);
    if x < MIN_ARG { 0.0 } else { p * scale }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_within_a_few_ulp() {
        let mut worst = 0.0_f64;
        let mut x = 0.0_f64;
        while x > -708.0 {
            let want = x.exp();
            let got = exp_nonpositive(x);
            worst = worst.max(((got - want) / want).abs());
            x -= 0.013_7;
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
    }

    #[test]
    fn exact_at_zero_and_zero_far_below() {
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        assert_eq!(exp_nonpositive(-709.0), 0.0);
        assert_eq!(exp_nonpositive(-1e300), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn accurate_around_every_reduction_boundary() {
        // x = -(k + 1/2) ln 2 is where the rounding of x / ln 2 switches k.
        for k in 0..1021 {
            for x in [
                -f64::from(k) * std::f64::consts::LN_2,
                -(f64::from(k) + 0.5) * std::f64::consts::LN_2,
            ] {
                for x in [x, x.next_up(), x.next_down()] {
                    let want = x.exp();
                    assert!(((exp_nonpositive(x) - want) / want).abs() < 1e-15, "x = {x}");
                }
            }
        }
    }
}
