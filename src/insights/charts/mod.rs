//! PNG charts of a window's buckets: the tone of the messages over time and the questions
//! asked, answered and how fast a person replied.
//!
//! plotters draws into an RGB buffer (`BitMapBackend::with_buffer_and_format`); the `png` crate
//! encodes it (8-bit RGB). Every text is drawn with the font embedded in the binary
//! (`src/insights/font/`, WenQuanYi Micro Hei subset, Apache-2.0), registered once with
//! plotters' `ab_glyph` font table: no system font is looked up, so Chinese labels render on a
//! server without any font installed. An empty series gives a chart that says so, never a
//! panic (plotters panics on empty ranges; they are guarded here).
//!
//! - `axis`: time and count labels, value ranges.
//! - `sentiment`, `questions`: the two charts' bodies.

mod axis;
mod questions;
mod sentiment;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use plotters::backend::{BitMapBackend, DrawingBackend, RGBPixel};
use plotters::chart::ChartContext;
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingAreaErrorKind, IntoDrawingArea, WHITE};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, RGBColor, TextStyle};

use super::health::Bucket;

/// Width of every chart, in pixels.
pub const CHART_WIDTH: u32 = 1000;
/// Height of every chart, in pixels.
pub const CHART_HEIGHT: u32 = 500;

/// The family name the embedded font is registered under; every text of a chart uses it.
pub const FONT_FAMILY: &str = "steward-wqy-microhei";

/// WenQuanYi Micro Hei, subset (see `src/insights/font/README.md`).
static FONT: &[u8] = include_bytes!("../font/wqy-microhei-subset.ttf");

/// Whether the font was registered (the first chart registers it).
static FONT_REGISTERED: OnceLock<bool> = OnceLock::new();

/// The color of every text and axis.
static INK: RGBColor = RGBColor(33, 33, 33);

const TITLE_SIZE: f64 = 24.0;
const NO_DATA_SIZE: f64 = 22.0;

/// The words a chart shows, in the community's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartText {
    /// The chart's title.
    pub title: String,
    /// The message volume (a series and the sentiment chart's axis).
    pub messages: String,
    pub positive: String,
    pub neutral: String,
    pub negative: String,
    /// Questions asked (a series and the questions chart's axis).
    pub questions: String,
    /// Questions answered.
    pub answered: String,
    /// The median first human reply, in hours (a series and its axis).
    pub first_reply_hours: String,
    /// The time axis.
    pub time_axis: String,
    /// Said instead of a chart when there is nothing to draw.
    pub no_data: String,
}

/// The backend's own error type (`plotters_bitmap::BitMapBackendError`, not re-exported by
/// plotters).
type BackendError = <BitMapBackend<'static, RGBPixel> as DrawingBackend>::ErrorType;

/// Why a chart could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded chart font could not be loaded")]
    Font,
    /// The backend's error as text: a `#[from]` of the backend's associated error type
    /// conflicts with the other conversions (rustc cannot tell the types apart).
    #[error("the chart's pixel buffer was refused: {0}")]
    Buffer(String),
    #[error("drawing the chart failed: {0}")]
    Draw(#[from] DrawingAreaErrorKind<BackendError>),
    #[error("encoding the chart as PNG failed: {0}")]
    Encode(#[from] png::EncodingError),
}

impl ChartError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ChartError::Font => "chart_font",
            ChartError::Buffer(_) => "chart_buffer",
            ChartError::Draw(_) => "chart_draw",
            ChartError::Encode(_) => "chart_encode",
        }
    }
}

/// The tone of the messages per bucket (stacked areas: positive, neutral, negative) with the
/// message volume as a line on the same axis (the gap above the areas is what is not scored
/// yet), as a PNG of [`CHART_WIDTH`] x [`CHART_HEIGHT`].
pub fn sentiment_chart(buckets: &[Bucket], text: &ChartText) -> Result<Vec<u8>, ChartError> {
    let empty = buckets.iter().all(|bucket| {
        bucket.messages == 0 && bucket.positive == 0 && bucket.neutral == 0 && bucket.negative == 0
    });
    chart_png(|root| {
        if empty {
            no_data(root, text)
        } else {
            sentiment::draw(root, buckets, text)
        }
    })
}

/// Questions asked and answered per bucket (bars) and the median first human reply in hours
/// (a line on the right axis), as a PNG of [`CHART_WIDTH`] x [`CHART_HEIGHT`].
pub fn questions_chart(buckets: &[Bucket], text: &ChartText) -> Result<Vec<u8>, ChartError> {
    let empty = buckets.iter().all(|bucket| {
        bucket.questions == 0 && bucket.answered == 0 && bucket.median_first_human_reply.is_none()
    });
    chart_png(|root| {
        if empty {
            no_data(root, text)
        } else {
            questions::draw(root, buckets, text)
        }
    })
}

/// The drawing area of a chart.
type Root<'a> = DrawingArea<BitMapBackend<'a, RGBPixel>, Shift>;

/// The primary coordinates of both charts: bucket index on x, counts on y.
type Counts<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b, RGBPixel>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The mesh both charts share: horizontal lines only, the buckets' times below, counts on the
/// left axis described by `y_desc`.
fn draw_count_mesh(
    chart: &mut Counts<'_, '_>,
    buckets: &[Bucket],
    text: &ChartText,
    y_desc: &str,
) -> Result<(), ChartError> {
    let hourly = axis::is_hourly(buckets);
    let x_label = |x: &f64| axis::time_label(buckets, hourly, *x);
    let y_label = |y: &f64| axis::count_label(*y);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(axis::time_label_count(buckets.len(), hourly))
        .y_labels(axis::VALUE_LABELS)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .x_desc(text.time_axis.as_str())
        .y_desc(y_desc)
        .label_style(font(14.0))
        .axis_desc_style(font(16.0))
        .axis_style(INK)
        .draw()?;
    Ok(())
}

/// A text style in the embedded font.
fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT_FAMILY, size)).color(&INK)
}

/// Registers the embedded font once per process.
fn register_font() -> Result<(), ChartError> {
    let registered = *FONT_REGISTERED.get_or_init(|| {
        let ours = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok();
        // plotters' own defaults (tick labels, legends) ask for "sans-serif": the same font
        // answers, so a style this module forgot to set still renders Chinese instead of
        // failing.
        let fallback =
            plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok();
        ours && fallback
    });
    if registered {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// Paints a white `width` x `height` RGB canvas with `draw` and returns its pixels.
fn paint(
    (width, height): (u32, u32),
    draw: impl FnOnce(&Root<'_>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    register_font()?;
    let len = usize::try_from(u64::from(width) * u64::from(height) * 3).unwrap_or(0);
    let mut pixels = vec![0u8; len];
    {
        let backend: BitMapBackend<'_, RGBPixel> =
            BitMapBackend::with_buffer_and_format(&mut pixels, (width, height))
                .map_err(|error| ChartError::Buffer(error.to_string()))?;
        let root = backend.into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(pixels)
}

/// A chart drawn by `draw`, encoded as PNG.
fn chart_png(
    draw: impl FnOnce(&Root<'_>) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    let pixels = paint((CHART_WIDTH, CHART_HEIGHT), draw)?;
    encode_png(&pixels, (CHART_WIDTH, CHART_HEIGHT))
}

/// 8-bit RGB `pixels` of `width` x `height` as a PNG file.
fn encode_png(pixels: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, ChartError> {
    let mut file = Vec::new();
    let mut encoder = png::Encoder::new(&mut file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(file)
}

/// The title and, in the middle, the `no_data` sentence.
fn no_data(root: &Root<'_>, text: &ChartText) -> Result<(), ChartError> {
    let body = root.titled(&text.title, font(TITLE_SIZE))?;
    let (width, height) = body.dim_in_pixel();
    let middle = (
        i32::try_from(width / 2).unwrap_or(0),
        i32::try_from(height / 2).unwrap_or(0),
    );
    let style = font(NO_DATA_SIZE).pos(Pos::new(HPos::Center, VPos::Center));
    body.draw_text(&text.no_data, &style, middle)?;
    Ok(())
}

/// `text` drawn near the top left of a white `size` canvas in the chart font: its RGB pixels.
/// Tests compare glyphs with it (a CJK character must not render as the missing-glyph box).
#[cfg(test)]
fn text_pixels(text: &str, font_size: f64, size: (u32, u32)) -> Result<Vec<u8>, ChartError> {
    // plotters' ab_glyph backend draws a glyph's top about (ascent - size / 2) above the
    // anchor: leave that room.
    let top = font_size / 2.0 + 4.0;
    paint(size, |root| {
        root.draw_text(text, &font(font_size), (4, top as i32))?;
        Ok(())
    })
}
