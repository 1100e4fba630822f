//! Index terms: the lexemes a passage is found by, made the same way for documents and for
//! questions, so that SQLite FTS5 and PostgreSQL full text (both fed Steward's own terms, not
//! their tokenizers) match the same passages.
//!
//! Text is NFKC-normalised (full-width letters become ASCII) and lowercased, then cut into
//! runs: runs of CJK characters and runs of other letters and digits; everything else
//! separates. Words lose English stop words and single ASCII letters and are stemmed (Snowball
//! English), so "installing" finds "installed". CJK text has no spaces between words, so a CJK
//! run gives overlapping character bigrams ("安装依赖" -> 安装, 装依, 依赖): any two-character
//! word of the question is then a term of the passage, without a dictionary.
//!
//! A term holds only letters and digits (no white space, quotes or operators), so it can be
//! written space-separated into FTS5 and quoted into a PostgreSQL `tsquery` as it is.

use std::collections::HashSet;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;

/// Longer words are dropped: they are hashes, base64 or minified code that nobody types into a
/// question, and PostgreSQL refuses lexemes over 2 KiB.
pub const MAX_TERM_CHARS: usize = 64;

/// How much of a text's letters must be Han characters for [`is_chinese`].
const CHINESE_SHARE_PERCENT: usize = 30;

static ENGLISH_STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// NLTK's English stop words. The crate is built with its `nltk` lists in this dependency tree
/// (mistralrs-core's `bm25` asks for them), and NLTK's list wins over stopwords-iso's for
/// English when both are built, so "en" is NLTK's 179 words either way (stopwords-iso's 1,298
/// would drop words such as "use", "system" and "need" that technical questions hinge on).
static ENGLISH_STOP_WORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| stop_words::get("en").iter().copied().collect());

static CHINESE_STOP_WORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| CHINESE_STOP_WORD_LIST.split_whitespace().collect());

/// The stopwords-iso Chinese list (MIT licence), only its entries of one or two Han characters:
/// a term is one character or a bigram, so no longer entry could ever equal one. It is kept
/// here because the stop-words crate has it only with its `iso` feature, and turning that on
/// would rebuild mistralrs-core, which shares the crate. Five entries that carry meaning in
/// technical questions are left out: 本地 (local), 对比 (compare), 替代 (replace),
/// 开始 (start), 结果 (result).
const CHINESE_STOP_WORD_LIST: &str = "
一 一个 一些 一何 一切 一则 一旦 一来 一样 一种 一般 七 万一 三 上 上下 下 不 不仅 不但 不光
不单 不只 不如 不妨 不尽 不得 不怕 不惟 不成 不拘 不料 不是 不比 不然 不特 不独 不管 不若 不论
不过 不问 与 与其 与否 且 且说 两者 个 个别 中 临 为 为了 为何 为止 为此 为着 乃 乃至 么 之 之一
之类 乌乎 乎 乘 九 也 也好 也罢 了 二 二来 于 于是 云云 云尔 五 些 亦 人 人们 人家 什 什么 今 介于
仍 仍旧 从 从此 从而 他 他人 他们 以 以上 以为 以便 以免 以及 以故 以期 以来 以至 以致 们 任 任何
任凭 会 似的 但 但凡 但是 何 何以 何况 何处 何时 余外 作为 你 你们 使 使得 例如 依 依据 依照 便于
俺 俺们 倘 倘使 倘或 倘然 倘若 借 假使 假如 假若 做 像 儿 光 光是 全体 全部 八 六 兮 共 关于 其
其一 其中 其二 其他 其余 其它 其次 兼之 内 再 再则 再有 再者 再说 冒 冲 况且 几 几时 凡 凡是 凭
凭借 出于 出来 分 分别 则 则甚 别 别人 别处 别是 别的 别管 别说 到 前后 前此 前者 加之 加以 区 即
即令 即使 即便 即如 即或 即若 却 去 又 又及 及 及其 及至 反之 反而 受到 另 另外 另悉 只 只当 只怕
只是 只有 只消 只要 只限 叫 叮咚 可 可以 可是 可见 各 各个 各位 各种 各自 同 同时 后 后者 向 向使
向着 吓 吗 否则 吧 吧哒 含 吱 呀 呃 呕 呗 呜 呜呼 呢 呵 呵呵 呸 呼哧 咋 和 咚 咦 咧 咱 咱们 咳 哇
哈 哈哈 哉 哎 哎呀 哎哟 哗 哟 哦 哩 哪 哪个 哪些 哪儿 哪天 哪年 哪怕 哪样 哪边 哪里 哼 哼唷 唉 唯有
啊 啐 啥 啦 啪达 啷当 喂 喏 喔唷 喽 嗡 嗡嗡 嗬 嗯 嗳 嘎 嘎登 嘘 嘛 嘻 嘿 嘿嘿 四 因 因为 因了 因此
因着 因而 固然 在 在下 在于 地 基于 处在 多 多么 多少 大 大家 她 她们 好 如 如上 如下 如何 如其
如同 如是 如果 如此 如若 始而 孰料 孰知 宁 宁可 宁愿 宁肯 它 它们 对 对于 对待 对方 将 小 尔 尔后
尔尔 尚且 就 就是 就算 就要 尽 尽管 岂但 己 已 已矣 巴 巴巴 年 并 并且 庶乎 庶几 开外 归 归齐 当
当地 当然 当着 彼 彼时 彼此 往 待 很 得 得了 怎 怎么 怎奈 怎样 总之 您 惟其 慢说 我 我们 或 或则
或是 或曰 或者 截至 所 所以 所在 所幸 所有 才 才能 打 打从 把 抑或 拿 按 按照 据 据此 接着 故 故此
故而 旁人 无 无宁 无论 既 既往 既是 既然 日 时 时候 是 是以 是的 更 曾 替 最 月 有 有些 有关 有及
有时 有的 望 朝 朝着 本 本人 本着 本身 来 来着 来自 来说 极了 果然 果真 某 某个 某些 某某 根据 欤
正值 正如 正巧 正是 此 此地 此处 此外 此时 此次 此间 毋宁 每 每当 比 比及 比如 比方 沿 沿着 漫说
点 焉 然则 然后 然而 照 照着 犹且 犹自 甚且 甚么 甚或 甚而 甚至 用 用来 由 由于 由是 由此 的 的确
的话 直到 省得 看 眨眼 着 着呢 矣 矣乎 矣哉 离 秒 称 竟而 第 等 等到 等等 管 类如 纵 纵令 纵使
纵然 经 经过 给 继之 继后 继而 罢了 者 而 而且 而况 而后 而外 而已 而是 而言 能 能否 腾 自 自从
自后 自家 自己 自打 自身 至 至于 至今 至若 致 般的 若 若夫 若是 若果 若非 莫如 莫若 虽 虽则 虽然
虽说 被 要 要不 要么 要是 譬喻 譬如 让 许多 论 设使 设或 设若 诚如 诚然 该 说 说来 请 诸 诸位
诸如 谁 谁人 谁料 谁知 贼死 赖以 赶 起 起见 趁 趁着 越是 距 跟 较 较之 边 过 还 还是 还有 还要 这
这个 这么 这些 这儿 这时 这样 这次 这般 这边 这里 进而 连 连同 逐步 通过 遵循 遵照 那 那个 那么
那些 那儿 那时 那样 那般 那边 那里 都 鄙人 鉴于 针对 阿 除 除了 除外 除开 除非 随 随后 随时 随着
零 非 非但 非徒 非特 非独 靠 顺 顺着 首先
";

/// What a character is to the term splitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharKind {
    /// Han, kana or Hangul: written without spaces between words.
    Cjk,
    /// Any other letter or digit.
    Word,
    /// Everything else: separates terms.
    Separator,
}

fn char_kind(c: char) -> CharKind {
    if !c.is_alphanumeric() {
        // The kana blocks also hold punctuation such as the middle dot ・.
        CharKind::Separator
    } else if is_han(c) || is_kana_or_hangul(c) {
        CharKind::Cjk
    } else {
        CharKind::Word
    }
}

/// CJK Unified Ideographs with extension A, the rarer extensions B to F, and the compatibility
/// ideographs.
fn is_han(c: char) -> bool {
    matches!(
        c,
        '\u{4E00}'..='\u{9FFF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{2FA1F}'
    )
}

/// Hiragana, Katakana (with its phonetic extensions) and Hangul syllables.
fn is_kana_or_hangul(c: char) -> bool {
    matches!(
        c,
        '\u{3040}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' | '\u{AC00}'..='\u{D7AF}'
    )
}

/// The index terms of `text`, in order, repeats kept (BM25 counts them).
pub fn index_terms(text: &str) -> Vec<String> {
    let normalized = text.nfkc().collect::<String>().to_lowercase();
    let mut terms = Vec::new();
    let mut run_start = 0;
    let mut run_kind = CharKind::Separator;
    for (at, c) in normalized.char_indices() {
        let kind = char_kind(c);
        if kind != run_kind {
            push_run_terms(&normalized[run_start..at], run_kind, &mut terms);
            run_start = at;
            run_kind = kind;
        }
    }
    push_run_terms(&normalized[run_start..], run_kind, &mut terms);
    terms
}

/// The terms of a question: [`index_terms`] without repeats, in first-seen order.
pub fn query_terms(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    index_terms(text)
        .into_iter()
        .filter(|term| seen.insert(term.clone()))
        .collect()
}

/// Whether `text` reads as Chinese: Han characters are at least 30 % of its letters (and there
/// is one), so a Chinese question with English crate names in it still gets a Chinese answer.
/// Kana and Hangul count as letters but not as Chinese: Japanese or Korean is not answered in
/// Chinese.
pub fn is_chinese(text: &str) -> bool {
    let mut han = 0usize;
    let mut letters = 0usize;
    for c in text.chars() {
        if is_han(c) {
            han += 1;
            letters += 1;
        } else if c.is_alphabetic() {
            letters += 1;
        }
    }
    han > 0 && han * 100 >= letters * CHINESE_SHARE_PERCENT
}

fn push_run_terms(run: &str, kind: CharKind, terms: &mut Vec<String>) {
    match kind {
        CharKind::Separator => {}
        CharKind::Word => {
            if let Some(term) = word_term(run) {
                terms.push(term);
            }
        }
        CharKind::Cjk => push_cjk_terms(run, terms),
    }
}

/// The term of one word run, if it is worth one.
fn word_term(word: &str) -> Option<String> {
    let single_ascii_letter = word.len() == 1 && word.as_bytes()[0].is_ascii_alphabetic();
    if word.is_empty()
        || single_ascii_letter
        || ENGLISH_STOP_WORDS.contains(word)
        || word.chars().count() > MAX_TERM_CHARS
    {
        return None;
    }
    // Snowball English only knows ASCII letters; other scripts' words stay whole (a French or
    // Russian word is still found by its exact form).
    let term = if word.is_ascii() {
        ENGLISH_STEMMER.stem(word).into_owned()
    } else {
        word.to_string()
    };
    // Belt and braces: the stemmer only rewrites suffixes, but a term with anything other than
    // letters and digits would break the FTS5 and tsquery syntax the stores build.
    (!term.is_empty() && term.chars().all(char::is_alphanumeric)).then_some(term)
}

/// A one-character run gives that character; a longer run its overlapping bigrams. Chinese stop
/// words (as characters or bigrams) are left out.
fn push_cjk_terms(run: &str, terms: &mut Vec<String>) {
    let starts: Vec<usize> = run.char_indices().map(|(at, _)| at).collect();
    if starts.len() == 1 {
        if !CHINESE_STOP_WORDS.contains(run) {
            terms.push(run.to_string());
        }
        return;
    }
    for (index, &start) in starts
        .iter()
        .enumerate()
        .take(starts.len().saturating_sub(1))
    {
        let end = starts.get(index + 2).copied().unwrap_or(run.len());
        let bigram = &run[start..end];
        if !CHINESE_STOP_WORDS.contains(bigram) {
            terms.push(bigram.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stem(word: &str) -> String {
        Stemmer::create(Algorithm::English).stem(word).into_owned()
    }

    fn strings(terms: &[&str]) -> Vec<String> {
        terms.iter().map(|term| term.to_string()).collect()
    }

    #[test]
    fn english_words_are_stemmed_and_stop_words_dropped() {
        assert_eq!(
            index_terms("How do I install the packages?"),
            vec![stem("install"), stem("packages")]
        );
        // The same stem for the forms of a word: a question finds the passage.
        assert_eq!(index_terms("installing"), index_terms("installed"));
        assert_eq!(index_terms("Running"), vec![stem("running")]);
    }

    #[test]
    fn the_english_list_is_nltks() {
        assert!(ENGLISH_STOP_WORDS.contains("the"));
        assert!(ENGLISH_STOP_WORDS.contains("doesn"));
        // stopwords-iso's English list would drop these.
        for word in ["use", "system", "need", "run"] {
            assert!(!ENGLISH_STOP_WORDS.contains(word), "{word}");
        }
    }

    #[test]
    fn single_letters_go_but_digits_and_mixed_tokens_stay() {
        assert_eq!(
            index_terms("a b c 7 v2 utf8 x86"),
            vec![stem("7"), stem("v2"), stem("utf8"), stem("x86")]
        );
        assert_eq!(index_terms("Option B"), vec![stem("option")]);
    }

    #[test]
    fn chinese_runs_give_bigrams_without_stop_words() {
        assert_eq!(index_terms("安装依赖"), strings(&["安装", "装依", "依赖"]));
        // 我们 and 如何 are stop words; the bigrams across them stay.
        assert_eq!(
            index_terms("我们如何安装"),
            strings(&["们如", "何安", "安装"])
        );
        // A single character is its own term unless it is a stop word.
        assert_eq!(index_terms("装 的"), strings(&["装"]));
        assert_eq!(index_terms("的"), Vec::<String>::new());
        // Punctuation separates runs.
        assert_eq!(index_terms("依赖，安装。"), strings(&["依赖", "安装"]));
    }

    #[test]
    fn the_embedded_chinese_list_holds_only_short_han_entries() {
        assert!(CHINESE_STOP_WORDS.len() > 600);
        for word in CHINESE_STOP_WORDS.iter() {
            let length = word.chars().count();
            assert!(
                (1..=2).contains(&length) && word.chars().all(is_han),
                "{word}"
            );
        }
    }

    #[test]
    fn mixed_text_gives_words_and_bigrams() {
        let terms = index_terms("在 Rust 里怎么用 tokio");
        assert!(terms.contains(&stem("rust")), "{terms:?}");
        assert!(terms.contains(&stem("tokio")), "{terms:?}");
        assert!(terms.contains(&"里怎".to_string()), "{terms:?}");
        assert!(terms.contains(&"么用".to_string()), "{terms:?}");
        // 在 alone and the bigram 怎么 are stop words.
        assert!(!terms.contains(&"在".to_string()), "{terms:?}");
        assert!(!terms.contains(&"怎么".to_string()), "{terms:?}");
        // No space needed between scripts.
        assert_eq!(index_terms("用tokio"), vec![stem("tokio")]);
    }

    #[test]
    fn full_width_letters_are_normalised() {
        assert_eq!(
            index_terms("ＲＵＳＴ　ｃａｒｇｏ"),
            index_terms("rust cargo")
        );
        assert_eq!(index_terms("ＲＵＳＴ"), vec![stem("rust")]);
    }

    #[test]
    fn terms_hold_only_letters_and_digits() {
        let long_word = "x".repeat(500);
        let inputs = [
            "🦀 crabs 🦀🦀",
            "c++ and c#",
            "cargo build --release",
            "tokio::spawn(async move {})",
            "'quoted' \"double\" `tick`",
            "tab\tnew\nline\r\nend",
            "e\u{301}cole naïve café",
            "zero\u{200B}width and\u{00A0}nbsp",
            "日本語のテキスト・カタカナ",
            "한국어 텍스트",
            "İstanbul ǅemal ß",
            "\u{0}\u{1}\u{7f}",
            "1.2.3 v0.21.4 a-b_c",
            long_word.as_str(),
            "",
        ];
        for input in inputs {
            for term in index_terms(input) {
                assert!(!term.is_empty(), "{input:?}");
                assert!(
                    term.chars().all(char::is_alphanumeric),
                    "{input:?} gave {term:?}"
                );
                assert!(term.chars().count() <= MAX_TERM_CHARS, "{input:?}");
            }
        }
        assert_eq!(index_terms("c++"), Vec::<String>::new(), "single letter");
        assert_eq!(
            index_terms("tokio::spawn"),
            vec![stem("tokio"), stem("spawn")]
        );
        assert_eq!(index_terms("--release"), vec![stem("release")]);
        assert_eq!(index_terms("'quoted'"), vec![stem("quoted")]);
        assert!(index_terms(&long_word).is_empty());
    }

    #[test]
    fn repeats_are_kept_for_passages_and_dropped_for_questions() {
        let text = "tokio tokio spawn tokio 依赖依赖";
        assert_eq!(
            index_terms(text),
            vec![
                stem("tokio"),
                stem("tokio"),
                stem("spawn"),
                stem("tokio"),
                "依赖".to_string(),
                "赖依".to_string(),
                "依赖".to_string(),
            ]
        );
        assert_eq!(
            query_terms(text),
            vec![
                stem("tokio"),
                stem("spawn"),
                "依赖".to_string(),
                "赖依".to_string()
            ]
        );
    }

    #[test]
    fn chinese_is_detected_by_the_share_of_han_letters() {
        let cases = [
            ("怎么安装依赖？", true),
            ("在 Rust 里怎么用 tokio", true),
            ("How do I install tokio?", false),
            (
                "What does 依赖 mean in this long English sentence here",
                false,
            ),
            ("安装依赖 tokio", true),
            // 2 of 7 letters.
            ("依赖 tokio", false),
            ("12345 !!!", false),
            ("", false),
            ("ひらがなとカタカナ", false),
            ("한국어", false),
        ];
        for (text, expected) in cases {
            assert_eq!(is_chinese(text), expected, "{text:?}");
        }
    }
}
