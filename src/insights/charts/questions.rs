//! The questions chart's body: questions asked and answered per bucket as side-by-side bars
//! (left axis), and the median first human reply in hours as a line with points (right axis;
//! buckets without a human reply have no point).

use plotters::prelude::{
    ChartBuilder, Color, LineSeries, PathElement, Rectangle, SeriesLabelPosition, WHITE,
};
use plotters::style::RGBColor;

use super::axis::{count_top, hours_label, hours_top, VALUE_LABELS};
use super::{draw_count_mesh, font, ChartError, ChartText, Root, INK, TITLE_SIZE};
use crate::insights::health::Bucket;

const ASKED: RGBColor = RGBColor(66, 133, 244);
const ANSWERED: RGBColor = RGBColor(52, 168, 83);
const REPLY: RGBColor = RGBColor(245, 124, 0);

/// Where a bucket's two bars sit inside it (bucket `i` spans `i..i + 1`).
const ASKED_BAR: (f64, f64) = (0.12, 0.48);
const ANSWERED_BAR: (f64, f64) = (0.52, 0.88);

/// Draws the chart on `root` (the caller has checked there is something to draw).
pub(super) fn draw(
    root: &Root<'_>,
    buckets: &[Bucket],
    text: &ChartText,
) -> Result<(), ChartError> {
    let highest = buckets
        .iter()
        .map(|bucket| bucket.questions.max(bucket.answered))
        .max()
        .unwrap_or(0);
    let hours: Vec<Option<f64>> = buckets
        .iter()
        .map(|bucket| {
            bucket
                .median_first_human_reply
                .map(|delay| delay.as_secs_f64() / 3600.0)
        })
        .collect();
    let longest = hours.iter().flatten().fold(0f64, |a, &b| a.max(b));
    let hours_tick = |y: &f64| hours_label(*y);
    // At least one bucket wide, so the x range is never empty.
    let x_end = buckets.len().max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(text.title.as_str(), font(TITLE_SIZE))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(72)
        .right_y_label_area_size(72)
        .build_cartesian_2d(0f64..x_end, 0f64..count_top(highest))?
        .set_secondary_coord(0f64..x_end, 0f64..hours_top(longest));
    draw_count_mesh(&mut chart, buckets, text, &text.questions)?;
    chart
        .configure_secondary_axes()
        .y_labels(VALUE_LABELS)
        .y_label_formatter(&hours_tick)
        .y_desc(text.first_reply_hours.as_str())
        .label_style(font(14.0))
        .axis_desc_style(font(16.0))
        .draw()?;

    let bars: [(&str, RGBColor, (f64, f64), fn(&Bucket) -> u64); 2] = [
        (
            text.questions.as_str(),
            ASKED,
            ASKED_BAR,
            |bucket: &Bucket| bucket.questions,
        ),
        (
            text.answered.as_str(),
            ANSWERED,
            ANSWERED_BAR,
            |bucket: &Bucket| bucket.answered,
        ),
    ];
    for (name, color, (left, right), value) in bars {
        chart
            .draw_series(
                buckets
                    .iter()
                    .enumerate()
                    .filter(|(_, bucket)| value(bucket) > 0)
                    .map(|(index, bucket)| {
                        let x = index as f64;
                        Rectangle::new(
                            [(x + left, 0.0), (x + right, value(bucket) as f64)],
                            color.filled(),
                        )
                    }),
            )?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
    }

    let reply_points: Vec<(f64, f64)> = hours
        .iter()
        .enumerate()
        .filter_map(|(index, median)| median.map(|median| (index as f64 + 0.5, median)))
        .collect();
    chart
        .draw_secondary_series(LineSeries::new(reply_points, REPLY.stroke_width(2)).point_size(4))?
        .label(text.first_reply_hours.as_str())
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], REPLY.stroke_width(2)));

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(font(14.0))
        .background_style(WHITE.mix(0.85))
        .border_style(INK)
        .draw()?;
    Ok(())
}
