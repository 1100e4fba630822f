//! How many threads an in-process engine uses, read the same way by the llama.cpp backend and
//! by `steward bench --prompts` (which reports it). Always compiled: the benchmark exists in
//! every build, with or without the `llamacpp` feature.

/// `RAYON_NUM_THREADS` when set (the variable both in-process engines read, so one setting
/// limits either), else every core the process may use.
pub fn default_threads() -> usize {
    threads_from(std::env::var("RAYON_NUM_THREADS").ok().as_deref()).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

/// The thread count `RAYON_NUM_THREADS` asks for: a positive number, surrounding spaces
/// allowed; anything else (unset, empty, 0, not a number) leaves the choice to the cores.
fn threads_from(variable: Option<&str>) -> Option<usize> {
    variable
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|threads| *threads > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rayon_num_threads_is_read_when_it_is_a_positive_number() {
        let cases = [
            (None, None),
            (Some(""), None),
            (Some("0"), None),
            (Some("-2"), None),
            (Some("four"), None),
            (Some("4"), Some(4)),
            (Some(" 3 "), Some(3)),
        ];
        for (variable, expected) in cases {
            assert_eq!(threads_from(variable), expected, "{variable:?}");
        }
    }

    #[test]
    fn default_threads_is_at_least_one() {
        assert!(default_threads() >= 1);
    }
}
