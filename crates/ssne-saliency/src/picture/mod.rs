//! Pictures of maps: diverging heatmaps, greyscale inputs and titled grids,
//! as RGB buffers and PNG files.
//!
//! Every data pixel becomes a `scale × scale` block (integer nearest-neighbour
//! upscaling), so the pictures show the maps exactly, without interpolation.
//!
//! [`RgbImage::to_png`] is the project's one PNG encoder (the command line
//! encodes its plots with it too), and [`font`] its one font.

mod canvas;
mod colour;
mod figure;
pub mod font;

pub use canvas::{MAX_SIDE, RgbImage};
pub use colour::{Diverging, symmetric_limit};
pub use figure::{
    ColourLimits, Layout, Legend, MIN_PANEL_SIDE, Panel, PanelKind, directional_figure, ensemble_directional_figure,
    greyscale, grid, heatmap, saliency_figure,
};
