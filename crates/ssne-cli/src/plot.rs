//! Drawing figures with plotters into memory: the scatter plot of a map, coloured by label, with a
//! legend and the cluster centres marked. plotters draws into an `ssne_saliency` [`RgbImage`],
//! whose encoder (the project's one) turns it into PNG bytes; callers write those atomically.
//!
//! Text is drawn in `ssne-saliency`'s 5×7 bitmap font through [`BitmapText`], not by plotters:
//! plotters' own text needs its `ttf` feature, which links the system's fontconfig and freetype,
//! and then a fresh clone does not build on a machine without them.

use anyhow::{Context as _, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use ssne_data::ndarray::ArrayView2;
use ssne_model::clusters::ClusterCentre;
use ssne_saliency::picture::RgbImage;
use ssne_saliency::picture::font::{ADVANCE, GLYPH_HEIGHT, LINE_HEIGHT, text_pixels};

/// Ten colours that stay apart for ten classes (matplotlib's "tab10").
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// Ten lighter companions for classes 10 to 19 (matplotlib's "tab20" odd entries).
const PALETTE_LIGHT: [RGBColor; 10] = [
    RGBColor(174, 199, 232),
    RGBColor(255, 187, 120),
    RGBColor(152, 223, 138),
    RGBColor(255, 152, 150),
    RGBColor(197, 176, 213),
    RGBColor(196, 156, 148),
    RGBColor(247, 182, 210),
    RGBColor(199, 199, 199),
    RGBColor(219, 219, 141),
    RGBColor(158, 218, 229),
];
/// Points without a label.
const UNLABELLED: RGBColor = RGBColor(90, 90, 90);
/// plotters wants a font family; [`BitmapText`] draws every family with the one bitmap font.
const FONT: &str = "sans-serif";
/// Text sizes in pixels of line height. The bitmap font has a 10-pixel line at scale 1, so these
/// draw at scales 3, 2 and 1 (see [`font_scale`]): integer scales keep its strokes even.
const TITLE_SIZE: u32 = 30;
/// Subtitle, tick labels, axis names, legend, one- and two-character centre labels.
const TEXT_SIZE: u32 = 20;
/// Longer centre labels, which must fit in their circle.
const SMALL_SIZE: u32 = 10;
/// Wide enough for "class (training points)" and "T-shirt/top (6000)" at scale 2.
const LEGEND_WIDTH: u32 = 300;
/// Where the title starts, and the gap below the last header line.
const HEADER_TOP: u32 = 10;
const HEADER_BOTTOM: u32 = 8;
/// The largest scale the font is drawn at: beyond any text size this module asks for, and small
/// enough that no text position overflows.
const MAX_FONT_SCALE: i32 = 64;

/// The colour of a class.
pub(crate) fn class_colour(label: u32) -> RGBColor {
    let index = label as usize;
    if index < 10 {
        PALETTE[index]
    } else {
        PALETTE_LIGHT[index % 10]
    }
}

/// One set of points of a scatter plot.
pub(crate) struct PointSet<'a> {
    pub(crate) points: ArrayView2<'a, f32>,
    pub(crate) labels: Option<&'a [u32]>,
}

/// A map to draw: the reference points, optionally other points over them, and the cluster centres.
pub(crate) struct Scatter<'a> {
    pub(crate) title: String,
    pub(crate) subtitle: String,
    pub(crate) reference: PointSet<'a>,
    pub(crate) overlay: Option<PointSet<'a>>,
    pub(crate) centres: Vec<ClusterCentre>,
    /// Name of each label, index = label.
    pub(crate) label_names: Vec<String>,
}

/// The drawing error as text: plotters' errors borrow the backend's error type.
fn draw_error<E: std::fmt::Display>(err: E) -> anyhow::Error {
    anyhow!("drawing the figure: {err}")
}

/// The drawing area of a figure.
type Area<'a> = DrawingArea<BitmapText<'a>, Shift>;

impl Scatter<'_> {
    /// Renders the figure as PNG bytes of `width x height` pixels (the same figure gives the same
    /// bytes).
    pub(crate) fn render_png(&self, width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
        self.render(width, height)?.to_png().context("encoding the plot as PNG")
    }

    /// Renders the figure as pixels.
    fn render(&self, width: u32, height: u32) -> anyhow::Result<RgbImage> {
        let mut image = RgbImage::new(width as usize, height as usize, [255; 3]).context("the size of the plot")?;
        {
            let backend = BitmapText {
                inner: BitMapBackend::with_buffer(image.as_raw_mut(), (width, height)),
            };
            let root = backend.into_drawing_area();
            let title = wrap(&self.title, TITLE_SIZE, header_text_width(width));
            let subtitle = wrap(&self.subtitle, TEXT_SIZE, header_text_width(width));
            let (header, body) = root.split_vertically(header_height(title.len(), subtitle.len(), height));
            let legend_width = LEGEND_WIDTH.min(width / 2);
            let (chart_area, legend_area) = body.split_horizontally(width.saturating_sub(legend_width));
            draw_header(&header, &title, &subtitle)?;
            self.draw_chart(&chart_area)?;
            self.draw_legend(&legend_area)?;
            root.present().map_err(draw_error)?;
        }
        Ok(image)
    }

    fn draw_chart(&self, area: &Area<'_>) -> anyhow::Result<()> {
        let (x_range, y_range) = self.bounds();
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            // Room for a line of tick labels and the axis name below; for "-15.0" and the
            // turned axis name on the left.
            .x_label_area_size(46)
            .y_label_area_size(88)
            .build_cartesian_2d(x_range, y_range)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(247, 247, 247))
            .bold_line_style(RGBColor(220, 220, 220))
            .x_desc("map x")
            .y_desc("map y")
            .label_style((FONT, TEXT_SIZE))
            .axis_desc_style((FONT, TEXT_SIZE))
            .draw()
            .map_err(draw_error)?;

        // With points drawn over them, the reference points step back.
        let (reference_alpha, reference_radius) = if self.overlay.is_some() { (0.18, 2) } else { (0.55, 2) };
        chart
            .draw_series(dots(&self.reference, reference_alpha, reference_radius))
            .map_err(draw_error)?;
        if let Some(overlay) = &self.overlay {
            chart.draw_series(dots(overlay, 0.85, 3)).map_err(draw_error)?;
        }
        for centre in &self.centres {
            let at = (f64::from(centre.centre[0]), f64::from(centre.centre[1]));
            let colour = class_colour(centre.label);
            chart
                .draw_series([
                    Circle::new(at, 15, WHITE.mix(0.9).filled()),
                    Circle::new(
                        at,
                        15,
                        ShapeStyle {
                            color: colour.to_rgba(),
                            filled: false,
                            stroke_width: 3,
                        },
                    ),
                ])
                .map_err(draw_error)?;
            let text = self.short_name(centre.label);
            // Names longer than two characters fit the circle only at the smallest scale.
            let style = (
                FONT,
                if text.chars().count() > 2 {
                    SMALL_SIZE
                } else {
                    TEXT_SIZE
                },
            )
                .into_font()
                .style(FontStyle::Bold)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series([Text::new(text, at, style)]).map_err(draw_error)?;
        }
        Ok(())
    }

    fn draw_legend(&self, area: &Area<'_>) -> anyhow::Result<()> {
        if self.centres.is_empty() {
            return Ok(());
        }
        let heading = (FONT, TEXT_SIZE).into_font().style(FontStyle::Bold).color(&BLACK);
        area.draw_text("class (training points)", &heading, (12, 20))
            .map_err(draw_error)?;
        let row_height = 30;
        let entry = (FONT, TEXT_SIZE)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (row, centre) in self.centres.iter().enumerate() {
            let y = 60 + row as i32 * row_height;
            area.draw(&Circle::new((26, y), 8, class_colour(centre.label).filled()))
                .map_err(draw_error)?;
            let name = self
                .label_names
                .get(centre.label as usize)
                .cloned()
                .unwrap_or_else(|| centre.label.to_string());
            area.draw_text(&format!("{name} ({})", centre.size), &entry, (44, y))
                .map_err(draw_error)?;
        }
        if self.overlay.is_some() {
            let y = 60 + self.centres.len() as i32 * row_height + 20;
            let note = (FONT, TEXT_SIZE).into_font().color(&RGBColor(70, 70, 70));
            area.draw(&Circle::new((22, y), 2, BLACK.mix(0.3).filled()))
                .map_err(draw_error)?;
            area.draw_text("training map", &note, (44, y - 8)).map_err(draw_error)?;
            area.draw(&Circle::new((22, y + 24), 4, BLACK.mix(0.85).filled()))
                .map_err(draw_error)?;
            area.draw_text("embedded points", &note, (44, y + 16))
                .map_err(draw_error)?;
            area.draw(&Circle::new(
                (22, y + 50),
                8,
                ShapeStyle {
                    color: BLACK.to_rgba(),
                    filled: false,
                    stroke_width: 2,
                },
            ))
            .map_err(draw_error)?;
            area.draw_text("cluster centre", &note, (44, y + 42))
                .map_err(draw_error)?;
        }
        Ok(())
    }

    /// The label's name for the centre marker: the digit itself, or the start of a class name.
    fn short_name(&self, label: u32) -> String {
        match self.label_names.get(label as usize) {
            Some(name) if name.chars().count() <= 3 => name.clone(),
            Some(name) => name.chars().take(3).collect(),
            None => label.to_string(),
        }
    }

    /// The axis ranges: every point with a margin, and square so the map is not distorted.
    fn bounds(&self) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        let sets = std::iter::once(&self.reference).chain(self.overlay.as_ref());
        for set in sets {
            for row in set.points.rows() {
                for axis in 0..2 {
                    let v = f64::from(row[axis]);
                    if v.is_finite() {
                        lo[axis] = lo[axis].min(v);
                        hi[axis] = hi[axis].max(v);
                    }
                }
            }
        }
        if !(lo[0].is_finite() && lo[1].is_finite()) {
            return (-1.0..1.0, -1.0..1.0);
        }
        let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) * 0.53).max(1e-6);
        let mid = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
        (mid[0] - half..mid[0] + half, mid[1] - half..mid[1] + half)
    }
}

/// The points of a set as filled dots coloured by label.
fn dots<'a>(set: &'a PointSet<'_>, alpha: f64, radius: i32) -> impl Iterator<Item = Circle<(f64, f64), i32>> + 'a {
    set.points.rows().into_iter().enumerate().map(move |(i, row)| {
        let colour = set
            .labels
            .and_then(|labels| labels.get(i))
            .map_or(UNLABELLED, |&label| class_colour(label));
        Circle::new(
            (f64::from(row[0]), f64::from(row[1])),
            radius,
            colour.mix(alpha).filled(),
        )
    })
}

/// The widest a header line may be in a figure `width` pixels wide.
fn header_text_width(width: u32) -> u32 {
    width.saturating_sub(20)
}

/// The height of the header for its title and subtitle lines; at most half the figure, so a very
/// long title is cut off rather than leaving no room for the map.
fn header_height(title_lines: usize, subtitle_lines: usize, height: u32) -> u32 {
    let lines = |n: usize, size: u32| u32::try_from(n).unwrap_or(u32::MAX).saturating_mul(size);
    HEADER_TOP
        .saturating_add(lines(title_lines, TITLE_SIZE))
        .saturating_add(lines(subtitle_lines, TEXT_SIZE))
        .saturating_add(HEADER_BOTTOM)
        .min(height / 2)
}

/// The title and subtitle, centred, one line under the other; lines that do not fit the header
/// are left out rather than drawn over the map.
fn draw_header(area: &Area<'_>, title: &[String], subtitle: &[String]) -> anyhow::Result<()> {
    let (w, h) = area.dim_in_pixel();
    let bottom = i32::try_from(h).unwrap_or(i32::MAX);
    let centre = Pos::new(HPos::Center, VPos::Top);
    let title_style = (FONT, TITLE_SIZE)
        .into_font()
        .style(FontStyle::Bold)
        .color(&BLACK)
        .pos(centre);
    let subtitle_style = (FONT, TEXT_SIZE).into_font().color(&RGBColor(70, 70, 70)).pos(centre);
    let lines = title
        .iter()
        .map(|line| (line, &title_style, TITLE_SIZE))
        .chain(subtitle.iter().map(|line| (line, &subtitle_style, TEXT_SIZE)));
    let mut y = i32::try_from(HEADER_TOP).unwrap_or(0);
    for (line, style, size) in lines {
        let size = i32::try_from(size).unwrap_or(0);
        if y.saturating_add(size) > bottom {
            break;
        }
        area.draw_text(line, style, (i32::try_from(w / 2).unwrap_or(0), y))
            .map_err(draw_error)?;
        y = y.saturating_add(size);
    }
    Ok(())
}

/// `text` broken at spaces into lines no wider than `max_width` pixels at `size` (a word longer
/// than a line is broken where it must be); the plot has room for several header lines, but text
/// beyond the figure's edge would be lost.
fn wrap(text: &str, size: u32, max_width: u32) -> Vec<String> {
    let scale = font_scale(f64::from(size)).unsigned_abs() as usize;
    // Ink of n characters: n advances less the space after the last one.
    let max_chars = ((max_width as usize + scale) / (ADVANCE * scale)).max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        let line_len = line.chars().count();
        if line_len > 0 && line_len + 1 + word.len() <= max_chars {
            line.push(' ');
            line.extend(&word);
            continue;
        }
        if line_len > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > max_chars {
            lines.push(word.drain(..max_chars).collect());
        }
        line.extend(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// plotters' in-memory bitmap backend, with text in `ssne-saliency`'s bitmap font.
///
/// Built without its `ttf` feature, plotters has no font of its own (its text drawing panics), so
/// every text it draws (the titles, tick labels, axis names, legend and centre labels) comes to
/// [`BitmapText::draw_text`] and is measured by [`BitmapText::estimate_text_size`] here, which is
/// how plotters lays the labels out. Everything else goes to the bitmap backend unchanged.
struct BitmapText<'a> {
    inner: BitMapBackend<'a>,
}

/// How the bitmap font draws a text style: `scale × scale` pixels per font pixel, and `bold`
/// extra pixel columns after each horizontal run of ink (fewer than `scale`, so runs never
/// overlap, which matters when the colour is translucent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    scale: i32,
    bold: i32,
}

impl Look {
    fn of<S: BackendTextStyle>(style: &S) -> Look {
        let scale = font_scale(style.size());
        let bold = if matches!(style.style(), FontStyle::Bold) {
            (scale + 1) / 2
        } else {
            0
        };
        Look { scale, bold }
    }

    /// Width and height of the ink of `text`, in pixels: no space after the last glyph, so
    /// right-aligned and centred text sits where it is put.
    fn ink_size(self, text: &str) -> (i32, i32) {
        let chars = i32::try_from(text.chars().count()).unwrap_or(i32::MAX);
        if chars == 0 {
            return (0, 0);
        }
        let width = chars
            .saturating_mul(ADVANCE as i32)
            .saturating_mul(self.scale)
            .saturating_sub(self.scale)
            .saturating_add(self.bold);
        (width, GLYPH_HEIGHT as i32 * self.scale)
    }

    /// The ink of `text` as half-open pixel rectangles `[x0, x1) × [y0, y1)` from the text's
    /// top-left corner: one per horizontal run of font pixels, so none overlaps another.
    fn ink(self, text: &str) -> Vec<[i32; 4]> {
        let mut runs: Vec<(usize, usize, usize)> = Vec::new(); // (row, first column, end column)
        for (x, y) in text_pixels(text) {
            match runs.last_mut() {
                Some((row, _, end)) if *row == y && *end == x => *end = x + 1,
                _ => runs.push((y, x, x + 1)),
            }
        }
        let px = |font_pixels: usize| {
            i32::try_from(font_pixels)
                .unwrap_or(i32::MAX)
                .saturating_mul(self.scale)
        };
        runs.into_iter()
            .map(|(row, first, end)| [px(first), px(end).saturating_add(self.bold), px(row), px(row + 1)])
            .collect()
    }
}

/// The bitmap font's scale for a text `size` in pixels of line height: the nearest whole number
/// of [`LINE_HEIGHT`]s, from 1 to [`MAX_FONT_SCALE`].
fn font_scale(size: f64) -> i32 {
    // f64::clamp keeps NaN, and NaN as i32 is 0: an absurd size draws at scale 1.
    let scale = (size / LINE_HEIGHT as f64)
        .round()
        .clamp(1.0, f64::from(MAX_FONT_SCALE));
    (scale as i32).max(1)
}

impl<'a> DrawingBackend for BitmapText<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// Draws `text` anchored at `pos` as plotters' own text drawing would (the anchor picks the
    /// corner or middle of the ink; the transform turns it about `pos`), pixel by pixel.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        let look = Look::of(style);
        let (width, height) = look.ink_size(text);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Center => -width / 2,
            HPos::Right => -width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        for [x0, x1, y0, y1] in look.ink(text) {
            for y in y0..y1 {
                for x in x0..x1 {
                    let (tx, ty) = transform.transform(x.saturating_add(dx), y.saturating_add(dy));
                    // The inner backend skips pixels outside the image.
                    self.inner
                        .draw_pixel((pos.0.saturating_add(tx), pos.1.saturating_add(ty)), colour)?;
                }
            }
        }
        Ok(())
    }

    /// The size of the ink of `text`, unturned (as plotters expects).
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (width, height) = Look::of(style).ink_size(text);
        Ok((width.unsigned_abs(), height.unsigned_abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssne_data::ndarray::array;

    #[test]
    fn text_sizes_map_to_whole_scales() {
        assert_eq!(font_scale(f64::from(TITLE_SIZE)), 3);
        assert_eq!(font_scale(f64::from(TEXT_SIZE)), 2);
        assert_eq!(font_scale(f64::from(SMALL_SIZE)), 1);
        assert_eq!(font_scale(0.0), 1);
        assert_eq!(font_scale(f64::NAN), 1);
        assert_eq!(font_scale(1e12), MAX_FONT_SCALE);
    }

    #[test]
    fn ink_is_measured_without_the_trailing_space_and_bold_adds_columns() {
        let plain = Look { scale: 2, bold: 0 };
        assert_eq!(plain.ink_size("ab"), ((2 * 6 - 1) * 2, 14));
        assert_eq!(plain.ink_size(""), (0, 0));
        let bold = Look { scale: 2, bold: 1 };
        assert_eq!(bold.ink_size("ab"), ((2 * 6 - 1) * 2 + 1, 14));
        // '-' is one run of five font pixels on row 3; bold widens it by one pixel.
        assert_eq!(plain.ink("-"), [[0, 10, 6, 8]]);
        assert_eq!(bold.ink("-"), [[0, 11, 6, 8]]);
        // Runs do not cross the space between characters, and bold never makes them overlap.
        let runs = bold.ink("--");
        assert_eq!(runs, [[0, 11, 6, 8], [12, 23, 6, 8]]);
    }

    #[test]
    fn long_lines_wrap_at_spaces() {
        // 20 pixels of line height is scale 2: 12 pixels per character, 5 characters in 58.
        assert_eq!(wrap("ab cd efghijkl", TEXT_SIZE, 58), ["ab cd", "efghi", "jkl"]);
        assert_eq!(wrap("short", TEXT_SIZE, 1000), ["short"]);
        assert_eq!(wrap("", TEXT_SIZE, 1000), [""]);
        assert_eq!(wrap("x", TEXT_SIZE, 0), ["x"]);
        assert_eq!(header_height(1, 1, 1000), 10 + 30 + 20 + 8);
        assert_eq!(header_height(500, 1, 1000), 500);
    }

    fn scatter<'a>(points: &'a ssne_data::ndarray::Array2<f32>, labels: &'a [u32]) -> Scatter<'a> {
        Scatter {
            title: "a title".into(),
            subtitle: "a subtitle".into(),
            reference: PointSet {
                points: points.view(),
                labels: Some(labels),
            },
            overlay: None,
            centres: vec![
                ClusterCentre {
                    label: 0,
                    centre: [0.0, 0.0],
                    size: 2,
                },
                ClusterCentre {
                    label: 1,
                    centre: [1.0, 1.0],
                    size: 1,
                },
            ],
            label_names: vec!["zero".into(), "1".into()],
        }
    }

    #[test]
    fn plots_have_text_and_the_same_plot_gives_the_same_bytes() {
        let points = array![[0.0_f32, 0.0], [0.1, -0.1], [1.0, 1.0]];
        let labels = [0, 0, 1];
        let figure = scatter(&points, &labels);
        let image = figure.render(600, 400).unwrap();
        // The title is black ink in the header, centred: some pixel of its middle row is black.
        let title_row = HEADER_TOP as usize + 10;
        assert!((0..600).any(|x| image.pixel(x, title_row) == Some([0; 3])));
        assert!(
            (0..600).all(|x| image.pixel(x, 2) == Some([255; 3])),
            "nothing above the title"
        );
        // The legend (right of the chart) has black text.
        let legend = (600 - LEGEND_WIDTH as usize)..600;
        assert!(
            legend
                .clone()
                .any(|x| (80..200).any(|y| image.pixel(x, y) == Some([0; 3])))
        );
        let bytes = figure.render_png(600, 400).unwrap();
        assert_eq!(bytes, image.to_png().unwrap());
        assert_eq!(bytes, scatter(&points, &labels).render_png(600, 400).unwrap());
        assert!(figure.render_png(0, 400).is_err());
    }
}
