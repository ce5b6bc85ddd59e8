//! An RGB pixel buffer that can be drawn into and written as PNG: the
//! project's one PNG encoder, so every picture it writes (saliency figures and
//! the command line's plots) is encoded the same way.

use std::path::Path;

use crate::{Result, SaliencyError};

/// The largest side of a picture, in pixels: far beyond any figure this crate
/// draws, and small enough that a picture's size cannot overflow.
pub const MAX_SIDE: usize = 1 << 15;

/// An 8-bit RGB image, row-major, three bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl RgbImage {
    /// A `width × height` image filled with `colour`.
    ///
    /// # Errors
    /// [`SaliencyError::PictureSize`] when a side is 0 or above [`MAX_SIDE`].
    pub fn new(width: usize, height: usize, colour: [u8; 3]) -> Result<Self> {
        if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
            return Err(SaliencyError::PictureSize {
                width,
                height,
                max: MAX_SIDE,
            });
        }
        let pixels = colour.iter().copied().cycle().take(width * height * 3).collect();
        Ok(RgbImage { width, height, pixels })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The colour at column `x`, row `y`; `None` outside the image.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        (x < self.width && y < self.height).then(|| {
            let at = (y * self.width + x) * 3;
            [self.pixels[at], self.pixels[at + 1], self.pixels[at + 2]]
        })
    }

    /// The raw bytes, row-major RGB.
    pub fn as_raw(&self) -> &[u8] {
        &self.pixels
    }

    /// The raw bytes, row-major RGB, to draw into with another renderer (the
    /// command line's plots are drawn by plotters straight into this buffer,
    /// then encoded by [`RgbImage::to_png`]). A slice cannot change length, so
    /// the image keeps its size.
    pub fn as_raw_mut(&mut self) -> &mut [u8] {
        &mut self.pixels
    }

    /// Paints the rectangle at `(x, y)` of size `width × height`, clipped to the image.
    pub fn fill_rect(&mut self, x: usize, y: usize, width: usize, height: usize, colour: [u8; 3]) {
        let x_end = x.saturating_add(width).min(self.width);
        let y_end = y.saturating_add(height).min(self.height);
        for row in y.min(y_end)..y_end {
            for col in x.min(x_end)..x_end {
                let at = (row * self.width + col) * 3;
                self.pixels[at..at + 3].copy_from_slice(&colour);
            }
        }
    }

    /// Copies `other` with its top-left corner at `(x, y)`, clipped to the image.
    pub fn blit(&mut self, other: &RgbImage, x: usize, y: usize) {
        let width = other.width.min(self.width.saturating_sub(x));
        for row in 0..other.height.min(self.height.saturating_sub(y)) {
            let src = row * other.width * 3;
            let dst = ((y + row) * self.width + x) * 3;
            self.pixels[dst..dst + width * 3].copy_from_slice(&other.pixels[src..src + width * 3]);
        }
    }

    /// The image encoded as an 8-bit RGB PNG.
    ///
    /// Same image, same bytes: the file holds only the header, the pixels and
    /// the end marker (no time stamp, no text chunk), with the compression
    /// and filtering fixed here, so drawing the same picture writes the same file.
    ///
    /// # Errors
    /// [`SaliencyError::Png`] if the encoder fails.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        // Sides are at most MAX_SIDE (checked in `new`), so they fit in u32.
        let mut encoder = png::Encoder::new(&mut bytes, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // The encoder's defaults, spelled out so the bytes do not move if a png release changes them.
        encoder.set_compression(png::Compression::Balanced);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.pixels)?;
        writer.finish()?;
        Ok(bytes)
    }

    /// Writes the image as a PNG file, atomically (a failure leaves no partial file).
    ///
    /// # Errors
    /// [`SaliencyError::Png`] if encoding fails, [`SaliencyError::Data`] (naming
    /// the path) if the file cannot be written.
    pub fn write_png(&self, path: &Path) -> Result<()> {
        let bytes = self.to_png()?;
        ssne_data::write_atomic(path, |out| out.write_all(&bytes))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked() {
        assert!(matches!(
            RgbImage::new(0, 3, [0; 3]),
            Err(SaliencyError::PictureSize {
                width: 0,
                height: 3,
                ..
            })
        ));
        assert!(matches!(
            RgbImage::new(3, MAX_SIDE + 1, [0; 3]),
            Err(SaliencyError::PictureSize { .. })
        ));
    }

    #[test]
    fn png_bytes_are_reproducible_and_hold_no_metadata() {
        let mut img = RgbImage::new(7, 5, [255; 3]).unwrap();
        img.fill_rect(1, 1, 3, 2, [200, 10, 30]);
        img.as_raw_mut()[0] = 17;
        assert_eq!(img.pixel(0, 0), Some([17, 255, 255]));
        let bytes = img.to_png().unwrap();
        assert_eq!(bytes, img.clone().to_png().unwrap(), "same image, same bytes");
        // The chunk types in order: nothing but header, pixels and end marker.
        let mut chunks = Vec::new();
        let mut at = 8;
        while at + 8 <= bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            chunks.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
            at += 12 + len;
        }
        assert_eq!(chunks.first().map(String::as_str), Some("IHDR"));
        assert_eq!(chunks.last().map(String::as_str), Some("IEND"));
        assert!(chunks[1..chunks.len() - 1].iter().all(|c| c == "IDAT"), "{chunks:?}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        img.write_png(&path).unwrap();
        img.write_png(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        // Written atomically: no temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn drawing_is_clipped() {
        let mut img = RgbImage::new(3, 2, [0; 3]).unwrap();
        img.fill_rect(2, 1, 10, 10, [9, 8, 7]);
        assert_eq!(img.pixel(2, 1), Some([9, 8, 7]));
        assert_eq!(img.pixel(1, 1), Some([0, 0, 0]));
        assert_eq!(img.pixel(3, 0), None);
        let patch = RgbImage::new(2, 2, [1, 2, 3]).unwrap();
        img.blit(&patch, 2, 0);
        assert_eq!(img.pixel(2, 0), Some([1, 2, 3]));
        assert_eq!(img.pixel(1, 0), Some([0, 0, 0]));
    }
}
