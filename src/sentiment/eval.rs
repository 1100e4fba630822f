//! Measures sentiment labels against gold labels: accuracy and macro-F1, per language (English,
//! Chinese, other) and per stage, with a confusion matrix per language.
//!
//! Macro-F1 is the mean of the per-label F1 over the labels that occur in the gold labels or
//! the predictions (a label neither has says nothing); a label never predicted, or never right,
//! has F1 0.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Label, Stage};

/// A message's language, for the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    English,
    Chinese,
    /// Neither (another language, or only emoji and digits).
    Other,
}

impl Lang {
    /// `en`, `zh` or `other`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::English => "en",
            Lang::Chinese => "zh",
            Lang::Other => "other",
        }
    }

    /// The language with `code` (`en`, `zh`; anything else is [`Lang::Other`]).
    pub fn from_code(code: &str) -> Self {
        match code {
            "en" => Lang::English,
            "zh" => Lang::Chinese,
            _ => Lang::Other,
        }
    }

    /// The language `text` reads as: Chinese when Han characters are a good share of its
    /// letters (the knowledge base's rule), English when it has Latin letters, else other.
    pub fn detect(text: &str) -> Self {
        if crate::knowledge::terms::is_chinese(text) {
            Lang::Chinese
        } else if text.chars().any(|c| c.is_ascii_alphabetic()) {
            Lang::English
        } else {
            Lang::Other
        }
    }
}

/// Counts of (gold, predicted) label pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confusion {
    /// `counts[gold][predicted]`, indexed by [`Label::index`].
    pub counts: [[usize; 3]; 3],
}

impl Confusion {
    pub fn add(&mut self, gold: Label, predicted: Label) {
        self.counts[gold.index()][predicted.index()] += 1;
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    pub fn correct(&self) -> usize {
        (0..3).map(|i| self.counts[i][i]).sum()
    }

    /// Share of messages labelled right (0 when there are none).
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total())
    }

    /// F1 of one label: harmonic mean of its precision and recall.
    pub fn f1(&self, label: Label) -> f64 {
        let i = label.index();
        let right = self.counts[i][i];
        let gold: usize = self.counts[i].iter().sum();
        let predicted: usize = (0..3).map(|g| self.counts[g][i]).sum();
        let (precision, recall) = (ratio(right, predicted), ratio(right, gold));
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }

    /// Mean F1 over the labels present in the gold labels or the predictions.
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<Label> = Label::ALL
            .into_iter()
            .filter(|label| {
                let i = label.index();
                self.counts[i].iter().sum::<usize>()
                    + (0..3).map(|g| self.counts[g][i]).sum::<usize>()
                    > 0
            })
            .collect();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|label| self.f1(*label)).sum::<f64>() / present.len() as f64
    }

    /// "accuracy 0.750, macro-F1 0.702 (120 messages)".
    pub fn summary(&self) -> String {
        format!(
            "accuracy {:.3}, macro-F1 {:.3} ({} messages)",
            self.accuracy(),
            self.macro_f1(),
            self.total()
        )
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The figures of one run over labelled messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub overall: Confusion,
    pub languages: BTreeMap<Lang, Confusion>,
    /// By the stage that gave each message its final label.
    pub stages: BTreeMap<Stage, Confusion>,
}

impl Evaluation {
    pub fn add(&mut self, lang: Lang, stage: Stage, gold: Label, predicted: Label) {
        self.overall.add(gold, predicted);
        self.languages.entry(lang).or_default().add(gold, predicted);
        self.stages.entry(stage).or_default().add(gold, predicted);
    }

    /// The report: one line per language (`en: accuracy ...`), overall, one per stage, then
    /// each language's confusion matrix.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (lang, confusion) in &self.languages {
            let _ = writeln!(out, "  {}: {}", lang.code(), confusion.summary());
        }
        let _ = writeln!(out, "  all: {}", self.overall.summary());
        for (stage, confusion) in &self.stages {
            let _ = writeln!(out, "  stage {}: {}", stage.as_str(), confusion.summary());
        }
        let _ = writeln!(
            out,
            "  confusion (rows: the gold label; columns: predicted positive / neutral / negative):"
        );
        for (lang, confusion) in &self.languages {
            for label in Label::ALL {
                let row = confusion.counts[label.index()];
                let _ = writeln!(
                    out,
                    "    {:<5} {:<8} {:>4} {:>4} {:>4}",
                    lang.code(),
                    label.as_str(),
                    row[0],
                    row[1],
                    row[2]
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::{Negative as Neg, Neutral as Neu, Positive as Pos};

    #[test]
    fn accuracy_and_macro_f1_by_hand() {
        let mut confusion = Confusion::default();
        // gold -> predicted: 3 of 4 positives right, 1 of 2 negatives, the neutral right.
        for (gold, predicted) in [
            (Pos, Pos),
            (Pos, Pos),
            (Pos, Pos),
            (Pos, Neu),
            (Neg, Neg),
            (Neg, Pos),
            (Neu, Neu),
        ] {
            confusion.add(gold, predicted);
        }
        assert_eq!(confusion.total(), 7);
        assert!((confusion.accuracy() - 5.0 / 7.0).abs() < 1e-9);
        // positive: p 3/4, r 3/4 -> 0.75; neutral: p 1/2, r 1 -> 2/3; negative: p 1, r 1/2 -> 2/3.
        let expected = (0.75 + 2.0 / 3.0 + 2.0 / 3.0) / 3.0;
        assert!(
            (confusion.macro_f1() - expected).abs() < 1e-9,
            "{}",
            confusion.macro_f1()
        );
        assert!((confusion.f1(Pos) - 0.75).abs() < 1e-9);
    }

    #[test]
    fn absent_labels_do_not_count_and_empty_sets_are_zero() {
        let mut confusion = Confusion::default();
        confusion.add(Pos, Pos);
        confusion.add(Neg, Neg);
        assert_eq!(confusion.macro_f1(), 1.0);
        assert_eq!(Confusion::default().accuracy(), 0.0);
        assert_eq!(Confusion::default().macro_f1(), 0.0);
    }

    #[test]
    fn languages_are_detected() {
        let cases = [
            ("How do I pin a version?", Lang::English),
            ("怎么固定版本？", Lang::Chinese),
            ("tokio 的运行时怎么配置", Lang::Chinese),
            ("👍👍", Lang::Other),
            ("", Lang::Other),
        ];
        for (text, lang) in cases {
            assert_eq!(Lang::detect(text), lang, "{text}");
        }
        assert_eq!(Lang::from_code("zh"), Lang::Chinese);
        assert_eq!(Lang::from_code("ja"), Lang::Other);
    }

    #[test]
    fn the_report_has_a_line_per_language_and_stage() {
        let mut evaluation = Evaluation::default();
        evaluation.add(Lang::English, Stage::Lexical, Pos, Pos);
        evaluation.add(Lang::Chinese, Stage::Model, Neg, Neu);
        let text = evaluation.render();
        assert!(
            text.contains("  en: accuracy 1.000, macro-F1 1.000 (1 messages)"),
            "{text}"
        );
        assert!(text.contains("  zh: accuracy 0.000"), "{text}");
        assert!(text.contains("  stage lexical: accuracy 1.000"), "{text}");
        assert!(text.contains("  stage model: accuracy 0.000"), "{text}");
        assert!(text.contains("    zh    negative    0    1    0"), "{text}");
    }
}
