//! The step machine of one session: which screen comes next, what each event may do.
//!
//! A [`Flow`] is a plain value (serialisable, so the SPA can persist it); [`transition`] computes
//! the next one or says why the event is refused. Nothing here panics on any event or on a
//! deserialised (possibly tampered) flow; the server still re-checks every country/type it is
//! sent with [`crate::policy::check_choice`].
//!
//! Steps, in order: consent → email (only when the link gave none and the project asks) →
//! country (skipped when the link selected one) → ID type (skipped when selected) → document
//! front → document back (only when [`sides`] says so for the type) → selfie → liveness →
//! finish (review and submit) → result.
//!
//! Rules:
//! * Events act on the current step only: choices at their step, captures at their slot's step,
//!   [`Event::Submit`] at finish. A recorded choice or capture moves to the next step.
//! * [`Event::Back`] goes to the previous step and never forgets anything; [`Event::Next`] moves
//!   forward again from a step that is already complete. Back from the first step is an error.
//! * Choosing the same country or type again keeps everything. A *different* country clears the
//!   ID type and the document captures (front and back); a different type clears the document
//!   captures. Selfie and liveness captures, consent and e-mail are never cleared by a choice.
//! * Until a type is known, the document-back step is listed when any type still possible (for
//!   the chosen country, or in the whole offer) has a back side; once a type is chosen, exactly
//!   when that type has one.
//! * [`Event::Retake`] clears one capture and returns to its step; only for a captured slot whose
//!   step is at or before the current one.
//! * [`Event::Submit`] at finish with every step complete starts the submission; until
//!   [`Event::Submitted`] (→ result) or [`Event::SubmitFailed`] (→ finish again, everything kept)
//!   every other event is refused. The result step is final: every event is refused there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::country::Alpha3;
use crate::id_type::IdType;
use crate::policy::{check_choice, sides, Offer, PolicyError, PolicyErrorKind, Sides};

/// One screen of the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Consent,
    Email,
    Country,
    IdType,
    DocumentFront,
    DocumentBack,
    Selfie,
    Liveness,
    Finish,
    Result,
}

impl Step {
    /// Every step, in flow order.
    pub const ALL: [Step; 10] = [
        Step::Consent,
        Step::Email,
        Step::Country,
        Step::IdType,
        Step::DocumentFront,
        Step::DocumentBack,
        Step::Selfie,
        Step::Liveness,
        Step::Finish,
        Step::Result,
    ];

    /// The capture slot of a capture step.
    pub fn slot(self) -> Option<CaptureSlot> {
        CaptureSlot::ALL.into_iter().find(|s| s.step() == self)
    }
}

/// What a capture is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureSlot {
    DocumentFront,
    DocumentBack,
    Selfie,
    Liveness,
}

impl CaptureSlot {
    /// Every slot, in flow order.
    pub const ALL: [CaptureSlot; 4] = [
        CaptureSlot::DocumentFront,
        CaptureSlot::DocumentBack,
        CaptureSlot::Selfie,
        CaptureSlot::Liveness,
    ];

    /// The step that captures this slot.
    pub fn step(self) -> Step {
        match self {
            CaptureSlot::DocumentFront => Step::DocumentFront,
            CaptureSlot::DocumentBack => Step::DocumentBack,
            CaptureSlot::Selfie => Step::Selfie,
            CaptureSlot::Liveness => Step::Liveness,
        }
    }

    /// Whether this is an image of the ID document (depends on the country and type).
    pub fn is_document(self) -> bool {
        matches!(self, CaptureSlot::DocumentFront | CaptureSlot::DocumentBack)
    }

    /// The slot's name in the API, the database and storage keys (`document_front`, …; the
    /// same as its serde name).
    pub fn name(self) -> &'static str {
        match self {
            CaptureSlot::DocumentFront => "document_front",
            CaptureSlot::DocumentBack => "document_back",
            CaptureSlot::Selfie => "selfie",
            CaptureSlot::Liveness => "liveness",
        }
    }

    /// The slot named `name` ([`CaptureSlot::name`]).
    pub fn from_name(name: &str) -> Option<CaptureSlot> {
        CaptureSlot::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Something the person (or the server's answer) does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Consent given (consent step).
    AcceptConsent,
    /// E-mail typed (email step); surrounding whitespace is trimmed.
    EnterEmail(String),
    /// Issuing country chosen (country step).
    ChooseCountry(Alpha3),
    /// ID type chosen (ID-type step).
    ChooseIdType(IdType),
    /// A capture was stored (at the slot's step); `capture_id` is the server's reference.
    Captured {
        slot: CaptureSlot,
        capture_id: String,
    },
    /// Drop a capture and return to its step.
    Retake(CaptureSlot),
    /// Move on from a step that is already complete (after [`Event::Back`]).
    Next,
    /// Go to the previous step.
    Back,
    /// Send the submission (finish step).
    Submit,
    /// The server accepted the submission.
    Submitted { submission_id: String },
    /// The submission failed; the person may try again.
    SubmitFailed,
}

impl Event {
    /// The variant's name, for errors and logs (no payload: e-mails stay out of logs).
    pub fn name(&self) -> &'static str {
        match self {
            Event::AcceptConsent => "AcceptConsent",
            Event::EnterEmail(_) => "EnterEmail",
            Event::ChooseCountry(_) => "ChooseCountry",
            Event::ChooseIdType(_) => "ChooseIdType",
            Event::Captured { .. } => "Captured",
            Event::Retake(_) => "Retake",
            Event::Next => "Next",
            Event::Back => "Back",
            Event::Submit => "Submit",
            Event::Submitted { .. } => "Submitted",
            Event::SubmitFailed => "SubmitFailed",
        }
    }
}

/// What shapes a session's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FlowConfig {
    /// The project asks for an e-mail when the link gives none.
    pub ask_email: bool,
    /// The link gave an e-mail.
    pub email_given: bool,
    /// The link's `selectedIssuingCountry` (skips the country step).
    pub selected_country: Option<Alpha3>,
    /// The link's `selectedIdType` (skips the ID-type step; needs `selected_country`).
    pub selected_id_type: Option<IdType>,
    /// The project checks liveness on the selfie only (`[[project]] active_liveness = false`):
    /// no active-liveness step.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub passive_liveness: bool,
}

impl FlowConfig {
    /// A config taking its selection from the offer.
    pub fn for_offer(ask_email: bool, email_given: bool, offer: &Offer) -> FlowConfig {
        FlowConfig {
            ask_email,
            email_given,
            selected_country: offer.selected_country,
            selected_id_type: offer.selected_id_type,
            passive_liveness: false,
        }
    }
}

/// A refused event (or flow).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// The event does not belong to the current step.
    #[error("{event} is not possible at step {step:?}")]
    WrongStep { step: Step, event: &'static str },
    /// Back from the first step.
    #[error("already at the first step")]
    AtFirstStep,
    /// Next (or Submit) while a step is not complete.
    #[error("step {0:?} is not complete")]
    Incomplete(Step),
    /// A submission is in progress: only its answer is accepted.
    #[error("a submission is in progress")]
    Submitting,
    /// Submitted / SubmitFailed without a submission in progress.
    #[error("no submission is in progress")]
    NotSubmitting,
    /// The flow reached its result: nothing more happens.
    #[error("the flow is finished")]
    Finished,
    /// The slot has no capture, or its step is not reached yet.
    #[error("{0:?} has no capture to retake")]
    CannotRetake(CaptureSlot),
    /// Not an e-mail address.
    #[error("not an e-mail address")]
    InvalidEmail,
    /// A capture or submission id that is not 1-128 visible ASCII characters.
    #[error("an id must be 1-128 visible ASCII characters")]
    InvalidId,
    /// The country or type is not offered.
    #[error(transparent)]
    NotOffered(#[from] PolicyError),
    /// A (deserialised) flow whose fields contradict each other.
    #[error("the flow's state is inconsistent")]
    Inconsistent,
}

impl FlowError {
    /// The refusal's name, for logs where the formatted message would cost the first screen
    /// its formatting code (`wrong_step`, `incomplete`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            FlowError::WrongStep { .. } => "wrong_step",
            FlowError::AtFirstStep => "at_first_step",
            FlowError::Incomplete(_) => "incomplete",
            FlowError::Submitting => "submitting",
            FlowError::NotSubmitting => "not_submitting",
            FlowError::Finished => "finished",
            FlowError::CannotRetake(_) => "cannot_retake",
            FlowError::InvalidEmail => "invalid_email",
            FlowError::InvalidId => "invalid_id",
            FlowError::NotOffered(_) => "not_offered",
            FlowError::Inconsistent => "inconsistent",
        }
    }
}

/// One session's progress through the steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    config: FlowConfig,
    offer: Offer,
    steps: Vec<Step>,
    current: Step,
    consent: bool,
    email: Option<String>,
    country: Option<Alpha3>,
    id_type: Option<IdType>,
    captures: BTreeMap<CaptureSlot, String>,
    submitting: bool,
    submission_id: Option<String>,
}

impl Flow {
    /// A new flow at its first step. The selection must be offered (and a type needs a country).
    pub fn new(config: FlowConfig, offer: Offer) -> Result<Flow, FlowError> {
        match (config.selected_country, config.selected_id_type) {
            (Some(c), t) => check_choice(&offer, c, t)?,
            (None, Some(_)) => {
                return Err(PolicyError {
                    kind: PolicyErrorKind::IdTypeNotOffered,
                    detail: "a selected ID type needs a selected country".into(),
                }
                .into())
            }
            (None, None) if offer.id_types.is_empty() => {
                return Err(PolicyError {
                    kind: PolicyErrorKind::NothingOffered,
                    detail: "the offer is empty".into(),
                }
                .into())
            }
            (None, None) => {}
        }
        let mut flow = Flow {
            config,
            offer,
            steps: Vec::new(),
            current: Step::Consent,
            consent: false,
            email: None,
            country: config.selected_country,
            id_type: config.selected_id_type,
            captures: BTreeMap::new(),
            submitting: false,
            submission_id: None,
        };
        flow.steps = flow.compute_steps();
        Ok(flow)
    }

    /// The current step.
    pub fn current(&self) -> Step {
        self.current
    }

    /// This session's steps, in order (may change when the country or type is chosen).
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// `(position, total)`: the 1-based position of the current step among [`Flow::steps`]
    /// (the result step counts), for a progress indicator.
    pub fn progress(&self) -> (usize, usize) {
        let pos = self.index().map_or(0, |i| i + 1);
        (pos, self.steps.len())
    }

    /// The config the flow was made with.
    pub fn config(&self) -> &FlowConfig {
        &self.config
    }

    /// What the session offers.
    pub fn offer(&self) -> &Offer {
        &self.offer
    }

    /// Whether consent was given.
    pub fn consent_given(&self) -> bool {
        self.consent
    }

    /// The e-mail entered in the flow (not the link's).
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The chosen (or selected) issuing country.
    pub fn country(&self) -> Option<Alpha3> {
        self.country
    }

    /// The chosen (or selected) ID type.
    pub fn id_type(&self) -> Option<IdType> {
        self.id_type
    }

    /// The sides of the chosen type.
    pub fn sides(&self) -> Option<Sides> {
        self.id_type.map(sides)
    }

    /// One slot's capture id.
    pub fn capture(&self, slot: CaptureSlot) -> Option<&str> {
        self.captures.get(&slot).map(String::as_str)
    }

    /// Every capture, by slot.
    pub fn captures(&self) -> &BTreeMap<CaptureSlot, String> {
        &self.captures
    }

    /// Whether a submission is in progress.
    pub fn is_submitting(&self) -> bool {
        self.submitting
    }

    /// The accepted submission's id (at the result step).
    pub fn submission_id(&self) -> Option<&str> {
        self.submission_id.as_deref()
    }

    /// The first step before finish that is not complete (`None`: ready to submit).
    pub fn first_incomplete(&self) -> Option<Step> {
        self.steps
            .iter()
            .copied()
            .take_while(|s| *s != Step::Finish)
            .find(|s| !self.is_complete(*s))
    }

    /// The flow after a reload, agreed with what the server holds (the server wins): `stored`
    /// is the server's captures (slot, capture id; for a slot with several, the last counts),
    /// `finished` the submission id when the server says the submission is finished.
    ///
    /// A capture the flow remembers but the server lacks is dropped; one the server has is
    /// recorded. A flow at a capture step or finish goes to the first step still to do (no
    /// capture is taken twice, none is skipped); one before the captures stays. A submission cut off by the reload is no longer in progress (a
    /// finish can be sent again); a finished one goes to the result.
    pub fn reconcile(&self, stored: &[(CaptureSlot, &str)], finished: Option<&str>) -> Flow {
        let mut f = self.clone();
        f.submitting = false;
        if let Some(id) = finished.and_then(|s| valid_id(s.to_owned()).ok()) {
            if f.steps.contains(&Step::Result) {
                f.submission_id = Some(id);
                f.current = Step::Result;
                return f;
            }
        }
        if f.current == Step::Result {
            return f;
        }
        f.captures.clear();
        for (slot, id) in stored {
            if f.steps.contains(&slot.step()) {
                if let Ok(id) = valid_id((*id).to_owned()) {
                    f.captures.insert(*slot, id);
                }
            }
        }
        let first = f.first_incomplete();
        if f.current.slot().is_some() || f.current == Step::Finish {
            // From a capture step or finish: to the first step still to do (finish when none).
            f.current = first.unwrap_or(Step::Finish);
        } else if let (Some(first), Some(here)) = (first, f.index()) {
            if f.steps
                .iter()
                .position(|s| *s == first)
                .is_some_and(|i| i < here)
            {
                f.current = first;
            }
        }
        f
    }

    fn is_complete(&self, step: Step) -> bool {
        match step {
            Step::Consent => self.consent,
            Step::Email => self.email.is_some(),
            Step::Country => self.country.is_some(),
            Step::IdType => self.id_type.is_some(),
            Step::DocumentFront | Step::DocumentBack | Step::Selfie | Step::Liveness => step
                .slot()
                .is_some_and(|slot| self.captures.contains_key(&slot)),
            Step::Finish => self.submission_id.is_some(),
            Step::Result => true,
        }
    }

    fn needs_back(&self) -> bool {
        match (self.id_type, self.country) {
            (Some(t), _) => sides(t).needs_back(),
            (None, Some(c)) => self
                .offer
                .types_for(c)
                .iter()
                .any(|t| sides(*t).needs_back()),
            (None, None) => self
                .offer
                .id_types
                .values()
                .flatten()
                .any(|t| sides(*t).needs_back()),
        }
    }

    fn compute_steps(&self) -> Vec<Step> {
        let c = &self.config;
        Step::ALL
            .into_iter()
            .filter(|s| match s {
                Step::Email => c.ask_email && !c.email_given,
                Step::Country => c.selected_country.is_none(),
                Step::IdType => c.selected_id_type.is_none(),
                Step::DocumentBack => self.needs_back(),
                Step::Liveness => !c.passive_liveness,
                _ => true,
            })
            .collect()
    }

    fn index(&self) -> Option<usize> {
        self.steps.iter().position(|s| *s == self.current)
    }

    fn index_of(&self, step: Step) -> Result<usize, FlowError> {
        self.steps
            .iter()
            .position(|s| *s == step)
            .ok_or(FlowError::Inconsistent)
    }

    fn advance(&mut self) -> Result<(), FlowError> {
        let i = self.index_of(self.current)?;
        self.current = self
            .steps
            .get(i + 1)
            .copied()
            .ok_or(FlowError::Inconsistent)?;
        Ok(())
    }

    fn clear_documents(&mut self) {
        self.captures.retain(|slot, _| !slot.is_document());
    }

    fn apply(&mut self, event: Event) -> Result<(), FlowError> {
        if self.current == Step::Result {
            return Err(FlowError::Finished);
        }
        if self.submitting {
            return match event {
                Event::Submitted { submission_id } => {
                    self.submission_id = Some(valid_id(submission_id)?);
                    self.submitting = false;
                    self.current = Step::Result;
                    Ok(())
                }
                Event::SubmitFailed => {
                    self.submitting = false;
                    Ok(())
                }
                _ => Err(FlowError::Submitting),
            };
        }
        let here = self.current;
        match event {
            Event::Submitted { .. } | Event::SubmitFailed => Err(FlowError::NotSubmitting),
            Event::Back => match self.index_of(here)? {
                0 => Err(FlowError::AtFirstStep),
                i => {
                    self.current = self
                        .steps
                        .get(i - 1)
                        .copied()
                        .ok_or(FlowError::Inconsistent)?;
                    Ok(())
                }
            },
            Event::Next if here != Step::Finish => {
                if self.is_complete(here) {
                    self.advance()
                } else {
                    Err(FlowError::Incomplete(here))
                }
            }
            Event::AcceptConsent if here == Step::Consent => {
                self.consent = true;
                self.advance()
            }
            Event::EnterEmail(e) if here == Step::Email => {
                let e = e.trim();
                if !is_valid_email(e) {
                    return Err(FlowError::InvalidEmail);
                }
                self.email = Some(e.to_owned());
                self.advance()
            }
            Event::ChooseCountry(c) if here == Step::Country => {
                check_choice(&self.offer, c, None)?;
                if self.country != Some(c) {
                    self.country = Some(c);
                    self.id_type = self.config.selected_id_type;
                    self.clear_documents();
                    self.steps = self.compute_steps();
                }
                self.advance()
            }
            Event::ChooseIdType(t) if here == Step::IdType => {
                let c = self.country.ok_or(FlowError::Inconsistent)?;
                check_choice(&self.offer, c, Some(t))?;
                if self.id_type != Some(t) {
                    self.id_type = Some(t);
                    self.clear_documents();
                    self.steps = self.compute_steps();
                }
                self.advance()
            }
            Event::Captured { slot, capture_id } if here == slot.step() => {
                self.captures.insert(slot, valid_id(capture_id)?);
                self.advance()
            }
            Event::Retake(slot) => {
                let reached = self
                    .steps
                    .iter()
                    .position(|s| *s == slot.step())
                    .is_some_and(|i| i <= self.index().unwrap_or(0));
                if reached && self.captures.remove(&slot).is_some() {
                    self.current = slot.step();
                    Ok(())
                } else {
                    Err(FlowError::CannotRetake(slot))
                }
            }
            Event::Submit if here == Step::Finish => match self.first_incomplete() {
                Some(step) => Err(FlowError::Incomplete(step)),
                None => {
                    self.submitting = true;
                    Ok(())
                }
            },
            other => Err(FlowError::WrongStep {
                step: here,
                event: other.name(),
            }),
        }
    }
}

/// Applies `event` to `flow`: the next flow, or why the event is refused (`flow` is unchanged).
pub fn transition(flow: &Flow, event: Event) -> Result<Flow, FlowError> {
    let mut next = flow.clone();
    next.apply(event)?;
    Ok(next)
}

/// 1-128 visible ASCII characters (capture and submission ids).
fn valid_id(id: String) -> Result<String, FlowError> {
    if (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(id)
    } else {
        Err(FlowError::InvalidId)
    }
}

/// The same e-mail rule as links use.
pub use crate::launch::is_valid_email;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_are_their_serde_names() {
        for slot in CaptureSlot::ALL {
            let serde = serde_json::to_string(&slot).unwrap();
            assert_eq!(serde, format!("\"{}\"", slot.name()));
            assert_eq!(CaptureSlot::from_name(slot.name()), Some(slot));
        }
        assert_eq!(CaptureSlot::from_name("passport"), None);
    }

    #[test]
    fn email_rule_matches_launch() {
        for ok in ["a@b.co", "first.last+tag@example.com"] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.b.co", "a@b.co.", "a@b..co", "a b@c.de", "a@b@c.de",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
        assert!(!is_valid_email(&format!("{}@b.co", "x".repeat(65))));
    }

    #[test]
    fn step_slots() {
        for slot in CaptureSlot::ALL {
            assert_eq!(slot.step().slot(), Some(slot));
        }
        assert_eq!(Step::Finish.slot(), None);
    }

    #[test]
    fn ids_are_checked() {
        assert!(valid_id("cap-1".into()).is_ok());
        assert_eq!(valid_id(String::new()), Err(FlowError::InvalidId));
        assert_eq!(valid_id("a b".into()), Err(FlowError::InvalidId));
        assert_eq!(valid_id("x".repeat(129)), Err(FlowError::InvalidId));
    }
}
