//! The sentiment chart's body: stacked areas of positive, neutral and negative messages per
//! bucket, and the message volume as a line on the same axis (both are message counts; the gap
//! between the line and the areas is what has no sentiment yet).

use plotters::prelude::{
    AreaSeries, ChartBuilder, Color, LineSeries, PathElement, Rectangle, SeriesLabelPosition, WHITE,
};
use plotters::style::RGBColor;

use super::axis::{count_top, steps};
use super::{draw_count_mesh, font, ChartError, ChartText, Root, INK, TITLE_SIZE};
use crate::insights::health::Bucket;

const POSITIVE: RGBColor = RGBColor(102, 187, 106);
const NEUTRAL: RGBColor = RGBColor(176, 190, 197);
const NEGATIVE: RGBColor = RGBColor(229, 83, 75);
const VOLUME: RGBColor = RGBColor(38, 50, 56);

/// Draws the chart on `root` (the caller has checked there is something to draw).
pub(super) fn draw(
    root: &Root<'_>,
    buckets: &[Bucket],
    text: &ChartText,
) -> Result<(), ChartError> {
    let highest = buckets
        .iter()
        .map(|bucket| bucket.messages.max(scored(bucket)))
        .max()
        .unwrap_or(0);
    // At least one bucket wide, so the x range is never empty.
    let x_end = buckets.len().max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(text.title.as_str(), font(TITLE_SIZE))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..x_end, 0f64..count_top(highest))?;
    draw_count_mesh(&mut chart, buckets, text, &text.messages)?;

    // Stacked by painting the tallest layer first: each lower layer covers the one above it
    // up to its own height.
    let layers: [(&str, RGBColor, fn(&Bucket) -> u64); 3] = [
        (text.negative.as_str(), NEGATIVE, scored),
        (text.neutral.as_str(), NEUTRAL, |bucket: &Bucket| {
            bucket.positive.saturating_add(bucket.neutral)
        }),
        (text.positive.as_str(), POSITIVE, |bucket: &Bucket| {
            bucket.positive
        }),
    ];
    for (name, color, top) in layers {
        chart
            .draw_series(AreaSeries::new(steps(buckets, top), 0.0, color.filled()))?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
    }
    chart
        .draw_series(LineSeries::new(
            steps(buckets, |bucket: &Bucket| bucket.messages),
            VOLUME.stroke_width(3),
        ))?
        .label(text.messages.as_str())
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], VOLUME.stroke_width(3)));

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(font(14.0))
        .background_style(WHITE.mix(0.85))
        .border_style(INK)
        .draw()?;
    Ok(())
}

/// Messages of the bucket with a sentiment label.
fn scored(bucket: &Bucket) -> u64 {
    bucket
        .positive
        .saturating_add(bucket.neutral)
        .saturating_add(bucket.negative)
}
