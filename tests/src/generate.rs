//! Random `.plat` programs from the grammar of docs/language.md, for property tests
//! (`tests/tests/fmt.rs`, `tests/tests/robustness.rs`). Deterministic: a seed gives the same
//! programs on every machine. The programs parse; they need not type-check.

/// A random program generator following the grammar of docs/language.md (syntax only: the
/// programs parse, they need not type-check). Whitespace, line breaks and comments are
/// inserted wherever the grammar allows them.
pub struct Generator {
    state: u64,
}

const NAMES: &[&str] = &["a", "b", "cp-1", "x_y", "node", "vm"];
const FIELDS: &[&str] = &["a", "b", "cores", "type", "with", "if", "\"k.x/y\""];
const ATOMS: &[&str] = &[
    "1",
    "-3",
    "1_000",
    "0",
    "8GiB",
    "5min",
    "10.0.0.1",
    "10.20.0.0/24",
    "fd00::1",
    "fd00:20::/64",
    "bc:24:11:0a:00:01",
    "true",
    "false",
    "none",
    "\"s\"",
    "\"a ${x} b\"",
    "\"esc \\\" \\n \\$ \"",
    "\"\"\"\n  multi\n    line ${y}\n  \"\"\"",
];

impl Generator {
    /// A generator whose programs depend only on `seed`.
    pub fn new(seed: u64) -> Generator {
        Generator { state: seed | 1 }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn one<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.pick(options.len())]
    }

    /// Where a line break may go: a space, a break, blank lines or a comment.
    fn gap(&mut self) -> &'static str {
        match self.pick(10) {
            0 => "\n",
            1 => "\n\n\n",
            2 => " # note\n",
            3 => "\n  ## doc?\n",
            4 => "",
            _ => " ",
        }
    }

    /// Like [`Self::gap`] but without `##` lines (which only stand before declarations).
    fn soft_gap(&mut self) -> &'static str {
        match self.pick(8) {
            0 => "\n",
            1 => " # note\n",
            2 => "",
            _ => " ",
        }
    }

    /// The next program.
    pub fn program(&mut self) -> String {
        let mut out = String::new();
        for _ in 0..1 + self.pick(5) {
            if self.pick(3) == 0 {
                out.push_str("## Documentation.\n## More.\n");
            }
            if self.pick(4) == 0 {
                out.push_str("# A comment.\n");
            }
            out.push_str(&self.item(2));
            out.push_str(self.one(&["\n", "\n\n", "\n\n\n", " # trailing\n", " "]));
        }
        out
    }

    fn item(&mut self, depth: u32) -> String {
        let name = self.one(NAMES);
        match self.pick(9) {
            0 => format!("let {name} = {}", self.expr(depth)),
            1 => format!("let {name}: {} = {}", self.ty(depth), self.expr(depth)),
            2 => format!("type T{} = {}", self.pick(9), self.ty(depth)),
            3 => {
                let params: Vec<String> = (0..self.pick(4))
                    .map(|i| format!("p{i}: {}", self.ty(1)))
                    .collect();
                let sep = if self.pick(2) == 0 { ",\n  " } else { ", " };
                format!(
                    "fn f{}({}{}) -> {} = {}",
                    self.pick(9),
                    params.join(sep),
                    if self.pick(3) == 0 && !params.is_empty() {
                        ","
                    } else {
                        ""
                    },
                    self.ty(1),
                    self.expr(depth)
                )
            }
            4 => format!(
                "kind k{}: {}{}",
                self.pick(9),
                self.ty(depth),
                if self.pick(2) == 0 { " single" } else { "" }
            ),
            5 => format!("{name} {} = {}", self.one(NAMES), self.expr(depth)),
            6 => {
                let label = match self.pick(3) {
                    0 => String::new(),
                    1 => format!(" {}", self.one(NAMES)),
                    _ => " \"n-${i}\"".to_string(),
                };
                format!("{name}{label} {}", self.fields(depth, true))
            }
            7 => {
                let mut body = String::new();
                for _ in 0..self.pick(3) {
                    body.push_str(self.gap());
                    body.push_str(&self.item(depth.saturating_sub(1)));
                    body.push('\n');
                }
                format!("for i in {} {{{body}}}", self.expr(1))
            }
            _ => format!("assert {}, {}", self.expr(depth), self.expr(1)),
        }
    }

    fn fields(&mut self, depth: u32, docs: bool) -> String {
        let mut out = String::from("{");
        let count = self.pick(4);
        for i in 0..count {
            out.push_str(if docs { self.gap() } else { self.soft_gap() });
            let name = self.one(FIELDS);
            out.push_str(&format!("{name} ={}{}", self.soft_gap(), self.expr(depth)));
            if i + 1 < count || self.pick(2) == 0 {
                out.push(',');
            } else {
                out.push('\n');
            }
        }
        out.push_str(self.soft_gap());
        out.push('}');
        out
    }

    fn list(&mut self, depth: u32, open: &str, close: &str) -> String {
        let mut out = String::from(open);
        let count = self.pick(4);
        for i in 0..count {
            out.push_str(self.soft_gap());
            out.push_str(&self.expr(depth));
            if i + 1 < count || self.pick(2) == 0 {
                out.push(',');
            }
        }
        out.push_str(self.soft_gap());
        out.push_str(close);
        out
    }

    /// A postfix-level expression: binary operands, so that precedence needs no care.
    fn operand(&mut self, depth: u32) -> String {
        if depth == 0 {
            return match self.pick(3) {
                0 => self.one(NAMES).to_string(),
                _ => self.one(ATOMS).to_string(),
            };
        }
        let d = depth - 1;
        match self.pick(11) {
            0 => self.list(d, "[", "]"),
            1 => self.fields(d, false),
            2 => format!("f{}", self.list(d, "(", ")")),
            3 => format!("{}.m{}", self.dot_base(d), self.list(d, "(", ")")),
            4 => format!(
                "{}.{}",
                self.dot_base(d),
                self.one(FIELDS).trim_matches('"')
            ),
            5 => format!("{}[{}]", self.operand(d), self.expr(d)),
            6 => format!("({}{})", self.soft_gap(), self.expr(d)),
            7 => format!("{} with {}", self.operand(d), self.fields(d, false)),
            8 => format!(
                "[for x in {}{} => {}]",
                self.operand(d),
                if self.pick(2) == 0 { " if x > 1" } else { "" },
                self.expr(d)
            ),
            _ => self.operand(0),
        }
    }

    /// An operand before `.`: an address literal needs a space (`fd00::1 .m()`).
    fn dot_base(&mut self, depth: u32) -> String {
        let base = self.operand(depth);
        if base.contains(':') && !base.ends_with([')', ']', '}', '"']) {
            format!("{base} ")
        } else {
            base
        }
    }

    fn expr(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.operand(0);
        }
        let d = depth - 1;
        match self.pick(9) {
            0 => {
                let op = self.one(&["+", "-", "*", "/", "%", "&&", "||", "==", "<=", "!="]);
                format!(
                    "{} {op}{}{}",
                    self.operand(d),
                    self.soft_gap(),
                    self.operand(d)
                )
            }
            1 => format!(
                "{} + {} * {}",
                self.operand(d),
                self.operand(d),
                self.operand(d)
            ),
            2 => format!("{}{}", self.one(&["-", "!", "- "]), self.operand(d)),
            3 => format!(
                "if {} then {} else {}",
                self.expr(d),
                self.expr(d),
                self.expr(d)
            ),
            4 => format!("let v = {} in {}", self.expr(d), self.expr(d)),
            5 => {
                let left = self.operand(d);
                let op = self.one(&["..", "..=", " .. "]);
                let op = if left.contains(':') { " ..= " } else { op };
                format!("{left}{op}{}", self.operand(d))
            }
            _ => self.operand(depth),
        }
    }

    fn ty(&mut self, depth: u32) -> String {
        let atom = [
            "int",
            "string",
            "size",
            "apps.Web",
            "\"lit\"",
            "int(1..5)",
            "int(-5..=5)",
        ];
        if depth == 0 {
            return self.one(&atom).to_string();
        }
        let d = depth - 1;
        match self.pick(8) {
            0 => format!("[{}]", self.ty(d)),
            1 => format!("{{string: {}}}", self.ty(d)),
            2 => {
                let mut out = String::from("{");
                for _ in 0..self.pick(4) {
                    out.push_str(self.gap());
                    out.push_str(&format!("{}: {}", self.one(NAMES), self.ty(d)));
                    if self.pick(2) == 0 {
                        out.push_str(&format!(" = {}", self.expr(1)));
                    }
                    out.push(self.one(&[",", "\n"]).chars().next().unwrap_or(','));
                }
                out.push('}');
                out
            }
            3 => format!("{}?", self.ty(0)),
            4 => format!("{} | {}", self.ty(0), self.ty(0)),
            5 => format!("({} | {})?", self.ty(0), self.ty(0)),
            6 => format!("{} | ({} | {})", self.ty(0), self.ty(0), self.ty(0)),
            _ => self.ty(0),
        }
    }
}
