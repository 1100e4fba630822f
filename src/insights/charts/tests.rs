//! The charts are PNGs of the promised size with something drawn on them, for any series (none,
//! one bucket, all zeros, huge counts), and Chinese text renders as glyphs, not as the font's
//! missing-glyph box (this font's `.notdef` is empty, so a missing glyph draws nothing).

use std::io::Cursor;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

/// 2024-03-04 00:00 UTC.
const T0_SECS: u64 = 1_709_510_400;

fn chinese(title: &str) -> ChartText {
    ChartText {
        title: title.to_string(),
        messages: "消息".to_string(),
        positive: "积极".to_string(),
        neutral: "中性".to_string(),
        negative: "消极".to_string(),
        questions: "提问".to_string(),
        answered: "已回答".to_string(),
        first_reply_hours: "首次回复（小时）".to_string(),
        time_axis: "时间（UTC）".to_string(),
        no_data: "暂无数据".to_string(),
    }
}

fn english() -> ChartText {
    ChartText {
        title: "Community mood".to_string(),
        messages: "Messages".to_string(),
        positive: "Positive".to_string(),
        neutral: "Neutral".to_string(),
        negative: "Negative".to_string(),
        questions: "Questions".to_string(),
        answered: "Answered".to_string(),
        first_reply_hours: "First reply (hours)".to_string(),
        time_axis: "Time (UTC)".to_string(),
        no_data: "No data for this period".to_string(),
    }
}

fn start(step: Duration, index: u32) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0_SECS) + step * index
}

/// `count` buckets of `step` with varied figures.
fn series(count: u32, step: Duration) -> Vec<Bucket> {
    (0..count)
        .map(|index| {
            let n = u64::from(index);
            Bucket {
                start: start(step, index),
                messages: 20 + (n * 7) % 13,
                positive: 5 + n % 4,
                neutral: 8 + n % 3,
                negative: 2 + (n * 5) % 6,
                questions: 3 + n % 5,
                answered: 2 + n % 3,
                median_first_human_reply: (n % 3 != 0).then(|| Duration::from_secs(600 + 1800 * n)),
            }
        })
        .collect()
}

fn zeros(count: u32) -> Vec<Bucket> {
    (0..count)
        .map(|index| Bucket {
            start: start(Duration::from_secs(86_400), index),
            messages: 0,
            positive: 0,
            neutral: 0,
            negative: 0,
            questions: 0,
            answered: 0,
            median_first_human_reply: None,
        })
        .collect()
}

/// A decoded PNG: size and 8-bit RGB pixels.
struct Image {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

fn decode(file: &[u8]) -> Image {
    assert!(file.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
    let mut reader = png::Decoder::new(Cursor::new(file))
        .read_info()
        .expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a frame size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    pixels.truncate(info.line_size * info.height as usize);
    Image {
        width: info.width,
        height: info.height,
        pixels,
    }
}

/// Checks `file` is a PNG chart with more than one color, and returns it decoded.
fn chart(file: &[u8]) -> Image {
    let image = decode(file);
    assert_eq!((image.width, image.height), (CHART_WIDTH, CHART_HEIGHT));
    assert_eq!(image.width, 1000);
    assert_eq!(image.height, 500);
    let first = image.pixels.get(..3).expect("a pixel");
    assert!(
        image.pixels.chunks(3).any(|pixel| pixel != first),
        "the chart is one flat color"
    );
    image
}

/// Pixels that are not white.
fn ink(pixels: &[u8]) -> usize {
    pixels
        .chunks(3)
        .filter(|pixel| pixel.iter().any(|&channel| channel != 255))
        .count()
}

/// Rows (from the top) where `a` and `b` differ.
fn differing_rows(a: &Image, b: &Image) -> Vec<usize> {
    let row = a.width as usize * 3;
    let mut rows: Vec<usize> = a
        .pixels
        .chunks(3)
        .zip(b.pixels.chunks(3))
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(at, _)| at * 3 / row)
        .collect();
    rows.dedup();
    rows
}

#[test]
fn both_charts_are_pngs_of_the_promised_size() {
    for buckets in [
        series(7, Duration::from_secs(86_400)),
        series(48, Duration::from_secs(3600)),
    ] {
        for text in [english(), chinese("社区情绪")] {
            chart(&sentiment_chart(&buckets, &text).expect("a sentiment chart"));
            chart(&questions_chart(&buckets, &text).expect("a questions chart"));
        }
    }
}

#[test]
fn no_buckets_or_only_zeros_give_a_chart_that_says_no_data() {
    let text = english();
    let none = chart(&sentiment_chart(&[], &text).expect("an empty sentiment chart"));
    chart(&questions_chart(&[], &text).expect("an empty questions chart"));
    // All zeros draw exactly the same "no data" chart as no buckets at all.
    let zero = chart(&sentiment_chart(&zeros(7), &text).expect("a zero sentiment chart"));
    assert_eq!(none.pixels, zero.pixels);
    let zero = chart(&questions_chart(&zeros(7), &text).expect("a zero questions chart"));
    assert_eq!(none.pixels, zero.pixels);
    // The sentence itself is drawn: another sentence changes pixels in the middle.
    let other = ChartText {
        no_data: "Nothing yet".to_string(),
        ..english()
    };
    let other = chart(&sentiment_chart(&[], &other).expect("an empty sentiment chart"));
    let rows = differing_rows(&none, &other);
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|&row| (150..350).contains(&row)),
        "{rows:?}"
    );
}

#[test]
fn one_bucket_and_huge_counts_draw() {
    let text = chinese("社区情绪");
    let one = series(1, Duration::from_secs(86_400));
    chart(&sentiment_chart(&one, &text).expect("one bucket"));
    chart(&questions_chart(&one, &text).expect("one bucket"));
    let huge: Vec<Bucket> = series(5, Duration::from_secs(7 * 86_400))
        .into_iter()
        .map(|bucket| Bucket {
            messages: u64::MAX,
            positive: u64::MAX / 3,
            neutral: u64::MAX / 3,
            negative: u64::MAX / 3,
            questions: u64::MAX,
            answered: u64::MAX - 1,
            median_first_human_reply: Some(Duration::MAX),
            ..bucket
        })
        .collect();
    chart(&sentiment_chart(&huge, &text).expect("huge counts"));
    chart(&questions_chart(&huge, &text).expect("huge counts"));
}

#[test]
fn chinese_titles_render_as_different_glyphs() {
    let buckets = series(7, Duration::from_secs(86_400));
    let draw = |title: &str| {
        chart(&sentiment_chart(&buckets, &chinese(title)).expect("a sentiment chart"))
    };
    // A blank title takes the same room as any other (the layout uses the font's height), so
    // only the title's own pixels differ from it.
    let blank = draw(" ");
    let mood = draw("社区情绪");
    let answers = draw("问题回答");
    for titled in [&mood, &answers] {
        let rows = differing_rows(&blank, titled);
        assert!(rows.len() >= 10, "the title has ink: {rows:?}");
        assert!(
            rows.iter().all(|&row| row < 60),
            "only the title differs: {rows:?}"
        );
    }
    // With boxes (or nothing) for missing glyphs, both titles would look the same.
    let rows = differing_rows(&mood, &answers);
    assert!(rows.len() >= 10, "{rows:?}");
    assert!(rows.iter().all(|&row| row < 60), "{rows:?}");
}

#[test]
fn a_cjk_glyph_is_not_the_missing_glyph() {
    let glyph = |text: &str| text_pixels(text, 40.0, (64, 64)).expect("a glyph");
    let wen = glyph("问");
    let ti = glyph("题");
    // Hangul and emoji are outside the subset: both draw the font's `.notdef` glyph.
    let hangul = glyph("가");
    let emoji = glyph("😀");
    assert_eq!(
        hangul, emoji,
        "two missing characters draw the same .notdef"
    );
    assert!(ink(&wen) > 40, "问 has ink");
    assert!(ink(&ti) > 40, "题 has ink");
    assert_ne!(wen, hangul, "问 is not the missing glyph");
    assert_ne!(ti, hangul, "题 is not the missing glyph");
    assert_ne!(wen, ti, "two characters draw two glyphs");
    assert!(ink(&glyph("A")) > 20, "Latin letters render too");
}
