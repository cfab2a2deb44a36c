//! The session's idle clock as the SPA keeps it (WCAG 2.2.1, timing adjustable): the server ends
//! a session after `session_idle_minutes` without a request; the person is warned before that and
//! can ask for more time (any request restarts the server's clock). Pure, so the rule is tested
//! natively; the app module's `IdleWarning` runs it every second.

/// The warning comes this long before the end (or at half the idle time, when that is shorter).
pub const WARN_BEFORE_SECS: i64 = 120;
/// Taken off what the SPA counts: its clock starts at a response, the server's at the request.
pub const MARGIN_SECS: i64 = 5;

/// Where the session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// Nothing to say.
    Active,
    /// It ends in `left` seconds unless something reaches the server.
    Warning { left: i64 },
    /// It has ended (the next request is answered with the session-expired page).
    Ended,
}

/// The state at `now_ms` for a session whose last answer from the server came at `contact_ms`
/// (both milliseconds of the same clock) and which ends after `idle_secs` without a request. An
/// unknown idle time (0) never warns.
pub fn idle_state(now_ms: f64, contact_ms: f64, idle_secs: i64) -> Idle {
    if idle_secs <= 0 || !now_ms.is_finite() || !contact_ms.is_finite() {
        return Idle::Active;
    }
    let elapsed = ((now_ms - contact_ms).max(0.0) / 1000.0).floor() as i64;
    let left = idle_secs - MARGIN_SECS - elapsed;
    let warn = WARN_BEFORE_SECS.min(idle_secs / 2);
    if left <= 0 {
        Idle::Ended
    } else if left <= warn {
        Idle::Warning { left }
    } else {
        Idle::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_two_minutes_before_the_end_then_ends() {
        let idle = 15 * 60;
        let t0 = 1_000_000.0;
        let at = |s: f64| idle_state(t0 + s * 1000.0, t0, idle);
        assert_eq!(at(0.0), Idle::Active);
        assert_eq!(at(774.0), Idle::Active, "more than 2 min left");
        assert_eq!(at(775.0), Idle::Warning { left: 120 });
        assert_eq!(at(894.0), Idle::Warning { left: 1 });
        assert_eq!(at(895.0), Idle::Ended, "5 s of margin");
        assert_eq!(at(5000.0), Idle::Ended);
    }

    #[test]
    fn short_idle_times_warn_at_half_and_odd_clocks_never_panic() {
        let t0 = 0.0;
        assert_eq!(idle_state(24_000.0, t0, 60), Idle::Active);
        assert_eq!(idle_state(25_000.0, t0, 60), Idle::Warning { left: 30 });
        assert_eq!(
            idle_state(t0, 5_000.0, 60),
            Idle::Active,
            "a clock that went back"
        );
        assert_eq!(idle_state(f64::NAN, t0, 60), Idle::Active);
        assert_eq!(idle_state(1e18, t0, 0), Idle::Active, "no idle time known");
    }
}
