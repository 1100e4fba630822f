//! Counting text in the pieces passages are budgeted in: BERT normalisation and
//! pre-tokenization, in bounded stretches, without loading any model's tokenizer.

use std::ops::Range;

use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::{
    NormalizedString, Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer,
};

/// Text is handed to the tokenizer in stretches of about this many bytes, cut at white space:
/// its offset tracking costs tens of bytes per byte, which must not scale with a 2 MiB line.
const TOKENIZE_CHUNK_BYTES: usize = 64 * 1024;

/// Counts text the way passages are budgeted: BERT's basic normalisation (control characters
/// removed, lowercase, a space around every CJK character) and its pre-tokenizer (split at
/// white space and around punctuation), and the number of pieces that gives.
///
/// This approximates a model's subword count with word-level pieces: a word is one piece
/// however a model's vocabulary would split it, and one CJK character is one piece (about what
/// models spend on it). No model's tokenizer has to be loaded, and passages sized this way fit
/// any model's context with room to spare; [`PASSAGE_TOKENS`] leaves the margin for subwords.
///
/// [`PASSAGE_TOKENS`]: super::PASSAGE_TOKENS
#[derive(Debug, Clone)]
pub struct TokenCounter {
    normalizer: BertNormalizer,
    pre_tokenizer: BertPreTokenizer,
}

impl Default for TokenCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenCounter {
    pub fn new() -> Self {
        Self {
            // Clean text, handle Chinese characters, strip accents as lowercasing implies,
            // lowercase.
            normalizer: BertNormalizer::new(true, true, None, true),
            pre_tokenizer: BertPreTokenizer,
        }
    }

    /// The number of pieces of `text`.
    pub fn count(&self, text: &str) -> usize {
        self.pieces(text).len()
    }

    /// The byte ranges of `text`'s pieces, in order, not overlapping.
    pub(super) fn pieces(&self, text: &str) -> Vec<Range<usize>> {
        let mut pieces = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let end = tokenize_chunk_end(text, start);
            self.push_chunk_pieces(&text[start..end], start, &mut pieces);
            start = end;
        }
        pieces
    }

    fn push_chunk_pieces(&self, chunk: &str, offset: usize, pieces: &mut Vec<Range<usize>>) {
        let raw = match self.bert_pieces(chunk) {
            Ok(raw) => raw,
            Err(error) => {
                // The BERT steps do not fail on any string today; should one, words are a fair
                // count.
                tracing::warn!(%error, "the BERT pre-tokenizer failed; counting words instead");
                whitespace_words(chunk)
                    .into_iter()
                    .map(|word| (word.start, word.end))
                    .collect()
            }
        };
        // The offsets map normalised text back to the original; keep them on character
        // boundaries and in order whatever a normalisation step did.
        let mut covered = 0;
        for (start, end) in raw {
            let start = ceil_char_boundary(chunk, start.max(covered));
            let end = ceil_char_boundary(chunk, end);
            if start < end {
                pieces.push(offset + start..offset + end);
                covered = end;
            }
        }
    }

    fn bert_pieces(&self, text: &str) -> tokenizers::Result<Vec<(usize, usize)>> {
        let mut normalized = NormalizedString::from(text);
        self.normalizer.normalize(&mut normalized)?;
        let mut pretokenized = PreTokenizedString::from(normalized);
        self.pre_tokenizer.pre_tokenize(&mut pretokenized)?;
        Ok(pretokenized
            .get_splits(OffsetReferential::Original, OffsetType::Byte)
            .into_iter()
            .map(|(_, offsets, _)| offsets)
            .collect())
    }
}

/// Where the tokenizer chunk that begins at `start` ends: before the last white space within
/// [`TOKENIZE_CHUNK_BYTES`], so no piece is cut (a single word longer than that is).
fn tokenize_chunk_end(text: &str, start: usize) -> usize {
    let limit = start.saturating_add(TOKENIZE_CHUNK_BYTES);
    if limit >= text.len() {
        return text.len();
    }
    let limit = floor_char_boundary(text, limit);
    match text[start..limit].rfind(char::is_whitespace) {
        Some(at) if at > 0 => start + at,
        _ if limit > start => limit,
        _ => ceil_char_boundary(text, start + 1),
    }
}

/// Byte ranges of the white-space separated words of `text`.
fn whitespace_words(text: &str) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut word_start = None;
    for (at, c) in text.char_indices() {
        match (c.is_whitespace(), word_start) {
            (true, Some(start)) => {
                words.push(start..at);
                word_start = None;
            }
            (false, None) => word_start = Some(at),
            _ => {}
        }
    }
    if let Some(start) = word_start {
        words.push(start..text.len());
    }
    words
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    let mut at = at;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    let mut at = at;
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_splits_words_punctuation_and_cjk_characters() {
        let counter = TokenCounter::new();
        assert_eq!(counter.count("Hello, world!"), 4);
        assert_eq!(counter.count("安装依赖"), 4);
        assert_eq!(counter.count("用cargo构建。"), 5);
        assert_eq!(counter.count(""), 0);
        assert_eq!(counter.count("  \n\t "), 0);
    }

    #[test]
    fn the_counter_adds_up_over_chunks() {
        let counter = TokenCounter::new();
        let words = "word ".repeat(TOKENIZE_CHUNK_BYTES / 5 * 3);
        assert_eq!(counter.count(&words), TOKENIZE_CHUNK_BYTES / 5 * 3);
        let han = "汉".repeat(TOKENIZE_CHUNK_BYTES);
        assert_eq!(counter.count(&han), TOKENIZE_CHUNK_BYTES);
    }
}
