//! `core::flow`: every reachable state × every event (table-driven), and scenarios.

use std::collections::{BTreeSet, HashSet, VecDeque};

use liveform_core::flow::{transition, CaptureSlot, Event, Flow, FlowConfig, FlowError, Step};
use liveform_core::policy::{offer, Offer, PolicyErrorKind, PolicyInput, SupportTable};
use liveform_core::{Alpha3, IdType};

fn c(s: &str) -> Alpha3 {
    Alpha3::parse(s).unwrap()
}

fn make_offer(input: PolicyInput<'_>) -> Offer {
    offer(SupportTable::builtin().unwrap(), &input).unwrap()
}

const ALLOWED: [&str; 3] = ["IND", "KOR", "USA"];

fn allowed() -> Vec<Alpha3> {
    ALLOWED.iter().map(|s| c(s)).collect()
}

/// One configuration of the table: the flow and the concrete values its events use.
struct Setup {
    flow: Flow,
    ok_country: Alpha3,
    bad_country: Alpha3,
    ok_type: IdType,
    bad_type: IdType,
}

/// A: the project asks for an e-mail, the link selects nothing (USA / drivers_license: two sides).
fn setup_a() -> Setup {
    let countries = allowed();
    let o = make_offer(PolicyInput {
        allowed_countries: Some(&countries),
        ..Default::default()
    });
    let cfg = FlowConfig::for_offer(true, false, &o);
    Setup {
        flow: Flow::new(cfg, o).unwrap(),
        ok_country: c("USA"),
        bad_country: c("JPN"),
        ok_type: IdType::DriversLicense,
        bad_type: IdType::Aadhaar,
    }
}

/// B: e-mail in the link, country and type selected (USA / passport: front only).
fn setup_b() -> Setup {
    let o = make_offer(PolicyInput {
        selected_country: Some(c("USA")),
        selected_id_type: Some(IdType::Passport),
        ..Default::default()
    });
    let cfg = FlowConfig::for_offer(true, true, &o);
    Setup {
        flow: Flow::new(cfg, o).unwrap(),
        ok_country: c("USA"),
        bad_country: c("KOR"),
        ok_type: IdType::Passport,
        bad_type: IdType::Visa,
    }
}

/// C: no e-mail asked, only the country selected (KOR / passport).
fn setup_c() -> Setup {
    let o = make_offer(PolicyInput {
        selected_country: Some(c("KOR")),
        ..Default::default()
    });
    let cfg = FlowConfig::for_offer(false, false, &o);
    Setup {
        flow: Flow::new(cfg, o).unwrap(),
        ok_country: c("KOR"),
        bad_country: c("USA"),
        ok_type: IdType::Passport,
        bad_type: IdType::Visa,
    }
}

fn cap(slot: CaptureSlot) -> Event {
    Event::Captured {
        slot,
        capture_id: format!("cap-{slot:?}"),
    }
}

/// The table's columns, in order.
const COLUMNS: [&str; 20] = [
    "Acc", "Em", "Em!", "Cty", "Cty!", "Typ", "Typ!", "CapF", "CapB", "CapS", "CapL", "RtF", "RtB",
    "RtS", "RtL", "Next", "Back", "Sub", "Subd", "Fail",
];

fn events(s: &Setup) -> [Event; 20] {
    use CaptureSlot::*;
    [
        Event::AcceptConsent,
        Event::EnterEmail("person@example.com".into()),
        Event::EnterEmail("not-an-email".into()),
        Event::ChooseCountry(s.ok_country),
        Event::ChooseCountry(s.bad_country),
        Event::ChooseIdType(s.ok_type),
        Event::ChooseIdType(s.bad_type),
        cap(DocumentFront),
        cap(DocumentBack),
        cap(Selfie),
        cap(Liveness),
        Event::Retake(DocumentFront),
        Event::Retake(DocumentBack),
        Event::Retake(Selfie),
        Event::Retake(Liveness),
        Event::Next,
        Event::Back,
        Event::Submit,
        Event::Submitted {
            submission_id: "sub-1".into(),
        },
        Event::SubmitFailed,
    ]
}

fn step_name(s: Step) -> &'static str {
    match s {
        Step::Consent => "consent",
        Step::Email => "email",
        Step::Country => "country",
        Step::IdType => "idtype",
        Step::DocumentFront => "front",
        Step::DocumentBack => "back",
        Step::Selfie => "selfie",
        Step::Liveness => "liveness",
        Step::Finish => "finish",
        Step::Result => "result",
    }
}

fn state_name(f: &Flow) -> String {
    let sub = if f.is_submitting() { "+sub" } else { "" };
    format!("{}{sub}", step_name(f.current()))
}

/// Ok → the new state's name; errors → one upper-case letter.
fn outcome(r: &Result<Flow, FlowError>) -> String {
    match r {
        Ok(f) => state_name(f),
        Err(e) => match e {
            FlowError::WrongStep { .. } => "W",
            FlowError::AtFirstStep => "F",
            FlowError::Incomplete(_) => "I",
            FlowError::Submitting => "S",
            FlowError::NotSubmitting => "N",
            FlowError::Finished => "X",
            FlowError::CannotRetake(_) => "R",
            FlowError::InvalidEmail => "E",
            FlowError::InvalidId => "D",
            FlowError::NotOffered(_) => "O",
            FlowError::Inconsistent => "C",
        }
        .to_owned(),
    }
}

/// Column index by name (for the paths that build each row's state).
fn ev(s: &Setup, name: &str) -> Event {
    let i = COLUMNS.iter().position(|c| *c == name).unwrap();
    events(s)[i].clone()
}

/// Runs the table: each row is `label: path -> 20 expected outcomes`; the path (column names)
/// builds the row's state from the setup's fresh flow.
fn run_table(setup: &Setup, table: &str) -> BTreeSet<String> {
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (head, expected) = line.split_once("->").unwrap();
        let (label, path) = head.split_once(':').unwrap();
        let mut flow = setup.flow.clone();
        for step in path.split_whitespace() {
            flow = transition(&flow, ev(setup, step))
                .unwrap_or_else(|e| panic!("{label}: path step {step}: {e}"));
        }
        let base = label.trim().split('(').next().unwrap().to_owned();
        assert_eq!(state_name(&flow), base, "row {label} starts elsewhere");
        covered.insert(base);
        let expected: Vec<&str> = expected.split_whitespace().collect();
        assert_eq!(expected.len(), COLUMNS.len(), "row {label}");
        for ((col, event), want) in COLUMNS.iter().zip(events(setup)).zip(expected) {
            let got = outcome(&transition(&flow, event));
            if got != want {
                failures.push(format!("{label} × {col}: expected {want}, got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    covered
}

/// Every state name reachable from the fresh flow with the setup's events.
fn reachable(setup: &Setup) -> BTreeSet<String> {
    let mut seen = HashSet::new();
    let mut names = BTreeSet::new();
    let mut queue = VecDeque::from([setup.flow.clone()]);
    while let Some(f) = queue.pop_front() {
        if !seen.insert(serde_json::to_string(&f).unwrap()) {
            continue;
        }
        names.insert(state_name(&f));
        for e in events(setup) {
            if let Ok(next) = transition(&f, e) {
                queue.push_back(next);
            }
        }
        assert!(seen.len() < 100_000, "state space unexpectedly large");
    }
    names
}

// Columns: Acc Em Em! Cty Cty! Typ Typ! CapF CapB CapS CapL RtF RtB RtS RtL Next Back Sub Subd Fail
const TO_FINISH_A: &str = "Acc Em Cty Typ CapF CapB CapS CapL";

#[test]
fn table_a_email_no_selection_two_sides() {
    let s = setup_a();
    let table = format!(
        "
consent:  -> email W W W W W W W W W W R R R R I F W N N
email: Acc -> W country E W W W W W W W W R R R R I consent W N N
country: Acc Em -> W W W idtype O W W W W W W R R R R I email W N N
idtype: Acc Em Cty -> W W W W W front O W W W W R R R R I country W N N
front: Acc Em Cty Typ -> W W W W W W W back W W W R R R R I idtype W N N
back: Acc Em Cty Typ CapF -> W W W W W W W W selfie W W front R R R I front W N N
selfie: Acc Em Cty Typ CapF CapB -> W W W W W W W W W liveness W front back R R I back W N N
liveness: Acc Em Cty Typ CapF CapB CapS -> W W W W W W W W W W finish front back selfie R I selfie W N N
finish: {TO_FINISH_A} -> W W W W W W W W W W W front back selfie liveness W liveness finish+sub N N
finish+sub: {TO_FINISH_A} Sub -> S S S S S S S S S S S S S S S S S S result finish
finish(after failure): {TO_FINISH_A} Sub Fail -> W W W W W W W W W W W front back selfie liveness W liveness finish+sub N N
result: {TO_FINISH_A} Sub Subd -> X X X X X X X X X X X X X X X X X X X X
consent(revisited): {TO_FINISH_A} Back Back Back Back Back Back Back Back -> email W W W W W W W W W W R R R R email F W N N
country(revisited): {TO_FINISH_A} Back Back Back Back Back Back -> W W W idtype O W W W W W W R R R R idtype email W N N
front(revisited): {TO_FINISH_A} Back Back Back Back -> W W W W W W W back W W W front R R R back idtype W N N
selfie(after retake): {TO_FINISH_A} RtS -> W W W W W W W W W liveness W front back R R I back W N N
"
    );
    let covered = run_table(&s, &table);
    let reach = reachable(&s);
    assert_eq!(reach, covered, "every reachable state has a row");
    assert_eq!(reach.len(), 11);
}

#[test]
fn table_b_selected_country_and_type_front_only() {
    let s = setup_b();
    let to_finish = "Acc CapF CapS CapL";
    let table = format!(
        "
consent:  -> front W W W W W W W W W W R R R R I F W N N
front: Acc -> W W W W W W W selfie W W W R R R R I consent W N N
selfie: Acc CapF -> W W W W W W W W W liveness W front R R R I front W N N
liveness: Acc CapF CapS -> W W W W W W W W W W finish front R selfie R I selfie W N N
finish: {to_finish} -> W W W W W W W W W W W front R selfie liveness W liveness finish+sub N N
finish+sub: {to_finish} Sub -> S S S S S S S S S S S S S S S S S S result finish
result: {to_finish} Sub Subd -> X X X X X X X X X X X X X X X X X X X X
front(revisited): {to_finish} Back Back Back -> W W W W W W W selfie W W W front R R R selfie consent W N N
"
    );
    let covered = run_table(&s, &table);
    assert_eq!(reachable(&s), covered);
    assert_eq!(
        s.flow.steps(),
        [
            Step::Consent,
            Step::DocumentFront,
            Step::Selfie,
            Step::Liveness,
            Step::Finish,
            Step::Result
        ]
    );
}

#[test]
fn table_c_selected_country_only() {
    let s = setup_c();
    let to_finish = "Acc Typ CapF CapS CapL";
    let table = format!(
        "
consent:  -> idtype W W W W W W W W W W R R R R I F W N N
idtype: Acc -> W W W W W front O W W W W R R R R I consent W N N
front: Acc Typ -> W W W W W W W selfie W W W R R R R I idtype W N N
selfie: Acc Typ CapF -> W W W W W W W W W liveness W front R R R I front W N N
liveness: Acc Typ CapF CapS -> W W W W W W W W W W finish front R selfie R I selfie W N N
finish: {to_finish} -> W W W W W W W W W W W front R selfie liveness W liveness finish+sub N N
finish+sub: {to_finish} Sub -> S S S S S S S S S S S S S S S S S S result finish
result: {to_finish} Sub Subd -> X X X X X X X X X X X X X X X X X X X X
idtype(revisited): {to_finish} Back Back Back Back -> W W W W W front O W W W W R R R R front consent W N N
"
    );
    let covered = run_table(&s, &table);
    assert_eq!(reachable(&s), covered);
}

// ---- scenarios ----

fn run(mut f: Flow, events: impl IntoIterator<Item = Event>) -> Flow {
    for e in events {
        f = transition(&f, e.clone()).unwrap_or_else(|err| panic!("{e:?}: {err}"));
    }
    f
}

fn all_captures(back: bool) -> Vec<Event> {
    let mut v = vec![cap(CaptureSlot::DocumentFront)];
    if back {
        v.push(cap(CaptureSlot::DocumentBack));
    }
    v.extend([cap(CaptureSlot::Selfie), cap(CaptureSlot::Liveness)]);
    v
}

#[test]
fn happy_path_with_email_and_back_side() {
    let s = setup_a();
    let mut f = s.flow.clone();
    assert_eq!(f.progress(), (1, 10), "back side provisional");
    let mut path = vec![
        Event::AcceptConsent,
        Event::EnterEmail("  person@example.com ".into()),
        Event::ChooseCountry(c("USA")),
        Event::ChooseIdType(IdType::DriversLicense),
    ];
    path.extend(all_captures(true));
    path.push(Event::Submit);
    let mut positions = vec![f.progress().0];
    for e in path {
        f = transition(&f, e).unwrap();
        positions.push(f.progress().0);
    }
    assert_eq!(positions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 9]);
    assert!(f.is_submitting());
    f = transition(
        &f,
        Event::Submitted {
            submission_id: "sub-9".into(),
        },
    )
    .unwrap();
    assert_eq!(f.current(), Step::Result);
    assert_eq!(f.progress(), (10, 10));
    assert_eq!(f.submission_id(), Some("sub-9"));
    assert_eq!(f.email(), Some("person@example.com"), "trimmed");
    assert_eq!(f.country(), Some(c("USA")));
    assert_eq!(f.id_type(), Some(IdType::DriversLicense));
    assert_eq!(f.captures().len(), 4);
    assert_eq!(
        f.capture(CaptureSlot::DocumentBack),
        Some("cap-DocumentBack")
    );
    assert!(f.consent_given());
}

#[test]
fn happy_path_selected_country_and_type_without_email() {
    let s = setup_b();
    let mut events = vec![Event::AcceptConsent];
    events.extend(all_captures(false));
    events.push(Event::Submit);
    events.push(Event::Submitted {
        submission_id: "s".into(),
    });
    let f = run(s.flow, events);
    assert_eq!(f.current(), Step::Result);
    assert_eq!(f.email(), None);
    assert_eq!(f.country(), Some(c("USA")));
    assert_eq!(f.id_type(), Some(IdType::Passport));
    assert_eq!(f.capture(CaptureSlot::DocumentBack), None);
}

#[test]
fn happy_path_selected_country_with_two_sided_type() {
    let s = setup_c();
    let f = run(
        s.flow.clone(),
        [
            Event::AcceptConsent,
            Event::ChooseIdType(IdType::GovernmentId),
        ],
    );
    assert!(f.steps().contains(&Step::DocumentBack));
    let mut events = all_captures(true);
    events.push(Event::Submit);
    let f = run(f, events);
    assert!(f.is_submitting());
}

#[test]
fn back_keeps_choices_and_same_choice_keeps_everything() {
    let s = setup_a();
    let mut path = vec![
        Event::AcceptConsent,
        Event::EnterEmail("a@b.co".into()),
        Event::ChooseCountry(c("USA")),
        Event::ChooseIdType(IdType::DriversLicense),
    ];
    path.extend(all_captures(true));
    let at_finish = run(s.flow.clone(), path);
    // Back all the way to the country step: nothing is lost.
    let at_country = run(at_finish.clone(), (0..6).map(|_| Event::Back));
    assert_eq!(at_country.current(), Step::Country);
    assert_eq!(at_country.captures(), at_finish.captures());
    assert_eq!(at_country.id_type(), Some(IdType::DriversLicense));
    // The same country and type again: everything kept, Next through the captured steps.
    let f = run(
        at_country.clone(),
        [
            Event::ChooseCountry(c("USA")),
            Event::ChooseIdType(IdType::DriversLicense),
        ],
    );
    assert_eq!(f.current(), Step::DocumentFront);
    let f = run(f, (0..4).map(|_| Event::Next));
    assert_eq!(f.current(), Step::Finish);
    assert_eq!(f.captures(), at_finish.captures());
    assert!(transition(&f, Event::Submit).is_ok());
    // Next from the country step also keeps everything.
    let f = run(at_country, [Event::Next]);
    assert_eq!(f.current(), Step::IdType);
    assert_eq!(f.captures().len(), 4);
}

#[test]
fn different_country_clears_type_and_document_captures() {
    let s = setup_a();
    let mut path = vec![
        Event::AcceptConsent,
        Event::EnterEmail("a@b.co".into()),
        Event::ChooseCountry(c("USA")),
        Event::ChooseIdType(IdType::DriversLicense),
    ];
    path.extend(all_captures(true));
    path.extend((0..6).map(|_| Event::Back));
    let f = run(s.flow, path);
    let f = run(f, [Event::ChooseCountry(c("IND"))]);
    assert_eq!(f.current(), Step::IdType);
    assert_eq!(f.country(), Some(c("IND")));
    assert_eq!(f.id_type(), None);
    assert_eq!(f.capture(CaptureSlot::DocumentFront), None);
    assert_eq!(f.capture(CaptureSlot::DocumentBack), None);
    assert!(f.capture(CaptureSlot::Selfie).is_some(), "selfie kept");
    assert!(f.capture(CaptureSlot::Liveness).is_some(), "liveness kept");
    assert_eq!(f.email(), Some("a@b.co"));
    assert_eq!(
        transition(&f, Event::Next),
        Err(FlowError::Incomplete(Step::IdType))
    );
    // A type offered for USA but not for India.
    assert!(matches!(
        transition(&f, Event::ChooseIdType(IdType::Visa)),
        Err(FlowError::NotOffered(e)) if e.kind == PolicyErrorKind::IdTypeNotOffered
    ));
    let f = run(
        f,
        [
            Event::ChooseIdType(IdType::Passport),
            cap(CaptureSlot::DocumentFront),
        ],
    );
    assert_eq!(f.current(), Step::Selfie, "no back side for a passport");
    let f = run(f, [Event::Next, Event::Next]);
    assert_eq!(f.current(), Step::Finish);
    assert!(transition(&f, Event::Submit).is_ok());
}

#[test]
fn changing_type_adds_or_removes_the_back_side() {
    let s = setup_a();
    let mut path = vec![
        Event::AcceptConsent,
        Event::EnterEmail("a@b.co".into()),
        Event::ChooseCountry(c("USA")),
        Event::ChooseIdType(IdType::DriversLicense),
    ];
    path.extend(all_captures(true));
    let f = run(s.flow, path);
    assert_eq!(f.progress(), (9, 10));
    let f = run(f, (0..5).map(|_| Event::Back));
    assert_eq!(f.current(), Step::IdType);
    let f = run(f, [Event::ChooseIdType(IdType::Passport)]);
    assert!(!f.steps().contains(&Step::DocumentBack));
    assert_eq!(f.capture(CaptureSlot::DocumentBack), None);
    assert_eq!(f.capture(CaptureSlot::DocumentFront), None);
    assert_eq!(f.progress(), (5, 9));
    let f = run(f, [Event::Back, Event::Next, Event::Back]);
    let f = run(f, [Event::ChooseIdType(IdType::GovernmentId)]);
    assert!(f.steps().contains(&Step::DocumentBack));
    let f = run(f, [cap(CaptureSlot::DocumentFront)]);
    assert_eq!(f.current(), Step::DocumentBack);
}

#[test]
fn back_step_is_provisional_until_the_type_is_known() {
    let passport = [IdType::Passport];
    let o = make_offer(PolicyInput {
        allowed_id_types: Some(&passport),
        ..Default::default()
    });
    let f = Flow::new(FlowConfig::for_offer(false, false, &o), o).unwrap();
    assert!(!f.steps().contains(&Step::DocumentBack), "only passports");

    // USA offers only front-only types here; KOR only two-sided ones.
    let types = [IdType::Visa, IdType::GovernmentId];
    let o = make_offer(PolicyInput {
        allowed_id_types: Some(&types),
        ..Default::default()
    });
    let f = Flow::new(FlowConfig::for_offer(false, false, &o), o).unwrap();
    assert!(f.steps().contains(&Step::DocumentBack));
    let usa = run(
        f.clone(),
        [Event::AcceptConsent, Event::ChooseCountry(c("USA"))],
    );
    assert!(usa.steps().contains(&Step::DocumentBack), "USA has both");
    let kor = run(f, [Event::AcceptConsent, Event::ChooseCountry(c("KOR"))]);
    assert!(kor.steps().contains(&Step::DocumentBack));
    let usa = run(usa, [Event::ChooseIdType(IdType::Visa)]);
    assert!(!usa.steps().contains(&Step::DocumentBack));
}

#[test]
fn retry_after_failed_submission_and_no_back_while_submitting() {
    let s = setup_b();
    let mut events = vec![Event::AcceptConsent];
    events.extend(all_captures(false));
    events.push(Event::Submit);
    let f = run(s.flow, events);
    assert_eq!(transition(&f, Event::Back), Err(FlowError::Submitting));
    assert_eq!(transition(&f, Event::Submit), Err(FlowError::Submitting));
    let f = run(f, [Event::SubmitFailed]);
    assert_eq!(f.current(), Step::Finish);
    assert!(!f.is_submitting());
    assert_eq!(f.captures().len(), 3);
    let f = run(
        f,
        [
            Event::Submit,
            Event::Submitted {
                submission_id: "x".into(),
            },
        ],
    );
    assert_eq!(transition(&f, Event::Back), Err(FlowError::Finished));
}

#[test]
fn bad_values_are_refused() {
    let s = setup_a();
    let f = run(s.flow, [Event::AcceptConsent]);
    assert_eq!(
        transition(&f, Event::EnterEmail("a@b".into())),
        Err(FlowError::InvalidEmail)
    );
    let f = run(f, [Event::EnterEmail("a@b.co".into())]);
    let e = transition(&f, Event::ChooseCountry(c("JPN"))).unwrap_err();
    assert!(matches!(&e, FlowError::NotOffered(p) if p.kind == PolicyErrorKind::CountryNotOffered));
    assert!(e.to_string().contains("JPN"), "{e}");
    let f = run(
        f,
        [
            Event::ChooseCountry(c("KOR")),
            Event::ChooseIdType(IdType::Passport),
        ],
    );
    let bad = Event::Captured {
        slot: CaptureSlot::DocumentFront,
        capture_id: String::new(),
    };
    assert_eq!(transition(&f, bad), Err(FlowError::InvalidId));
    assert_eq!(
        transition(&f, cap(CaptureSlot::Selfie)),
        Err(FlowError::WrongStep {
            step: Step::DocumentFront,
            event: "Captured"
        })
    );
}

#[test]
fn new_refuses_selections_outside_the_offer() {
    let s = setup_a();
    let o = s.flow.offer().clone();
    let cfg = |country: Option<&str>, t: Option<IdType>| FlowConfig {
        ask_email: false,
        email_given: false,
        selected_country: country.map(c),
        selected_id_type: t,
        passive_liveness: false,
    };
    let kind = |r: Result<Flow, FlowError>| match r {
        Err(FlowError::NotOffered(p)) => p.kind,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        kind(Flow::new(cfg(Some("JPN"), None), o.clone())),
        PolicyErrorKind::CountryNotOffered
    );
    assert_eq!(
        kind(Flow::new(cfg(Some("KOR"), Some(IdType::Visa)), o.clone())),
        PolicyErrorKind::IdTypeNotOffered
    );
    assert_eq!(
        kind(Flow::new(cfg(None, Some(IdType::Passport)), o.clone())),
        PolicyErrorKind::IdTypeNotOffered
    );
    let empty = Offer {
        countries: vec![],
        id_types: Default::default(),
        selected_country: None,
        selected_id_type: None,
    };
    assert_eq!(
        kind(Flow::new(cfg(None, None), empty)),
        PolicyErrorKind::NothingOffered
    );
    assert!(Flow::new(cfg(Some("KOR"), Some(IdType::Passport)), o).is_ok());
}

#[test]
fn serde_round_trip_and_tampered_flows_never_panic() {
    let s = setup_a();
    let mut path = vec![
        Event::AcceptConsent,
        Event::EnterEmail("a@b.co".into()),
        Event::ChooseCountry(c("USA")),
        Event::ChooseIdType(IdType::DriversLicense),
    ];
    path.extend(all_captures(true));
    let f = run(s.flow, path);
    let json = serde_json::to_string(&f).unwrap();
    let back: Flow = serde_json::from_str(&json).unwrap();
    assert_eq!(back, f);
    assert!(transition(&back, Event::Submit).is_ok());

    // A capture removed behind the flow's back: Submit names the step.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["captures"].as_object_mut().unwrap().remove("selfie");
    let tampered: Flow = serde_json::from_value(v).unwrap();
    assert_eq!(
        transition(&tampered, Event::Submit),
        Err(FlowError::Incomplete(Step::Selfie))
    );

    // A current step outside the step list: errors, never a panic.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["steps"] = serde_json::json!(["consent"]);
    let tampered: Flow = serde_json::from_value(v).unwrap();
    assert_eq!(tampered.progress(), (0, 1));
    for e in events(&setup_a()) {
        let _ = transition(&tampered, e);
    }
    assert_eq!(
        transition(&tampered, Event::Back),
        Err(FlowError::Inconsistent)
    );
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["steps"] = serde_json::json!([]);
    v["current"] = serde_json::json!("consent");
    let tampered: Flow = serde_json::from_value(v).unwrap();
    for e in events(&setup_a()) {
        let _ = transition(&tampered, e);
    }
}

// ---- resume after a reload (the server's capture list wins) ----

#[test]
fn reconcile_with_the_server_after_a_reload() {
    let s = setup_b(); // selected country and type, front only: consent, front, selfie, ...
    let f = run(
        s.flow.clone(),
        [
            Event::AcceptConsent,
            cap(CaptureSlot::DocumentFront),
            cap(CaptureSlot::Selfie),
        ],
    );
    assert_eq!(f.current(), Step::Liveness);

    // The server has everything the flow has: nothing changes.
    let same = f.reconcile(
        &[
            (CaptureSlot::DocumentFront, "cap-DocumentFront"),
            (CaptureSlot::Selfie, "cap-Selfie"),
        ],
        None,
    );
    assert_eq!(same, f);

    // The selfie never reached the server: back to the selfie, the front kept.
    let r = f.reconcile(&[(CaptureSlot::DocumentFront, "srv-front")], None);
    assert_eq!(r.current(), Step::Selfie);
    assert_eq!(r.capture(CaptureSlot::DocumentFront), Some("srv-front"));
    assert_eq!(r.capture(CaptureSlot::Selfie), None);

    // The server has one the flow lost (the answer was cut off by the reload): recorded, and
    // the flow moves on to the first capture the server lacks.
    let at_selfie = run(
        s.flow.clone(),
        [Event::AcceptConsent, cap(CaptureSlot::DocumentFront)],
    );
    let r = at_selfie.reconcile(
        &[
            (CaptureSlot::DocumentFront, "cap-DocumentFront"),
            (CaptureSlot::Selfie, "srv-selfie"),
        ],
        None,
    );
    assert_eq!(r.current(), Step::Liveness);
    assert_eq!(r.capture(CaptureSlot::Selfie), Some("srv-selfie"));

    // Several liveness frames: the last id counts; bad ids and foreign slots are ignored.
    let r = f.reconcile(
        &[
            (CaptureSlot::DocumentFront, "a"),
            (CaptureSlot::DocumentBack, "not-in-this-flow"),
            (CaptureSlot::Selfie, "bad id"),
            (CaptureSlot::Liveness, "l1"),
            (CaptureSlot::Liveness, "l2"),
        ],
        None,
    );
    assert_eq!(r.capture(CaptureSlot::DocumentBack), None);
    assert_eq!(r.capture(CaptureSlot::Liveness), Some("l2"));
    assert_eq!(r.current(), Step::Selfie);

    // A submission cut off by the reload can be sent again.
    let all = run(
        s.flow.clone(),
        [
            Event::AcceptConsent,
            cap(CaptureSlot::DocumentFront),
            cap(CaptureSlot::Selfie),
            cap(CaptureSlot::Liveness),
            Event::Submit,
        ],
    );
    assert!(all.is_submitting());
    let ids = [
        (CaptureSlot::DocumentFront, "cap-DocumentFront"),
        (CaptureSlot::Selfie, "cap-Selfie"),
        (CaptureSlot::Liveness, "cap-Liveness"),
    ];
    let r = all.reconcile(&ids, None);
    assert!(!r.is_submitting());
    assert_eq!(r.current(), Step::Finish);
    assert!(transition(&r, Event::Submit).is_ok());

    // Finished on the server (e.g. on another device): the result.
    let r = all.reconcile(&ids, Some("sub-1"));
    assert_eq!(
        (r.current(), r.submission_id()),
        (Step::Result, Some("sub-1"))
    );
    assert!(transition(&r, Event::Back).is_err());

    // Before any capture step nothing moves.
    let r = s.flow.reconcile(&[], None);
    assert_eq!(r, s.flow);
}

#[test]
fn a_passive_liveness_project_has_no_liveness_step() {
    let s = setup_a();
    let o = s.flow.offer().clone();
    let active = Flow::new(FlowConfig::default(), o.clone()).expect("flow");
    assert!(active.steps().contains(&Step::Liveness));
    let passive = Flow::new(
        FlowConfig {
            passive_liveness: true,
            ..FlowConfig::default()
        },
        o,
    )
    .expect("flow");
    assert!(!passive.steps().contains(&Step::Liveness));
    assert!(passive.steps().contains(&Step::Selfie));
    assert_eq!(passive.steps().len() + 1, active.steps().len());
}
