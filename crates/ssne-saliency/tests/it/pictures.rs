//! Pictures: PNG files decoded back, pixel by pixel.

use std::io::Cursor;

use ssne_saliency::picture::{Diverging, Layout, RgbImage, directional_figure, heatmap};
use ssne_saliency::{Gradient, Groups, directional};
use ssne_tensor::ndarray::Array1;

use crate::common::{N_TRAIN, mnist, tiny};

/// Decodes a PNG into (width, height, RGB bytes).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn rgb_at(bytes: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
    let at = ((y * width + x) * 3) as usize;
    [bytes[at], bytes[at + 1], bytes[at + 2]]
}

#[test]
fn heatmap_png_has_white_zero_and_symmetric_end_colours() {
    // 2 x 3 map: zero, max, -max, a half, an asymmetric small negative, zero.
    let map = Array1::from(vec![0.0_f32, 4.0, -4.0, 2.0, -1.0, 0.0]);
    let colours = Diverging::default();
    let scale = 5;
    let image = heatmap(map.view(), [2, 3], scale, None, &colours).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heatmap.png");
    image.write_png(&path).unwrap();
    let (width, height, pixels) = decode(&std::fs::read(&path).unwrap());
    assert_eq!((width, height), (15, 10));
    assert_eq!(pixels, image.as_raw());
    let at = |value_idx: u32, dx: u32, dy: u32| {
        rgb_at(
            &pixels,
            width,
            (value_idx % 3) * scale as u32 + dx,
            (value_idx / 3) * scale as u32 + dy,
        )
    };
    for (dx, dy) in [(0, 0), (4, 4), (2, 3)] {
        // Nearest-neighbour blocks: every pixel of a block has the value's colour.
        assert_eq!(at(0, dx, dy), [255, 255, 255], "zero is white");
        assert_eq!(at(1, dx, dy), colours.positive, "the maximum is the positive end");
        assert_eq!(
            at(2, dx, dy),
            colours.negative,
            "the limits are symmetric: -max is the negative end"
        );
        assert_eq!(at(3, dx, dy), colours.colour(2.0, 4.0));
    }
    // The limit is max |value| = 4, so -1 is a quarter of the way to blue.
    assert_eq!(at(4, 0, 0), [200, 217, 234]);
}

#[test]
fn directional_figure_shows_both_centres_and_the_map() {
    let data = mnist(N_TRAIN);
    let groups = Groups::from_labels(data.labels.as_deref().unwrap());
    let dmap = directional(tiny(), data.features.view(), &groups, "3", "8", &Gradient).unwrap();
    let layout = Layout {
        scale: 4,
        gap: 2,
        text_scale: 1,
        ..Layout::new([28, 28])
    };
    let figure = directional_figure(&dmap, &layout).unwrap();
    assert_eq!(figure.width(), 2 + 3 * (28 * 4 + 2));
    let (width, height, pixels) = decode(&figure.to_png().unwrap());
    assert_eq!((width as usize, height as usize), (figure.width(), figure.height()));
    // Every figure pixel of the map tile is white, blue-ish or red-ish on the
    // white-to-end segments; the end colour appears exactly where |map| is largest.
    let title_h = 10;
    let tile_left = 2 + 28 * 4 + 2;
    let limit = dmap.map.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
    let (argmax, _) = dmap.map.iter().enumerate().fold(
        (0, 0.0_f32),
        |(i, m), (j, v)| if v.abs() > m { (j, v.abs()) } else { (i, m) },
    );
    let (row, col) = ((argmax / 28) as u32, (argmax % 28) as u32);
    let colour = rgb_at(
        &pixels,
        width,
        tile_left as u32 + col * 4 + 1,
        (2 + title_h) as u32 + row * 4 + 1,
    );
    let expected = Layout::new([28, 28]).colours.colour(dmap.map[argmax], limit);
    assert_eq!(colour, expected);
    assert!(colour == Diverging::default().positive || colour == Diverging::default().negative);
}

#[test]
fn pictures_are_exact_for_any_image_shape() {
    let image = RgbImage::new(3, 2, [1, 2, 3]).unwrap();
    let (w, h, pixels) = decode(&image.to_png().unwrap());
    assert_eq!((w, h), (3, 2));
    assert_eq!(pixels, [1, 2, 3].repeat(6));
    let net = ssne_model::Network::init(
        ssne_model::NetworkSpec::paper(12, 3),
        &mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0),
    )
    .unwrap();
    let jac = ssne_saliency::jacobian(&net, Array1::from_elem(12, 0.5).view()).unwrap();
    let wide = heatmap(jac.row(0), [3, 4], 2, None, &Diverging::default()).unwrap();
    assert_eq!((wide.width(), wide.height()), (8, 6));
}
