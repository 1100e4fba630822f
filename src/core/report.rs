//! The arguments of `report`: how far back it looks ([`ReportWindow`]: `24h`, `7d`, `4w`) and
//! which channel it is about, as typed (`here`, a mention, a link, an id). The feature
//! resolves the channel; here only its form is checked, so a mistyped window (`abc`, `-3d`)
//! is a usage error rather than an unknown channel.

/// The window of `report` by default (7 days), and its shortest and longest, in hours.
pub const REPORT_DEFAULT_HOURS: u32 = 7 * 24;
pub const REPORT_MIN_HOURS: u32 = 1;
pub const REPORT_MAX_HOURS: u32 = 365 * 24;

/// How far back `report` looks: a whole number of hours from [`REPORT_MIN_HOURS`] to
/// [`REPORT_MAX_HOURS`], typed as `24h`, `7d` or `4w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportWindow {
    pub hours: u32,
}

impl ReportWindow {
    /// The default window.
    pub const DEFAULT: ReportWindow = ReportWindow {
        hours: REPORT_DEFAULT_HOURS,
    };

    /// Parses `<n>h`, `<n>d` or `<n>w` (any case); `None` outside 1h..=365d, for a
    /// negative or zero count, another unit (`9999y`) or no number at all.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_ascii_lowercase();
        let (unit_at, _) = text.char_indices().last()?;
        let (number, unit) = text.split_at(unit_at);
        let per_unit: u64 = match unit {
            "h" => 1,
            "d" => 24,
            "w" => 7 * 24,
            _ => return None,
        };
        // Digits only: no sign, so `-3d` and `+3d` are refused rather than guessed at.
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours = number.parse::<u64>().ok()?.checked_mul(per_unit)?;
        let range = u64::from(REPORT_MIN_HOURS)..=u64::from(REPORT_MAX_HOURS);
        range.contains(&hours).then(|| ReportWindow {
            hours: hours as u32,
        })
    }

    /// The window as typed, shortest form: `24h` is `1d`, `168h` is `7d`, `5h` stays.
    pub fn label(self) -> String {
        if self.hours % 24 == 0 {
            format!("{}d", self.hours / 24)
        } else {
            format!("{}h", self.hours)
        }
    }
}

/// Whether `word` names a channel the way `report` accepts one: `here`, a platform mention
/// (`<#123>`), a link, a Matrix room id or alias (`!abc:server`, `#room:server`), or a long
/// numeric id. Anything else after `report` is a mistyped window, not a channel.
fn names_channel(word: &str) -> bool {
    word.eq_ignore_ascii_case("here")
        || word.starts_with("<#")
        || word.contains("://")
        || ((word.starts_with('!') || word.starts_with('#')) && word.contains(':'))
        || (word.len() >= 6 && word.bytes().all(|b| b.is_ascii_digit()))
}

/// The arguments of `report`: a window, a channel, both (either order), or none.
pub(super) fn report_arguments(words: &[&str]) -> Option<(Option<ReportWindow>, Option<String>)> {
    let channel = |word: &str| names_channel(word).then(|| word.to_string());
    match words {
        [] => Some((None, None)),
        [word] => match ReportWindow::parse(word) {
            Some(window) => Some((Some(window), None)),
            None => channel(*word).map(|channel| (None, Some(channel))),
        },
        [first, second] => match (ReportWindow::parse(first), ReportWindow::parse(second)) {
            (Some(window), None) => channel(*second).map(|c| (Some(window), Some(c))),
            (None, Some(window)) => channel(*first).map(|c| (Some(window), Some(c))),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_windows_read_back_in_their_shortest_form() {
        for (typed, label) in [
            ("24h", "1d"),
            ("7d", "7d"),
            ("1w", "7d"),
            ("5h", "5h"),
            ("4w", "28d"),
        ] {
            let window = ReportWindow::parse(typed).unwrap();
            assert_eq!(window.label(), label, "{typed}");
            assert_eq!(ReportWindow::parse(&window.label()), Some(window));
        }
        assert_eq!(ReportWindow::DEFAULT.label(), "7d");
        for bad in ["", "h", "d7", "7 d", "+3d", "1.5d", "8761h"] {
            assert_eq!(ReportWindow::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn channels_are_named_by_form() {
        for (word, channel) in [
            ("here", true),
            ("HERE", true),
            ("<#123>", true),
            ("https://discord.com/channels/1/2", true),
            ("!room:example.org", true),
            ("#rust:example.org", true),
            ("123456", true),
            ("12345", false),
            ("general", false),
            ("#general", false),
            ("abc", false),
        ] {
            assert_eq!(names_channel(word), channel, "{word}");
        }
    }
}
