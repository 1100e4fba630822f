//! Reading the input of `steward classify sentiment`: one JSON object per line with an `"id"`
//! (a string or a number) and a `"text"`; with `--labels` also `"label"` and `"lang"`. Every
//! line is checked before anything is classified, and a bad one is an error naming its number.

use std::path::Path;

use serde_json::Value;

use super::ClassifyError;
use crate::sentiment::{Label, Lang};

/// One message of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct InputLine {
    /// Its line in the file (1-based).
    pub line: usize,
    /// A string or a number, written back as it came.
    pub id: Value,
    pub text: String,
    /// The gold label, when `--labels` is given and the line has one.
    pub gold: Option<Label>,
    /// `"lang"` when given, else detected from the text.
    pub lang: Lang,
}

/// Reads and checks every line of `path`.
pub fn read_input(path: &Path, labels: bool) -> Result<Vec<InputLine>, ClassifyError> {
    let bytes = std::fs::read(path).map_err(|source| ClassifyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let bad = |message: String| ClassifyError::Line {
            path: path.to_path_buf(),
            line: number,
            message,
        };
        let text = std::str::from_utf8(raw).map_err(|_| bad("not UTF-8 text".into()))?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        lines.push(parse_line(text, number, labels).map_err(bad)?);
    }
    if lines.is_empty() {
        return Err(ClassifyError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(lines)
}

/// One non-blank line; the error says what is wrong with it.
fn parse_line(text: &str, line: usize, labels: bool) -> Result<InputLine, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| {
        // serde_json counts lines inside the one it parsed; the column is what helps.
        format!(
            "not a JSON object ({} at column {})",
            describe(&error),
            error.column()
        )
    })?;
    let Value::Object(object) = value else {
        return Err("not a JSON object".into());
    };
    let id = match object.get("id") {
        None | Some(Value::Null) => return Err("missing \"id\"".into()),
        Some(Value::String(id)) if id.trim().is_empty() => return Err("\"id\" is empty".into()),
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        Some(_) => return Err("\"id\" must be a string or a number".into()),
    };
    let text = match object.get("text") {
        None | Some(Value::Null) => return Err("missing \"text\"".into()),
        Some(Value::String(text)) => text.clone(),
        Some(_) => return Err("\"text\" must be a string".into()),
    };
    let gold = match (labels, object.get("label")) {
        (true, Some(Value::String(name))) => Some(Label::parse(name).ok_or_else(|| {
            format!("\"label\" must be positive, neutral or negative, not {name:?}")
        })?),
        (true, Some(Value::Null) | None) | (false, _) => None,
        (true, Some(_)) => return Err("\"label\" must be a string".into()),
    };
    let lang = match object.get("lang") {
        Some(Value::String(code)) => Lang::from_code(code),
        None | Some(Value::Null) => Lang::detect(&text),
        Some(_) => return Err("\"lang\" must be a string (en, zh)".into()),
    };
    Ok(InputLine {
        line,
        id,
        text,
        gold,
        lang,
    })
}

/// serde_json's message without its "at line 1 column N" tail.
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<InputLine, String> {
        parse_line(text, 7, true)
    }

    #[test]
    fn lines_are_checked_with_a_reason() {
        let cases = [
            ("{\"text\": \"hi\"}", "missing \"id\""),
            ("{\"id\": 1}", "missing \"text\""),
            ("{\"id\": \"\", \"text\": \"hi\"}", "\"id\" is empty"),
            (
                "{\"id\": [1], \"text\": \"hi\"}",
                "\"id\" must be a string or a number",
            ),
            ("{\"id\": 1, \"text\": 5}", "\"text\" must be a string"),
            (
                "{\"id\": 1, \"text\": \"hi\", \"label\": \"happy\"}",
                "\"label\" must be",
            ),
            ("[1, 2]", "not a JSON object"),
            (
                "{\"id\": 1, \"text\": ",
                "not a JSON object (EOF while parsing",
            ),
            ("hello", "not a JSON object (expected value at column 1)"),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }

    #[test]
    fn good_lines_keep_their_id_and_language() {
        let line =
            parse(r#"{"id": "m1", "text": "怎么配置？", "label": "neutral", "user": "ana"}"#)
                .unwrap();
        assert_eq!(line.id, Value::from("m1"));
        assert_eq!(line.gold, Some(Label::Neutral));
        assert_eq!(line.lang, Lang::Chinese);
        assert_eq!(line.line, 7);
        let numbered = parse(r#"{"id": 42, "text": "thanks!", "lang": "en"}"#).unwrap();
        assert_eq!(numbered.id, Value::from(42));
        assert_eq!(numbered.lang, Lang::English);
        // Without --labels a label is not read (nor checked).
        let unlabelled = parse_line(r#"{"id": 1, "text": "x", "label": "??"}"#, 1, false).unwrap();
        assert_eq!(unlabelled.gold, None);
        // Odd texts are messages like any other.
        for text in ["", "👍👍👍", &"a".repeat(50_000)] {
            let json = serde_json::json!({"id": 1, "text": text}).to_string();
            assert_eq!(parse(&json).unwrap().text, text);
        }
    }

    #[test]
    fn files_name_the_bad_line_and_refuse_emptiness() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "{\"id\": 1, \"text\": \"ok\"}\n\n{\"id\": 2}\n").unwrap();
        let error = read_input(&path, false).unwrap_err();
        assert!(
            error.to_string().ends_with("in.jsonl:3: missing \"text\""),
            "{error}"
        );
        assert!(error.is_usage());
        std::fs::write(&path, "\n  \n").unwrap();
        let error = read_input(&path, false).unwrap_err();
        assert!(matches!(error, ClassifyError::Empty { .. }), "{error}");
        std::fs::write(&path, b"{\"id\": 1, \"text\": \"\xff\"}\n").unwrap();
        let error = read_input(&path, false).unwrap_err();
        assert!(
            error.to_string().contains("in.jsonl:1: not UTF-8"),
            "{error}"
        );
        let missing = read_input(&dir.path().join("nope.jsonl"), false).unwrap_err();
        assert_eq!(missing.label(), "classify_read");
    }
}
