//! The pool's two pure decisions: one server's circuit breaker (in or out), and which server
//! takes the next request (the least loaded for its weight).

/// What a recorded result changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Unchanged,
    /// The server was taken out: requests skip it until a probe succeeds.
    WentOut,
    /// The server is back in use.
    CameBack,
}

/// Counts consecutive failures of one server; `threshold` of them take it out, one success
/// puts it back.
#[derive(Debug, Clone)]
pub(crate) struct Breaker {
    threshold: u32,
    failures: u32,
    out: bool,
}

impl Breaker {
    pub fn new(threshold: u32) -> Self {
        Self {
            threshold: threshold.max(1),
            failures: 0,
            out: false,
        }
    }

    pub fn is_out(&self) -> bool {
        self.out
    }

    pub fn success(&mut self) -> Transition {
        self.failures = 0;
        if self.out {
            self.out = false;
            Transition::CameBack
        } else {
            Transition::Unchanged
        }
    }

    /// A health probe answered well: puts an out server back, but leaves the count of a
    /// server in use alone (its requests decide whether it works; `/models` may answer while
    /// generation fails).
    pub fn probe_succeeded(&mut self) -> Transition {
        if self.out {
            self.success()
        } else {
            Transition::Unchanged
        }
    }

    pub fn failure(&mut self) -> Transition {
        self.failures = self.failures.saturating_add(1);
        if !self.out && self.failures >= self.threshold {
            self.out = true;
            Transition::WentOut
        } else {
            Transition::Unchanged
        }
    }

    /// Out at once: the server answers but can never serve this config (its model is not
    /// served), so waiting for more failures would only fail more requests.
    pub fn take_out(&mut self) -> Transition {
        self.failures = self.failures.max(self.threshold);
        if self.out {
            Transition::Unchanged
        } else {
            self.out = true;
            Transition::WentOut
        }
    }
}

/// One server's load as the choice sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Load {
    /// In use and not yet tried by this request.
    pub usable: bool,
    pub in_flight: usize,
    pub weight: u32,
    pub max_concurrent: usize,
}

/// The usable server with the lowest `in_flight / weight`, preferring those below their
/// `max_concurrent`; when every usable one is at its limit, still the least loaded (the
/// scheduler in front bounds the total). Ties go to the first in config order.
pub(crate) fn choose(loads: &[Load]) -> Option<usize> {
    // a/wa < b/wb without division: a*wb < b*wa.
    let lighter = |a: &Load, b: &Load| {
        (a.in_flight as u64) * u64::from(b.weight.max(1))
            < (b.in_flight as u64) * u64::from(a.weight.max(1))
    };
    let best = |need_room: bool| {
        let mut best: Option<usize> = None;
        for (index, load) in loads.iter().enumerate() {
            if !load.usable || (need_room && load.in_flight >= load.max_concurrent) {
                continue;
            }
            if best.is_none_or(|b| lighter(load, &loads[b])) {
                best = Some(index);
            }
        }
        best
    };
    best(true).or_else(|| best(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(in_flight: usize, weight: u32, max_concurrent: usize) -> Load {
        Load {
            usable: true,
            in_flight,
            weight,
            max_concurrent,
        }
    }

    #[test]
    fn the_least_loaded_for_its_weight_wins() {
        let unusable = Load {
            usable: false,
            ..load(0, 1, 4)
        };
        // (loads, expected choice)
        let cases: Vec<(Vec<Load>, Option<usize>)> = vec![
            (vec![], None),
            (vec![load(0, 1, 4), load(0, 1, 4)], Some(0)),
            (vec![load(1, 1, 4), load(0, 1, 4)], Some(1)),
            // Weight 2 carries twice the load before it looks as busy.
            (vec![load(1, 1, 4), load(1, 2, 4)], Some(1)),
            (vec![load(1, 1, 4), load(2, 2, 4)], Some(0)),
            (vec![load(2, 1, 4), load(3, 2, 4)], Some(1)),
            // At its limit: skipped while another has room, even a busier one per weight.
            (vec![load(1, 4, 1), load(2, 1, 4)], Some(1)),
            // All at their limit: the least loaded anyway.
            (vec![load(3, 1, 3), load(2, 1, 2)], Some(1)),
            (vec![unusable, load(5, 1, 4)], Some(1)),
            (vec![unusable, unusable], None),
        ];
        for (loads, expected) in cases {
            assert_eq!(choose(&loads), expected, "{loads:?}");
        }
    }

    #[test]
    fn breaker_transitions() {
        let mut breaker = Breaker::new(3);
        assert_eq!(breaker.failure(), Transition::Unchanged);
        assert_eq!(breaker.failure(), Transition::Unchanged);
        // A success in between starts the count again.
        assert_eq!(breaker.success(), Transition::Unchanged);
        assert_eq!(breaker.failure(), Transition::Unchanged);
        assert_eq!(breaker.failure(), Transition::Unchanged);
        assert!(!breaker.is_out());
        assert_eq!(breaker.failure(), Transition::WentOut);
        assert!(breaker.is_out());
        assert_eq!(breaker.failure(), Transition::Unchanged);
        assert_eq!(breaker.success(), Transition::CameBack);
        assert!(!breaker.is_out());

        assert_eq!(breaker.take_out(), Transition::WentOut);
        assert_eq!(breaker.take_out(), Transition::Unchanged);
        assert_eq!(breaker.success(), Transition::CameBack);

        // Probes put a server back but do not reset the count of one in use.
        let mut probed = Breaker::new(2);
        assert_eq!(probed.failure(), Transition::Unchanged);
        assert_eq!(probed.probe_succeeded(), Transition::Unchanged);
        assert_eq!(probed.failure(), Transition::WentOut);
        assert_eq!(probed.probe_succeeded(), Transition::CameBack);
        assert_eq!(probed.failure(), Transition::Unchanged);

        let mut zero = Breaker::new(0);
        assert_eq!(
            zero.failure(),
            Transition::WentOut,
            "a threshold of 0 acts as 1"
        );
    }
}
