//! Heatmaps, source images and titled grids of them, upscaled pixel-exact.

use ssne_tensor::ndarray::ArrayView1;

use super::canvas::RgbImage;
use super::colour::{Diverging, grey, symmetric_limit};
use super::font::{ADVANCE, LINE_HEIGHT, draw_text, text_width};
use crate::directional::{DirectionalMap, EnsembleDirectionalMap};
use crate::error::invalid;
use crate::{Result, SaliencyError};

/// How a panel's values are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PanelKind {
    /// Signed values on the diverging colour map, white at zero.
    Heatmap,
    /// An image in grey levels, its minimum black and its maximum white.
    Grey,
    /// A share in `[0, 1]` (e.g. ensemble agreement) in grey levels, 0 black and 1 white.
    Share,
}

/// One titled tile of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Title drawn above the tile (printable ASCII; other characters draw as `?`).
    pub title: String,
    /// One value per pixel, row-major.
    pub values: Vec<f32>,
    /// How the values are drawn.
    pub kind: PanelKind,
}

impl Panel {
    /// A saliency map panel.
    pub fn heatmap(title: impl Into<String>, values: ArrayView1<'_, f32>) -> Self {
        Panel {
            title: title.into(),
            values: values.to_vec(),
            kind: PanelKind::Heatmap,
        }
    }

    /// A source-image panel.
    pub fn grey(title: impl Into<String>, values: ArrayView1<'_, f32>) -> Self {
        Panel {
            title: title.into(),
            values: values.to_vec(),
            kind: PanelKind::Grey,
        }
    }
}

/// Where the colour limits `±limit` of heatmap panels come from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ColourLimits {
    /// Each heatmap uses its own largest magnitude: every map uses the full
    /// colour range, but colours do not compare across panels.
    #[default]
    PerPanel,
    /// All heatmaps of the figure share the largest magnitude of any of them.
    Shared,
    /// This limit for every heatmap.
    Fixed(f32),
}

/// The geometry and colours of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// `[height, width]` of one image (e.g. `[28, 28]`).
    pub image_shape: [usize; 2],
    /// Each data pixel becomes a `scale × scale` block (nearest neighbour, no blur).
    pub scale: usize,
    /// Panels per row of the grid.
    pub columns: usize,
    /// Pixels of background between and around tiles.
    pub gap: usize,
    /// Each font pixel becomes a `text_scale × text_scale` block; 0 draws no titles.
    pub text_scale: usize,
    /// The heatmap colours.
    pub colours: Diverging,
    /// The heatmap limits.
    pub limits: ColourLimits,
    /// Background colour.
    pub background: [u8; 3],
    /// Title colour.
    pub text: [u8; 3],
}

impl Layout {
    /// Defaults for images of `image_shape`: ×8 upscaling, 4 columns, 2× text,
    /// blue-white-red heatmaps with per-panel limits, on white.
    pub fn new(image_shape: [usize; 2]) -> Self {
        Layout {
            image_shape,
            scale: 8,
            columns: 4,
            gap: 6,
            text_scale: 2,
            colours: Diverging::default(),
            limits: ColourLimits::PerPanel,
            background: [255; 3],
            text: [0; 3],
        }
    }

    fn validate(&self) -> Result<()> {
        if self.scale == 0 {
            return Err(invalid("scale", 0, "at least 1"));
        }
        if self.columns == 0 {
            return Err(invalid("columns", 0, "at least 1"));
        }
        if let ColourLimits::Fixed(limit) = self.limits
            && !(limit.is_finite() && limit > 0.0)
        {
            return Err(invalid("colour limit", limit, "a finite number > 0"));
        }
        Ok(())
    }

    fn check_values(&self, n_values: usize) -> Result<()> {
        let [height, width] = self.image_shape;
        if height.checked_mul(width) == Some(n_values) && n_values > 0 {
            Ok(())
        } else {
            Err(SaliencyError::ImageShape {
                shape: self.image_shape,
                n_values,
            })
        }
    }

    fn title_height(&self) -> usize {
        if self.text_scale == 0 {
            0
        } else {
            LINE_HEIGHT * self.text_scale
        }
    }
}

/// One map as a heatmap, `scale`× upscaled, with limits `±limit` (its own
/// largest magnitude when `None`).
///
/// # Errors
/// [`SaliencyError::ImageShape`] when `shape` does not hold `map.len()`
/// pixels, [`SaliencyError::InvalidParameter`] for a zero scale,
/// [`SaliencyError::PictureSize`] for a picture too large.
///
/// # Example
/// ```
/// use ssne_saliency::picture::{Diverging, heatmap};
/// use ssne_tensor::ndarray::array;
///
/// let map = array![0.0_f32, 1.0, -1.0, 0.5];
/// let image = heatmap(map.view(), [2, 2], 3, None, &Diverging::default())?;
/// assert_eq!((image.width(), image.height()), (6, 6));
/// assert_eq!(image.pixel(0, 0), Some([255, 255, 255])); // zero is white
/// assert_eq!(image.pixel(5, 0), Some(Diverging::default().positive)); // the maximum
/// # Ok::<(), ssne_saliency::SaliencyError>(())
/// ```
pub fn heatmap(
    map: ArrayView1<'_, f32>,
    shape: [usize; 2],
    scale: usize,
    limit: Option<f32>,
    colours: &Diverging,
) -> Result<RgbImage> {
    let layout = Layout {
        scale,
        ..Layout::new(shape)
    };
    layout.validate()?;
    layout.check_values(map.len())?;
    let values = map.to_vec();
    let limit = limit.unwrap_or_else(|| symmetric_limit(&values));
    tile(&values, &layout, |v| colours.colour(v, limit))
}

/// One image in grey levels (its minimum black, its maximum white), `scale`× upscaled.
///
/// # Errors
/// As [`heatmap`].
pub fn greyscale(image: ArrayView1<'_, f32>, shape: [usize; 2], scale: usize) -> Result<RgbImage> {
    let layout = Layout {
        scale,
        ..Layout::new(shape)
    };
    layout.validate()?;
    layout.check_values(image.len())?;
    let values = image.to_vec();
    let (lo, hi) = finite_range(&values);
    tile(&values, &layout, |v| grey(v, lo, hi))
}

/// Panels in a grid, `layout.columns` per row, each with its title above it.
///
/// # Errors
/// [`SaliencyError::ImageShape`] when a panel does not hold one value per
/// pixel of `layout.image_shape`, [`SaliencyError::InvalidParameter`] for an
/// empty panel list or a bad layout, [`SaliencyError::PictureSize`] for a
/// figure too large.
pub fn grid(panels: &[Panel], layout: &Layout) -> Result<RgbImage> {
    layout.validate()?;
    if panels.is_empty() {
        return Err(invalid("panels", 0, "at least one panel"));
    }
    for panel in panels {
        layout.check_values(panel.values.len())?;
    }
    let shared_limit = match layout.limits {
        ColourLimits::PerPanel => None,
        ColourLimits::Shared => Some(symmetric_limit(
            panels
                .iter()
                .filter(|p| p.kind == PanelKind::Heatmap)
                .flat_map(|p| &p.values),
        )),
        ColourLimits::Fixed(limit) => Some(limit),
    };
    let [height, width] = layout.image_shape;
    let tile_w = width.saturating_mul(layout.scale);
    let tile_h = height.saturating_mul(layout.scale);
    let title_h = layout.title_height();
    let n_cols = layout.columns.min(panels.len());
    let n_rows = panels.len().div_ceil(n_cols);
    let figure_w = layout
        .gap
        .saturating_add(n_cols.saturating_mul(tile_w.saturating_add(layout.gap)));
    let figure_h = layout
        .gap
        .saturating_add(n_rows.saturating_mul(title_h.saturating_add(tile_h).saturating_add(layout.gap)));
    let mut figure = RgbImage::new(figure_w, figure_h, layout.background)?;
    for (panel_idx, panel) in panels.iter().enumerate() {
        let left = layout.gap + (panel_idx % n_cols) * (tile_w + layout.gap);
        let top = layout.gap + (panel_idx / n_cols) * (title_h + tile_h + layout.gap);
        if layout.text_scale > 0 {
            let max_chars = tile_w / (ADVANCE * layout.text_scale);
            let title: String = panel.title.chars().take(max_chars).collect();
            // Centre the title over its tile.
            let indent = tile_w.saturating_sub(text_width(&title, layout.text_scale)) / 2;
            draw_text(
                &mut figure,
                left + indent,
                top + layout.text_scale,
                &title,
                layout.text_scale,
                layout.text,
            );
        }
        let image = match panel.kind {
            PanelKind::Heatmap => {
                let limit = shared_limit.unwrap_or_else(|| symmetric_limit(&panel.values));
                tile(&panel.values, layout, |v| layout.colours.colour(v, limit))?
            }
            PanelKind::Grey => {
                let (lo, hi) = finite_range(&panel.values);
                tile(&panel.values, layout, |v| grey(v, lo, hi))?
            }
            PanelKind::Share => tile(&panel.values, layout, |v| grey(v, 0.0, 1.0))?,
        };
        figure.blit(&image, left, top + title_h);
    }
    Ok(figure)
}

/// A point (greyscale) beside its saliency map.
///
/// # Errors
/// As [`grid`].
pub fn saliency_figure(
    image: ArrayView1<'_, f32>,
    map: ArrayView1<'_, f32>,
    title: &str,
    layout: &Layout,
) -> Result<RgbImage> {
    let panels = [Panel::grey("input", image), Panel::heatmap(title, map)];
    grid(
        &panels,
        &Layout {
            columns: 2,
            ..layout.clone()
        },
    )
}

/// A directional map between its two group centres: source centre, map,
/// destination centre, titled `from`, `from -> to`, `to`.
///
/// # Errors
/// As [`grid`].
pub fn directional_figure(map: &DirectionalMap, layout: &Layout) -> Result<RgbImage> {
    let panels = [
        Panel::grey(&map.from.name, map.from.input.view()),
        Panel::heatmap(format!("{} -> {}", map.from.name, map.to.name), map.map.view()),
        Panel::grey(&map.to.name, map.to.input.view()),
    ];
    grid(
        &panels,
        &Layout {
            columns: 3,
            ..layout.clone()
        },
    )
}

/// An ensemble's directional map: source centre, mean map, agreement (grey,
/// 0 black and 1 white), destination centre.
///
/// # Errors
/// As [`grid`].
pub fn ensemble_directional_figure(map: &EnsembleDirectionalMap, layout: &Layout) -> Result<RgbImage> {
    let panels = [
        Panel::grey(&map.from, map.from_input.view()),
        Panel::heatmap(format!("{} -> {} x{}", map.from, map.to, map.n_models), map.mean.view()),
        Panel {
            title: "agreement".into(),
            values: map.agreement.to_vec(),
            kind: PanelKind::Share,
        },
        Panel::grey(&map.to, map.to_input.view()),
    ];
    grid(
        &panels,
        &Layout {
            columns: 4,
            ..layout.clone()
        },
    )
}

/// Smallest and largest finite value (0, 0 when there is none).
fn finite_range(values: &[f32]) -> (f32, f32) {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo <= hi { (lo, hi) } else { (0.0, 0.0) }
}

/// One image tile: every value a `scale × scale` block of `colour(value)`.
fn tile(values: &[f32], layout: &Layout, colour: impl Fn(f32) -> [u8; 3]) -> Result<RgbImage> {
    let [height, width] = layout.image_shape;
    let scale = layout.scale;
    let mut image = RgbImage::new(
        width.saturating_mul(scale),
        height.saturating_mul(scale),
        layout.background,
    )?;
    for (idx, &value) in values.iter().enumerate() {
        let (row, col) = (idx / width, idx % width);
        image.fill_rect(col * scale, row * scale, scale, scale, colour(value));
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_tensor::ndarray::array;

    #[test]
    fn shapes_that_do_not_hold_the_map_are_errors() {
        let map = array![1.0_f32, 2.0, 3.0];
        assert!(matches!(
            heatmap(map.view(), [2, 2], 1, None, &Diverging::default()),
            Err(SaliencyError::ImageShape {
                shape: [2, 2],
                n_values: 3
            })
        ));
        assert!(matches!(
            greyscale(map.view(), [1, 3], 0),
            Err(SaliencyError::InvalidParameter { name: "scale", .. })
        ));
        assert!(matches!(
            grid(&[], &Layout::new([1, 3])),
            Err(SaliencyError::InvalidParameter { name: "panels", .. })
        ));
    }

    #[test]
    fn grid_places_tiles_below_titles() {
        let layout = Layout {
            scale: 2,
            gap: 1,
            text_scale: 1,
            ..Layout::new([1, 2])
        };
        let panels = [
            Panel::heatmap("a", array![1.0_f32, -1.0].view()),
            Panel::grey("b", array![0.0_f32, 1.0].view()),
        ];
        let figure = grid(&panels, &layout).unwrap();
        let title_h = LINE_HEIGHT; // text_scale 1
        assert_eq!(figure.width(), 1 + 2 * (4 + 1));
        assert_eq!(figure.height(), 1 + title_h + 2 + 1);
        let top = 1 + title_h;
        assert_eq!(figure.pixel(1, top), Some(layout.colours.positive));
        assert_eq!(figure.pixel(3, top + 1), Some(layout.colours.negative));
        assert_eq!(figure.pixel(6, top), Some([0; 3]));
        assert_eq!(figure.pixel(8, top), Some([255; 3]));
    }

    #[test]
    fn shared_limits_compare_across_panels() {
        let layout = Layout {
            scale: 1,
            gap: 0,
            text_scale: 0,
            limits: ColourLimits::Shared,
            ..Layout::new([1, 1])
        };
        let panels = [
            Panel::heatmap("", array![2.0_f32].view()),
            Panel::heatmap("", array![1.0_f32].view()),
        ];
        let figure = grid(&panels, &layout).unwrap();
        assert_eq!(figure.pixel(0, 0), Some(layout.colours.positive));
        assert_eq!(figure.pixel(1, 0), Some(layout.colours.colour(1.0, 2.0)));
    }
}
