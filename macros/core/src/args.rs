//! Stage 1: the attribute's arguments.
//!
//! Input:  `state = self.read_state, name = ReadState, crate = ::ratchet`
//! Output: `Args { state: SelfField(read_state), name: Some(ReadState), krate: Some(::ratchet) }`

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, LitInt, Member, Path, Token};

use crate::ctxt::Ctxt;

/// Where the machine keeps its state between calls.
#[derive(Clone)]
pub enum StateTarget {
    /// `state = st`: a `&mut` parameter of a free function.
    Param(Ident),
    /// `state = self.field`: a field of the receiver.
    SelfField(Ident),
}

/// The parsed `#[io_state_machine(..)]` arguments.
#[derive(Default, Clone)]
pub struct Args {
    pub state: Option<(StateTarget, Span)>,
    pub name: Option<Ident>,
    pub krate: Option<Path>,
    /// `max_size = N`: the state must fit in `N` bytes.
    pub max_size: Option<usize>,
}

const VALID: &str = "`state = param` or `state = self.field` (required), `name = StateTypeName`, `crate = path::to::ratchet`, `max_size = bytes`";

// Input:  `state = self.read_state, crate = ::rt`
// Output: `Args { state: SelfField(read_state), name: None, krate: Some(::rt) }`
/// Parses the arguments, reporting every problem into `cx`.
pub fn parse(cx: &Ctxt, attr: TokenStream, attr_span: Span) -> Args {
    let mut args = Args::default();
    // `state =` written but not usable: one error says so, not a second one
    // saying it is missing.
    let mut state_written = false;
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            let key = Ident::parse_any(input)?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "state" => {
                    state_written = true;
                    let expr: Expr = input.parse()?;
                    match state_target(&expr) {
                        Some(t) => args.state = Some((t, key.span())),
                        None => cx.spanned(
                            &expr,
                            "`state =` of #[io_state_machine] must name a `&mut` parameter (`state = st`) or a field of `self` (`state = self.field`)",
                        ),
                    }
                }
                "name" => args.name = Some(input.parse()?),
                "crate" => args.krate = Some(Path::parse_mod_style(input)?),
                "max_size" => {
                    let lit: LitInt = input.parse()?;
                    match lit.base10_parse::<usize>() {
                        Ok(n) => args.max_size = Some(n),
                        Err(e) => cx.error(
                            lit.span(),
                            format!("`max_size =` of #[io_state_machine] takes a size in bytes: {e}"),
                        ),
                    }
                }
                other => {
                    // Skip the value so the remaining options are still checked.
                    let _: Expr = input.parse()?;
                    cx.error(
                        key.span(),
                        format!(
                            "unknown option `{other}` for #[io_state_machine]; the valid options are {VALID}"
                        ),
                    );
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(attr) {
        cx.error(
            e.span(),
            format!("cannot parse the arguments of #[io_state_machine]: {e}; the valid options are {VALID}"),
        );
        return args;
    }
    if args.state.is_none() && !state_written {
        cx.error(
            attr_span,
            "#[io_state_machine] needs to know where the state lives: write `#[io_state_machine(state = st)]` for a `st: &mut FooState` parameter, or `state = self.field` in an impl",
        );
    }
    args
}

fn state_target(expr: &Expr) -> Option<StateTarget> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| StateTarget::Param(i.clone())),
        Expr::Field(f) => match (&*f.base, &f.member) {
            (Expr::Path(p), Member::Named(field)) if p.path.is_ident("self") => {
                Some(StateTarget::SelfField(field.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}
