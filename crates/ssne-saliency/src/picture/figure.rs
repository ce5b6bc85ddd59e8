//! Heatmaps, source images and titled grids of them, upscaled pixel-exact.

use ssne_tensor::ndarray::ArrayView1;

use super::canvas::RgbImage;
use super::colour::{Diverging, grey, symmetric_limit};
use super::font::{ADVANCE, GLYPH_HEIGHT, LINE_HEIGHT, draw_text, text_width};
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
    /// Draw a colour bar with its numeric range under every heatmap and share panel.
    pub colour_bars: bool,
    /// What red and blue mean, written under the grid (none when `None`).
    pub legend: Option<Legend>,
}

/// What the two ends of the diverging colour map mean for one kind of map, written under a
/// figure beside a swatch of each colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legend {
    /// What a positive (red) value means.
    pub positive: String,
    /// What a negative (blue) value means.
    pub negative: String,
}

impl Legend {
    /// A directional map from the group `from` towards `to`.
    pub fn directional(from: &str, to: &str) -> Self {
        Legend {
            positive: format!("red: the pixel pushes the point from {from} towards {to}"),
            negative: format!("blue: it pushes the point back, away from {to}"),
        }
    }

    /// Directional maps between several pairs of groups (an overview).
    pub fn directional_pairs() -> Self {
        Legend {
            positive: "red: the pixel pushes the point from A towards B (titles read A -> B)".into(),
            negative: "blue: it pushes the point back, away from B".into(),
        }
    }

    /// A class saliency map of `class`.
    pub fn class(class: &str) -> Self {
        Legend {
            positive: format!("red: the pixel raises the score of class {class}"),
            negative: "blue: it lowers that score".into(),
        }
    }

    /// Rows of the map's Jacobian (`dx/dpixel`, `dy/dpixel`).
    pub fn jacobian() -> Self {
        Legend {
            positive: "red: a brighter pixel moves the point up that map axis".into(),
            negative: "blue: it moves the point down that axis".into(),
        }
    }
}

/// The side, in figure pixels, below which [`Layout::new`] upscales an image further than ×8,
/// so that small images (8 × 8 digits) are drawn large enough to read.
pub const MIN_PANEL_SIDE: usize = 112;

/// The default upscaling: ×8, or the smallest integer factor that makes the shorter side of
/// the image at least [`MIN_PANEL_SIDE`] pixels.
fn default_scale(image_shape: [usize; 2]) -> usize {
    let side = image_shape[0].min(image_shape[1]).max(1);
    8.max(MIN_PANEL_SIDE.div_ceil(side))
}

impl Layout {
    /// Defaults for images of `image_shape`: ×8 upscaling (more for images shorter than
    /// [`MIN_PANEL_SIDE`] / 8 pixels), 4 columns, 2× text, blue-white-red heatmaps with
    /// per-panel limits and colour bars, on white, no legend.
    pub fn new(image_shape: [usize; 2]) -> Self {
        Layout {
            image_shape,
            scale: default_scale(image_shape),
            columns: 4,
            gap: 6,
            text_scale: 2,
            colours: Diverging::default(),
            limits: ColourLimits::PerPanel,
            background: [255; 3],
            text: [0; 3],
            colour_bars: true,
            legend: None,
        }
    }

    /// This layout with `legend`.
    #[must_use]
    pub fn with_legend(mut self, legend: Legend) -> Self {
        self.legend = Some(legend);
        self
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

/// Panels in a grid, `layout.columns` per row, each with its whole title above it (a cell is
/// as wide as its longest title), a colour bar with its range under each heatmap or share
/// panel when `layout.colour_bars`, and the legend under the grid.
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
    let cell_w = panels
        .iter()
        .map(|p| {
            if layout.text_scale > 0 {
                text_width(&p.title, layout.text_scale)
            } else {
                0
            }
        })
        .fold(tile_w, usize::max);
    let has_bars = layout.colour_bars && panels.iter().any(|p| p.kind != PanelKind::Grey);
    let bar = BarGeometry::new(layout, tile_w);
    let bar_h = if has_bars { bar.height() } else { 0 };
    let n_cols = layout.columns.min(panels.len());
    let n_rows = panels.len().div_ceil(n_cols);
    let row_h = title_h
        .saturating_add(tile_h)
        .saturating_add(bar_h)
        .saturating_add(layout.gap);
    let figure_w = layout
        .gap
        .saturating_add(n_cols.saturating_mul(cell_w.saturating_add(layout.gap)));
    let legend_lines = legend_lines(layout, figure_w);
    let legend_h = legend_lines.len().saturating_mul(layout.title_height());
    let figure_h = layout
        .gap
        .saturating_add(n_rows.saturating_mul(row_h))
        .saturating_add(legend_h);
    let mut figure = RgbImage::new(figure_w, figure_h, layout.background)?;
    for (panel_idx, panel) in panels.iter().enumerate() {
        let left = layout.gap + (panel_idx % n_cols) * (cell_w + layout.gap);
        let top = layout.gap + (panel_idx / n_cols) * row_h;
        let tile_left = left + (cell_w - tile_w) / 2;
        if layout.text_scale > 0 {
            // Centre the title over its cell.
            let indent = cell_w.saturating_sub(text_width(&panel.title, layout.text_scale)) / 2;
            draw_text(
                &mut figure,
                left + indent,
                top + layout.text_scale,
                &panel.title,
                layout.text_scale,
                layout.text,
            );
        }
        let (image, range) = match panel.kind {
            PanelKind::Heatmap => {
                let limit = shared_limit.unwrap_or_else(|| symmetric_limit(&panel.values));
                let image = tile(&panel.values, layout, |v| layout.colours.colour(v, limit))?;
                (image, Some(BarRange::Diverging(limit)))
            }
            PanelKind::Grey => {
                let (lo, hi) = finite_range(&panel.values);
                (tile(&panel.values, layout, |v| grey(v, lo, hi))?, None)
            }
            PanelKind::Share => (
                tile(&panel.values, layout, |v| grey(v, 0.0, 1.0))?,
                Some(BarRange::Share),
            ),
        };
        figure.blit(&image, tile_left, top + title_h);
        if let (true, Some(range)) = (has_bars, range) {
            bar.draw(&mut figure, layout, range, tile_left, top + title_h + tile_h);
        }
    }
    let mut y = layout.gap + n_rows * row_h;
    for (swatch, line) in legend_lines {
        let side = GLYPH_HEIGHT * layout.text_scale;
        let mut x = layout.gap;
        if let Some(colour) = swatch {
            figure.fill_rect(x, y, side, side, colour);
            x += side + ADVANCE * layout.text_scale;
        }
        draw_text(&mut figure, x, y, &line, layout.text_scale, layout.text);
        y += layout.title_height();
    }
    Ok(figure)
}

/// What a colour bar spans.
#[derive(Debug, Clone, Copy)]
enum BarRange {
    /// The diverging map from `-limit` to `+limit`.
    Diverging(f32),
    /// Grey from 0 (black) to 1 (white).
    Share,
}

/// Where a colour bar and its labels go under a tile.
struct BarGeometry {
    /// Thickness of the bar.
    thickness: usize,
    /// Font scale of the labels.
    label_scale: usize,
}

impl BarGeometry {
    fn new(layout: &Layout, tile_w: usize) -> Self {
        // The labels at the titles' size when "-0.123  0  +0.123" fits under the tile, else
        // at the smallest size.
        let widest = text_width("-0.123 0 +0.123", layout.text_scale.max(1));
        let label_scale = if widest <= tile_w { layout.text_scale.max(1) } else { 1 };
        BarGeometry {
            thickness: layout.scale.clamp(6, 12),
            label_scale,
        }
    }

    fn height(&self) -> usize {
        2 + self.thickness + 2 + LINE_HEIGHT * self.label_scale
    }

    fn draw(&self, figure: &mut RgbImage, layout: &Layout, range: BarRange, left: usize, top: usize) {
        let tile_w = layout.image_shape[1] * layout.scale;
        let top = top + 2;
        for x in 0..tile_w {
            // The colour at the centre of this column of the bar, from the low end to the high.
            let t = ((x as f64 + 0.5) / tile_w as f64) as f32;
            let colour = match range {
                BarRange::Diverging(limit) => layout.colours.colour((2.0 * t - 1.0) * limit, limit),
                BarRange::Share => grey(t, 0.0, 1.0),
            };
            figure.fill_rect(left + x, top, 1, self.thickness, colour);
        }
        let (low, high) = match range {
            BarRange::Diverging(limit) if limit.is_finite() && limit > 0.0 => {
                (format!("-{}", short_number(limit)), format!("+{}", short_number(limit)))
            }
            BarRange::Diverging(_) => ("0".to_owned(), "0".to_owned()),
            BarRange::Share => ("0".to_owned(), "1".to_owned()),
        };
        let y = top + self.thickness + 2;
        let scale = self.label_scale;
        draw_text(figure, left, y, &low, scale, layout.text);
        let high_w = text_width(&high, scale);
        draw_text(
            figure,
            left + tile_w.saturating_sub(high_w),
            y,
            &high,
            scale,
            layout.text,
        );
        if matches!(range, BarRange::Diverging(_)) {
            let zero_w = text_width("0", scale);
            let zero_left = (tile_w.saturating_sub(zero_w)) / 2;
            // "0" in the middle when it touches neither end label.
            if zero_left > text_width(&low, scale) + scale && zero_left + zero_w + scale < tile_w - high_w {
                draw_text(figure, left + zero_left, y, "0", scale, layout.text);
            }
        }
    }
}

/// A bar label: up to three decimals for ordinary magnitudes, else two significant digits in
/// scientific notation (`1.2e-4`).
pub(crate) fn short_number(value: f32) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 {
        "0".to_owned()
    } else if (0.01..1000.0).contains(&magnitude) {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{value:.1e}")
    }
}

/// The legend's lines, each with the colour of the swatch before it: the positive and negative
/// meanings, word-wrapped to the figure's width (continuation lines have no swatch).
fn legend_lines(layout: &Layout, figure_w: usize) -> Vec<(Option<[u8; 3]>, String)> {
    let Some(legend) = &layout.legend else {
        return Vec::new();
    };
    if layout.text_scale == 0 {
        return Vec::new();
    }
    let char_w = ADVANCE * layout.text_scale;
    let swatch_w = GLYPH_HEIGHT * layout.text_scale + char_w;
    let max_chars = (figure_w.saturating_sub(2 * layout.gap + swatch_w) / char_w).max(8);
    let mut lines = Vec::new();
    for (colour, text) in [
        (layout.colours.positive, &legend.positive),
        (layout.colours.negative, &legend.negative),
    ] {
        let mut line = String::new();
        let mut swatch = Some(colour);
        for word in text.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > max_chars {
                lines.push((swatch.take(), std::mem::take(&mut line)));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push((swatch.take(), line));
    }
    lines
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
/// destination centre, titled `from`, `from -> to`, `to`, with the directional
/// [`Legend`] unless the layout has one.
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
            legend: Some(
                layout
                    .legend
                    .clone()
                    .unwrap_or_else(|| Legend::directional(&map.from.name, &map.to.name)),
            ),
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
            legend: Some(
                layout
                    .legend
                    .clone()
                    .unwrap_or_else(|| Legend::directional(&map.from, &map.to)),
            ),
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
            colour_bars: false,
            ..Layout::new([1, 2])
        };
        let panels = [
            Panel::heatmap("", array![1.0_f32, -1.0].view()),
            Panel::grey("", array![0.0_f32, 1.0].view()),
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
    fn small_images_are_upscaled_to_a_legible_size() {
        assert_eq!(Layout::new([8, 8]).scale, 14);
        assert_eq!(Layout::new([28, 28]).scale, 8);
        assert_eq!(Layout::new([14, 14]).scale, 8);
        assert_eq!(Layout::new([8, 12]).scale * 8, MIN_PANEL_SIDE);
    }

    #[test]
    fn titles_are_whole_and_widen_their_cell() {
        let layout = Layout {
            colour_bars: false,
            ..Layout::new([8, 8])
        };
        let title = "centre of T-shirt/top";
        let panels = [Panel::grey(title, ssne_tensor::ndarray::Array1::zeros(64).view())];
        let figure = grid(&panels, &layout).unwrap();
        assert_eq!(figure.width(), 2 * layout.gap + text_width(title, 2));
        // The tile is centred under the title.
        let tile_left = layout.gap + (text_width(title, 2) - 112) / 2;
        let top = layout.gap + LINE_HEIGHT * 2;
        assert_eq!(figure.pixel(tile_left, top), Some([0; 3]));
        assert_eq!(figure.pixel(tile_left - 1, top), Some([255; 3]));
    }

    #[test]
    fn heatmaps_get_a_colour_bar_with_their_range_and_figures_a_legend() {
        let layout = Layout::new([8, 8]).with_legend(Legend::class("7"));
        let values: Vec<f32> = (0..64).map(|i| (i as f32 - 31.5) / 1000.0).collect();
        let panels = [
            Panel::grey("input", ssne_tensor::ndarray::Array1::zeros(64).view()),
            Panel::heatmap("class 7", ssne_tensor::ndarray::ArrayView1::from(&values)),
        ];
        let figure = grid(&panels, &layout).unwrap();
        let (gap, tile) = (layout.gap, 112);
        let bar_top = gap + LINE_HEIGHT * 2 + tile + 2;
        let heat_left = gap + tile + gap;
        // The bar runs from the negative colour to the positive, white in the middle.
        let limit = 0.0315_f32;
        let at = |x: usize| {
            let t = ((x as f64 + 0.5) / tile as f64) as f32;
            Some(layout.colours.colour((2.0 * t - 1.0) * limit, limit))
        };
        assert_eq!(figure.pixel(heat_left, bar_top), at(0));
        assert_eq!(figure.pixel(heat_left + tile - 1, bar_top), at(tile - 1));
        assert_eq!(at(0), Some([35, 103, 173]), "nearly the negative end");
        let mid = figure.pixel(heat_left + tile / 2, bar_top).unwrap();
        assert!(mid.iter().all(|&c| c > 245), "{mid:?}");
        // No bar under the grey input.
        assert_eq!(figure.pixel(gap, bar_top), Some([255; 3]));
        // Its range is written under it: the limit is 0.0315, so "-0.032" starts at the left edge.
        let label_top = bar_top + 12 + 2;
        let dark = |x0: usize, x1: usize| {
            (x0..x1).any(|x| (label_top..label_top + 14).any(|y| figure.pixel(x, y) == Some([0; 3])))
        };
        assert!(dark(heat_left, heat_left + 12), "the low label");
        assert!(dark(heat_left + tile - 12, heat_left + tile), "the high label");
        assert_eq!(short_number(0.0315), "0.032");
        assert_eq!(short_number(-0.0001234), "-1.2e-4");
        assert_eq!(short_number(2.0), "2");
        // The legend under the grid: a red swatch, then (after the wrapped red line) a blue one.
        // Labels at the smallest size: "-0.123 0 +0.123" at the titles' size is wider than 112.
        let grid_bottom = label_top + LINE_HEIGHT;
        let first = |colour: [u8; 3]| (grid_bottom..figure.height()).find(|&y| figure.pixel(gap, y) == Some(colour));
        let (red, blue) = (first(layout.colours.positive), first(layout.colours.negative));
        assert!(red.is_some() && blue.is_some() && red < blue, "{red:?} {blue:?}");
        let lines = legend_lines(&layout, figure.width());
        let text: Vec<&str> = lines.iter().map(|(_, line)| line.as_str()).collect();
        assert_eq!(
            text.join(" "),
            "red: the pixel raises the score of class 7 blue: it lowers that score"
        );
        assert_eq!(
            figure.height(),
            grid_bottom + layout.gap + lines.len() * LINE_HEIGHT * 2
        );
    }

    #[test]
    fn long_legends_wrap_to_the_figure() {
        let layout = Layout::new([8, 8]).with_legend(Legend::directional("T-shirt/top", "Ankle boot"));
        let lines = legend_lines(&layout, 3 * 118 + 6);
        assert!(lines.len() > 2, "{lines:?}");
        let width = |line: &str| 6 + 7 * 2 + 12 + text_width(line, 2);
        assert!(lines.iter().all(|(_, line)| width(line) <= 3 * 118 + 6), "{lines:?}");
        assert_eq!(lines.iter().filter(|(swatch, _)| swatch.is_some()).count(), 2);
    }

    #[test]
    fn shared_limits_compare_across_panels() {
        let layout = Layout {
            scale: 1,
            gap: 0,
            text_scale: 0,
            limits: ColourLimits::Shared,
            colour_bars: false,
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
