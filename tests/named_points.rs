//! Naming a suspension point (`yield_io!(name = ReadHeader, c)`, issue 18):
//! the name is the variant's, and `Debug`, the diagrams and `size_report`
//! use it; points without a name keep the derived ones, which make way.
use ratchet::{Completion, CompletionError, IOResult, call_io, io_state_machine, yield_io};

#[io_state_machine(state = st)]
fn header_then_body(
    st: &mut HeaderThenBodyState,
    c: &Completion,
    d: &Completion,
) -> Result<IOResult<u32>, CompletionError> {
    let n: u32 = 5;
    yield_io!(name = ReadHeader, c.clone())?;
    // Derived, `Clone`-stripped: `C`; a second unnamed one becomes `C2`.
    yield_io!(c.clone())?;
    let body: i32 = yield_io!(name = ReadBody, d.clone())?;
    Ok(n + u32::try_from(body).unwrap_or(0))
}

#[io_state_machine(state = st)]
fn outer(st: &mut OuterState, c: &Completion, d: &Completion) -> Result<IOResult<u32>, CompletionError> {
    let mut inner: HeaderThenBodyState = HeaderThenBodyState::default();
    let v: u32 = call_io!(name = Inner, header_then_body(&mut inner, c, d))?;
    Ok(v)
}

#[test]
fn named_points_name_the_variants_debug_and_diagram() {
    let c = Completion::pending();
    let d = Completion::pending();
    let mut st = HeaderThenBodyState::default();
    assert!(!header_then_body(&mut st, &c, &d).unwrap().is_done());
    assert!(matches!(st, HeaderThenBodyState::ReadHeader { n: 5, .. }));
    let dbg = format!("{st:?}");
    assert!(dbg.starts_with("ReadHeader at tests/named_points.rs:"), "{dbg}");
    assert!(dbg.contains("`yield_io!(name = ReadHeader, c.clone())`"), "{dbg}");
    c.complete(0);
    assert!(!header_then_body(&mut st, &c, &d).unwrap().is_done());
    assert!(matches!(st, HeaderThenBodyState::ReadBody { n: 5, .. }), "{st:?}");
    d.complete(4);
    assert!(matches!(header_then_body(&mut st, &c, &d), Ok(IOResult::Done(9))));
    assert!(st.is_idle());

    let names: Vec<&str> = HeaderThenBodyState::size_report()
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(names, ["ReadHeader", "C", "ReadBody"]);
    assert!(
        HeaderThenBodyState::STATE_DIAGRAM_MERMAID
            .contains("v_ReadHeader[\"ReadHeader: yield_io!(name = ReadHeader, c.clone())\"]")
    );
    assert!(HeaderThenBodyState::STATE_DIAGRAM_DOT.contains("v_ReadHeader -> v_C"));
    assert!(HeaderThenBodyState::STATE_DIAGRAM_DOT.contains("v_C -> v_ReadBody"));

    let (c, d) = (Completion::pending(), Completion::pending());
    let mut o = OuterState::default();
    assert!(!outer(&mut o, &c, &d).unwrap().is_done());
    assert!(matches!(o, OuterState::Inner { .. }), "{o:?}");
    assert!(format!("{o:?}").starts_with("Inner at "));
}
