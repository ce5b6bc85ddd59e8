//! Drawing figures with plotters into memory (a PNG is encoded from the pixel buffer and then
//! written atomically): the scatter plot of a map, coloured by label, with a legend and the
//! cluster centres marked.

use anyhow::{Context as _, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use ssne_data::ndarray::ArrayView2;
use ssne_model::clusters::ClusterCentre;

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
const FONT: &str = "sans-serif";
const LEGEND_WIDTH: u32 = 210;
const HEADER_HEIGHT: u32 = 70;

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
    anyhow!("drawing the figure: {err} (text needs a TrueType font such as Debian's fonts-dejavu-core)")
}

impl Scatter<'_> {
    /// Renders the figure as PNG bytes of `width x height` pixels.
    pub(crate) fn render_png(&self, width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
        let mut rgb = vec![255_u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
            root.fill(&WHITE).map_err(draw_error)?;
            let (header, body) = root.split_vertically(HEADER_HEIGHT);
            let (chart_area, legend_area) = body.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
            self.draw_header(&header)?;
            self.draw_chart(&chart_area)?;
            self.draw_legend(&legend_area)?;
            root.present().map_err(draw_error)?;
        }
        encode_png(&rgb, width, height)
    }

    fn draw_header(&self, area: &DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()> {
        let (w, _) = area.dim_in_pixel();
        let centre = Pos::new(HPos::Center, VPos::Top);
        let title = (FONT, 30).into_font().style(FontStyle::Bold).color(&BLACK).pos(centre);
        area.draw_text(&self.title, &title, (w as i32 / 2, 10))
            .map_err(draw_error)?;
        let subtitle = (FONT, 18).into_font().color(&RGBColor(70, 70, 70)).pos(centre);
        area.draw_text(&self.subtitle, &subtitle, (w as i32 / 2, 46))
            .map_err(draw_error)?;
        Ok(())
    }

    fn draw_chart(&self, area: &DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()> {
        let (x_range, y_range) = self.bounds();
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(x_range, y_range)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(247, 247, 247))
            .bold_line_style(RGBColor(220, 220, 220))
            .x_desc("map x")
            .y_desc("map y")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
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
            let style = (FONT, if text.len() > 2 { 12 } else { 18 })
                .into_font()
                .style(FontStyle::Bold)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series([Text::new(text, at, style)]).map_err(draw_error)?;
        }
        Ok(())
    }

    fn draw_legend(&self, area: &DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()> {
        if self.centres.is_empty() {
            return Ok(());
        }
        let heading = (FONT, 16).into_font().style(FontStyle::Bold).color(&BLACK);
        area.draw_text("class (training points)", &heading, (12, 20))
            .map_err(draw_error)?;
        let row_height = 30;
        let entry = (FONT, 17)
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
            let note = (FONT, 15).into_font().color(&RGBColor(70, 70, 70));
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

/// Encodes an RGB buffer as PNG in memory.
pub(crate) fn encode_png(rgb: &[u8], width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("encoding the PNG")?;
    writer.write_image_data(rgb).context("encoding the PNG")?;
    writer.finish().context("encoding the PNG")?;
    Ok(bytes)
}
