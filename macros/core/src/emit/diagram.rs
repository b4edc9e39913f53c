//! Stage 7, emit: the state diagram in the state enum's doc and constants.
//! Takes the graph (reachable suspension points, the branch conditions on
//! the way between them); gives nodes and edges, rendered as Mermaid lines
//! and as a DOT `digraph`.

use proc_macro2::{Ident, TokenStream, TokenTree};

use crate::cfg::{BlockId, JumpId, Term};
use crate::scan::SiteKind;

use super::Emitter;

/// One transition of the state diagram: from a node to a node, with the
/// conditions taken on the way.
pub(super) struct Edge {
    from: String,
    to: String,
    label: String,
}

impl Emitter<'_> {
    /// The state diagram: `Idle`, each reachable suspension point (by its
    /// variant) and `Done`, with the transitions between them labelled with
    /// the branch conditions taken on the way. Returns the node labels
    /// (id, text) and the edges.
    pub(super) fn diagram(&self) -> (Vec<(String, String)>, Vec<Edge>) {
        let mut nodes = vec![("Idle".to_owned(), "Idle".to_owned())];
        let mut at_block = std::collections::BTreeMap::new();
        let mut starts = vec![("Idle".to_owned(), 0usize, false)];
        for (i, s) in self.g.susps.iter().enumerate() {
            if !self.live.reachable.get(s.block).copied().unwrap_or(false) {
                continue;
            }
            let id = format!("v_{}", self.plan.state_variants[i]);
            nodes.push((id.clone(), format!("{}: {}", self.plan.state_variants[i], s.text)));
            match (s.kind, &self.g.blocks[s.block].term) {
                (SiteKind::Yield, Term::Yield { jump, .. }) => {
                    starts.push((id.clone(), self.g.jumps[*jump].target, false));
                }
                (SiteKind::Call, _) => {
                    at_block.insert(s.block, id.clone());
                    starts.push((id.clone(), s.block, true));
                }
                _ => {}
            }
        }
        nodes.push(("Done".to_owned(), "Done".to_owned()));
        nodes.push(("Err".to_owned(), "Err".to_owned()));
        // A condition on a suspension's value reads as the suspension, not
        // as the hidden local that holds it.
        let results: Vec<(String, &str)> = self
            .g
            .susps
            .iter()
            .filter_map(|s| Some((self.g.bindings.get(s.result)?.ident.to_string(), s.text.as_str())))
            .collect();
        let text = |ts: &TokenStream| crate::scan::one_line(&with_sites(&ts.to_string(), &results));
        let mut edges: Vec<Edge> = Vec::new();
        // Bounded: the walk stops after this many steps per start.
        let mut budget;
        for (from, start, resumed) in starts {
            budget = 4096usize;
            let mut stack: Vec<(BlockId, Vec<String>, Vec<BlockId>, bool)> =
                vec![(start, Vec::new(), Vec::new(), resumed)];
            while let Some((b, conds, path, resumed)) = stack.pop() {
                if budget == 0 {
                    break;
                }
                budget -= 1;
                let mut add = |to: &str, conds: &[String]| {
                    let label = conds.join(", ");
                    if !edges
                        .iter()
                        .any(|e| e.from == from && e.to == to && e.label == label)
                    {
                        edges.push(Edge {
                            from: from.clone(),
                            to: to.to_owned(),
                            label,
                        });
                    }
                };
                if !resumed && let Some(id) = at_block.get(&b) {
                    add(id, &conds);
                    continue;
                }
                if path.contains(&b) {
                    continue;
                }
                let mut path = path;
                path.push(b);
                let Some(block) = self.g.blocks.get(b) else {
                    continue;
                };
                let go = |j: JumpId, cond: Option<String>, stack: &mut Vec<_>| {
                    let mut c = conds.clone();
                    c.extend(cond);
                    if let Some(jump) = self.g.jumps.get(j) {
                        stack.push((jump.target, c, path.clone(), false));
                    }
                };
                // Exits and jumps inside kept code: their conditions stay in
                // that code, so the edge names what the code does.
                for piece in &block.pieces {
                    let (ret, err) = exits(&piece.tokens);
                    if ret {
                        let mut c = conds.clone();
                        c.push("return".to_owned());
                        add("Done", &c);
                    }
                    if err {
                        add("Err", &conds);
                    }
                }
                // A `break`/`continue` inside kept code: named by its loop.
                for &j in &block.jumps {
                    if let Some(jump) = self.g.jumps.get(j).filter(|jump| jump.piece.is_some()) {
                        let label = match self.g.loop_heads.get(&jump.target) {
                            Some((head, true, _)) => format!("continue {head}"),
                            Some((head, false, _)) => format!("break out of {head}"),
                            None => "break".to_owned(),
                        };
                        go(j, Some(label), &mut stack);
                    }
                }
                // A `while` or `for` head: its two ways out, named by the loop.
                let head = self.g.loop_heads.get(&b).filter(|(_, _, branches)| *branches);
                let branch = match &block.term {
                    Term::If { then, els, .. } => Some((*then, *els)),
                    Term::Match { arms, .. } if arms.len() == 2 => Some((arms[0].1, arms[1].1)),
                    _ => None,
                };
                if let (Some((h, _, _)), Some((then, els))) = (head, branch) {
                    go(els, Some(format!("end of {h}")), &mut stack);
                    go(then, Some(h.clone()), &mut stack);
                    continue;
                }
                match &block.term {
                    Term::Return => add("Done", &conds),
                    Term::Open | Term::Diverged => {}
                    Term::Goto(j) => {
                        // Into a plain `loop`: name it (a `while` or `for`
                        // names itself at its condition).
                        let lp = self
                            .g
                            .jumps
                            .get(*j)
                            .and_then(|jump| self.g.loop_heads.get(&jump.target))
                            .filter(|(_, entered, branches)| *entered && !*branches)
                            .map(|(h, _, _)| h.clone());
                        go(*j, lp, &mut stack);
                    }
                    Term::If { cond, then, els } => {
                        let c = text(cond);
                        go(*els, Some(format!("else of {c}")), &mut stack);
                        go(*then, Some(format!("if {c}")), &mut stack);
                    }
                    Term::Match { scrut, arms } => {
                        let s = text(scrut);
                        for (pat, j) in arms.iter().rev() {
                            let p = text(pat);
                            go(*j, Some(format!("{s} matches {p}")), &mut stack);
                        }
                    }
                    Term::Yield { susp, .. } => {
                        let id = format!("v_{}", self.plan.state_variants[*susp]);
                        add(&id, &conds);
                    }
                }
            }
        }
        // A `return` in kept code that is the block's own exit gives the
        // same edge twice, once labelled `return`: keep the plain one.
        let plain: Vec<(String, String, String)> = edges
            .iter()
            .map(|e| (e.from.clone(), e.to.clone(), e.label.clone()))
            .collect();
        edges.retain(|e| {
            let base = if e.label == "return" {
                Some("")
            } else {
                e.label.strip_suffix(", return")
            };
            base.is_none_or(|b| !plain.contains(&(e.from.clone(), e.to.clone(), b.to_owned())))
        });
        (nodes, edges)
    }
}

// Input:  nodes `Idle`, `v_C` ("C: yield_io!(c.clone())"), `Done`; edges Idle -> v_C -> Done
// Output: `graph TD`, `Idle["Idle"]`, .., `Idle --> v_C`, `v_C --> Done`
/// The diagram as Mermaid `graph TD` lines. Quotes, pipes and angle
/// brackets in labels as Mermaid's entity codes (`Vec<u8>` is not a tag),
/// and `#` first, which would otherwise start one (`"#amp;"` in the code).
pub(super) fn mermaid(nodes: &[(String, String)], edges: &[Edge]) -> Vec<String> {
    let esc = |s: &str| {
        s.replace('#', "#35;")
            .replace('"', "#quot;")
            .replace('|', "#124;")
            .replace('<', "#lt;")
            .replace('>', "#gt;")
    };
    let mut out = vec!["graph TD".to_owned()];
    for (id, text) in nodes {
        out.push(format!("    {id}[\"{}\"]", esc(text)));
    }
    for e in edges {
        if e.label.is_empty() {
            out.push(format!("    {} --> {}", e.from, e.to));
        } else {
            out.push(format!("    {} -->|\"{}\"| {}", e.from, esc(&e.label), e.to));
        }
    }
    out
}

// Input:  the nodes and edges of `FillState`'s diagram
// Output: `digraph FillState {\n    Idle [label="Idle"];\n .. v_C -> Done [label=""];\n}\n`
/// The diagram as a DOT `digraph`.
pub(super) fn dot(name: &Ident, nodes: &[(String, String)], edges: &[Edge]) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = format!("digraph {name} {{\n");
    for (id, text) in nodes {
        out.push_str(&format!("    {id} [label=\"{}\"];\n", esc(text)));
    }
    for e in edges {
        out.push_str(&format!(
            "    {} -> {} [label=\"{}\"];\n",
            e.from,
            e.to,
            esc(&e.label)
        ));
    }
    out.push_str("}\n");
    out
}

// Input:  `let Some(row) = __ratchet_r1 ?`, [("__ratchet_r1", "call_io!(cur.next())")]
// Output: `let Some(row) = call_io!(cur.next()) ?`
/// `code` with each whole identifier named in `results` replaced by its text.
fn with_sites(code: &str, results: &[(String, &str)]) -> String {
    let ident_char = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(|c: char| ident_char(c)) {
        out.push_str(&rest[..at]);
        let word_end = rest[at..]
            .find(|c: char| !ident_char(c))
            .map_or(rest.len(), |e| at + e);
        let word = &rest[at..word_end];
        match results.iter().find(|(id, _)| id == word) {
            Some((_, site)) => out.push_str(site),
            None => out.push_str(word),
        }
        rest = &rest[word_end..];
    }
    out.push_str(rest);
    out
}

/// Whether kept code contains a `return` and a `?` (outside closures it
/// cannot tell apart; a diagram is a sketch).
fn exits(ts: &TokenStream) -> (bool, bool) {
    let mut ret = false;
    let mut err = false;
    for tt in ts.clone() {
        match tt {
            TokenTree::Ident(i) if i == "return" => ret = true,
            TokenTree::Punct(p) if p.as_char() == '?' => err = true,
            TokenTree::Group(g) => {
                let (r, e) = exits(&g.stream());
                ret |= r;
                err |= e;
            }
            _ => {}
        }
    }
    (ret, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mermaid_labels_keep_a_hash_as_written() {
        // Attack round 15, F9: `"#amp;"` in a condition rendered as `"&"`.
        let nodes = [
            ("Idle".to_owned(), "Idle".to_owned()),
            ("Done".to_owned(), "Done".to_owned()),
        ];
        let edges = [Edge {
            from: "Idle".to_owned(),
            to: "Done".to_owned(),
            label: "if s == \"#amp;\" | x < y".to_owned(),
        }];
        let lines = mermaid(&nodes, &edges);
        assert_eq!(
            lines.last().map(String::as_str),
            Some("    Idle -->|\"if s == #quot;#35;amp;#quot; #124; x #lt; y\"| Done")
        );
    }
}
