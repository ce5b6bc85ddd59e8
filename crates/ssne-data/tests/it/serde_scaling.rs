//! With the `serde` feature, a fitted scaling survives a JSON round trip unchanged.

use ndarray::array;
use ssne_data::{Dataset, Scaling, ScalingKind};

#[test]
fn scaling_round_trips_through_json() {
    let data = Dataset::new(array![[0.25_f32, 10.0], [0.75, -2.0]], None).unwrap();
    for kind in [ScalingKind::None, ScalingKind::UnitRange, ScalingKind::Standardize] {
        let scaling = data.fit_scaling(kind);
        let json = serde_json::to_string(&scaling).unwrap();
        let back: Scaling = serde_json::from_str(&json).unwrap();
        assert_eq!(back, scaling);
        assert_eq!(back.kind(), kind);
    }
}
