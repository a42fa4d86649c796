//! Edge cases of literals and arithmetic: 64-bit limits, units, addresses, subnets, MACs,
//! dashes in names, division by zero and ranges. Tokens are checked with the lexer; values
//! by evaluating `let v = EXPR` through the whole front end (with an empty prelude).

use std::collections::BTreeMap;
use std::net::IpAddr;

use plat_lang::driver::compile;
use plat_lang::eval::Limits;
use plat_lang::load::{LoadError, Loader};
use plat_lang::span::FileId;
use plat_lang::syntax::lexer::{lex, Tok};
use plat_lang::value::{Cidr, Value};

/// The tokens of `text` (without the end marker) and the codes of the lexer's diagnostics.
fn lexed(text: &str) -> (Vec<Tok>, Vec<&'static str>) {
    let (tokens, diagnostics) = lex(FileId(0), text);
    let tokens = tokens
        .into_iter()
        .map(|t| t.tok)
        .filter(|t| *t != Tok::Eof)
        .collect();
    (tokens, diagnostics.iter().map(|d| d.code).collect())
}

/// The single token of `text`, which must lex without diagnostics.
fn token(text: &str) -> Tok {
    let (tokens, codes) = lexed(text);
    assert!(codes.is_empty(), "{text}: {codes:?}");
    assert_eq!(tokens.len(), 1, "{text}: {tokens:?}");
    tokens.into_iter().next().unwrap()
}

/// The codes the lexer reports for `text`.
fn lex_errors(text: &str) -> Vec<&'static str> {
    lexed(text).1
}

struct One(String);

impl Loader for One {
    fn load(&self, path: &str) -> Result<String, LoadError> {
        match path {
            "main.plat" => Ok(self.0.clone()),
            _ => Err(LoadError::NotFound),
        }
    }
}

/// Every top-level `let` of `program`, or the codes of its diagnostics.
fn run(program: &str) -> Result<BTreeMap<String, Value>, Vec<&'static str>> {
    let compiled = compile(
        "",
        &["main.plat".to_string()],
        &One(program.to_string()),
        Limits::default(),
    );
    if !compiled.diagnostics.is_empty() {
        return Err(compiled.diagnostics.iter().map(|d| d.code).collect());
    }
    let program = compiled.program.expect("evaluated");
    Ok(program
        .lets
        .into_iter()
        .map(|l| (l.name.to_string(), l.value))
        .collect())
}

/// The value of `expr`.
fn value(expr: &str) -> Result<Value, Vec<&'static str>> {
    run(&format!("let v = {expr}\n")).map(|lets| lets["v"].clone())
}

fn int(expr: &str) -> i64 {
    match value(expr) {
        Ok(Value::Int(i)) => i,
        other => panic!("{expr}: {other:?}"),
    }
}

fn ints(expr: &str) -> Vec<i64> {
    match value(expr) {
        Ok(Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::Int(i) => *i,
                other => panic!("{expr}: {other:?}"),
            })
            .collect(),
        other => panic!("{expr}: {other:?}"),
    }
}

/// The single code reported for `expr`.
fn error(expr: &str) -> &'static str {
    match value(expr) {
        Err(codes) if codes.len() == 1 => codes[0],
        other => panic!("{expr}: expected one error, got {other:?}"),
    }
}

#[test]
fn integer_literals_are_64_bit() {
    assert_eq!(token("0"), Tok::Int(0));
    assert_eq!(token("1_000_000"), Tok::Int(1_000_000));
    assert_eq!(token("9223372036854775807"), Tok::Int(i64::MAX));
    assert_eq!(lex_errors("9223372036854775808"), vec!["value::overflow"]);
    assert_eq!(
        lex_errors("99999999999999999999999"),
        vec!["value::overflow"]
    );
    assert_eq!(int("9_223_372_036_854_775_807"), i64::MAX);
    assert_eq!(int("-9223372036854775807"), -i64::MAX);
}

#[test]
fn the_smallest_integer_is_a_literal() {
    assert_eq!(int("-9223372036854775808"), i64::MIN);
    assert_eq!(int("- 9223372036854775808"), i64::MIN);
    assert_eq!(int("-9_223_372_036_854_775_808"), i64::MIN);
    assert_eq!(int("(-9223372036854775808)"), i64::MIN);
    // The magnitude alone does not fit, even where the result would.
    assert_eq!(error("0 - 9223372036854775808"), "value::overflow");
    assert_eq!(error("9223372036854775808"), "value::overflow");
    // Negating i64::MIN again overflows when evaluated.
    assert_eq!(error("- -9223372036854775808"), "value::overflow");
    assert_eq!(error("-(-9223372036854775808)"), "value::overflow");
    let bounded = run("let v: int(-9223372036854775808..=0) = -9223372036854775808\n");
    assert_eq!(bounded.expect("in range")["v"], Value::Int(i64::MIN));
}

#[test]
fn integer_arithmetic_is_checked() {
    assert_eq!(int("9223372036854775806 + 1"), i64::MAX);
    assert_eq!(error("9223372036854775807 + 1"), "value::overflow");
    assert_eq!(error("-9223372036854775808 - 1"), "value::overflow");
    assert_eq!(error("4611686018427387904 * 2"), "value::overflow");
    assert_eq!(int("4611686018427387904 * -2"), i64::MIN);
    assert_eq!(error("-9223372036854775808 / -1"), "value::overflow");
    assert_eq!(error("-9223372036854775808 % -1"), "value::overflow");
    assert_eq!(error("-9223372036854775808 * -1"), "value::overflow");
    assert_eq!(int("-9223372036854775808 / 1"), i64::MIN);
    assert_eq!(int("7 / -2"), -3);
    assert_eq!(int("-7 % 2"), -1);
}

#[test]
fn division_by_zero_is_an_error() {
    assert_eq!(error("1 / 0"), "value::division-by-zero");
    assert_eq!(error("1 % 0"), "value::division-by-zero");
    assert_eq!(error("-9223372036854775808 / 0"), "value::division-by-zero");
    assert_eq!(error("8GiB / 0"), "value::division-by-zero");
    assert_eq!(error("8GiB / 0B"), "value::division-by-zero");
    assert_eq!(error("1h / 0"), "value::division-by-zero");
    assert_eq!(error("1h / 0ms"), "value::division-by-zero");
    assert_eq!(int("0 / 5"), 0);
}

#[test]
fn size_units_are_exact_bytes() {
    let units: &[(&str, i64)] = &[
        ("B", 1),
        ("KB", 1_000),
        ("MB", 1_000_000),
        ("GB", 1_000_000_000),
        ("TB", 1_000_000_000_000),
        ("PB", 1_000_000_000_000_000),
        ("KiB", 1 << 10),
        ("MiB", 1 << 20),
        ("GiB", 1 << 30),
        ("TiB", 1 << 40),
        ("PiB", 1 << 50),
    ];
    for (unit, bytes) in units {
        assert_eq!(token(&format!("1{unit}")), Tok::Size(*bytes), "1{unit}");
        assert_eq!(token(&format!("3{unit}")), Tok::Size(3 * bytes), "3{unit}");
    }
    assert_eq!(token("1GB"), Tok::Size(1_000_000_000));
    assert_eq!(token("1GiB"), Tok::Size(1_073_741_824));
    assert_ne!(token("1GB"), token("1GiB"));
    assert_eq!(token("0B"), Tok::Size(0));
    assert_eq!(token("1_536MiB"), Tok::Size(1536 << 20));
    assert_eq!(token("8191PiB"), Tok::Size(8191 << 50));
    assert_eq!(token("9223372036854775807B"), Tok::Size(i64::MAX));
    assert_eq!(lex_errors("8192PiB"), vec!["value::overflow"]);
    assert_eq!(lex_errors("9223372036854775808B"), vec!["value::overflow"]);
    assert_eq!(error("8191PiB + 1PiB"), "value::overflow");
    assert_eq!(value("1GiB - 1GB"), Ok(Value::Size(73_741_824)));
}

#[test]
fn duration_units_are_milliseconds() {
    assert_eq!(token("1ms"), Tok::Duration(1));
    assert_eq!(token("1s"), Tok::Duration(1_000));
    assert_eq!(token("1min"), Tok::Duration(60_000));
    assert_eq!(token("1h"), Tok::Duration(3_600_000));
    assert_eq!(token("1d"), Tok::Duration(86_400_000));
    assert_eq!(
        token("106751991167d"),
        Tok::Duration(106_751_991_167 * 86_400_000)
    );
    assert_eq!(lex_errors("106751991168d"), vec!["value::overflow"]);
    assert_eq!(value("90s"), value("1min + 30s"));
}

#[test]
fn unknown_units_are_errors() {
    for text in ["8XB", "8gib", "8Gib", "5m", "5sec", "5mins", "1H"] {
        assert_eq!(lex_errors(text), vec!["parse::literal"], "{text}");
    }
}

#[test]
fn ipv4_addresses() {
    let ip = |t: &str| Tok::Ip(t.parse::<IpAddr>().unwrap());
    assert_eq!(token("10.20.0.1"), ip("10.20.0.1"));
    assert_eq!(token("0.0.0.0"), ip("0.0.0.0"));
    assert_eq!(token("255.255.255.255"), ip("255.255.255.255"));
    for bad in ["256.0.0.0", "10.20.0.300", "1.2.3.999999999999", "01.2.3.4"] {
        assert_eq!(lex_errors(bad), vec!["parse::literal"], "{bad}");
    }
    // Three parts are no address: numbers and dots.
    let (tokens, _) = lexed("1.2.3");
    assert!(
        !tokens.iter().any(|t| matches!(t, Tok::Ip(_))),
        "{tokens:?}"
    );
}

#[test]
fn ipv6_addresses() {
    let ip = |t: &str| Tok::Ip(t.parse::<IpAddr>().unwrap());
    assert_eq!(token("fd00:20::5"), ip("fd00:20::5"));
    assert_eq!(token("::1"), ip("::1"));
    assert_eq!(token("::"), ip("::"));
    assert_eq!(token("2001:db8:0:0:0:0:0:1"), ip("2001:db8::1"));
    assert_eq!(token("::ffff:10.0.0.1"), ip("::ffff:10.0.0.1"));
    assert_eq!(token("FD00::A"), ip("fd00::a"));
}

#[test]
fn subnets() {
    let cidr = |a: &str, p: u8| Tok::Cidr(Cidr::new(a.parse().unwrap(), p).unwrap());
    assert_eq!(token("10.20.0.0/24"), cidr("10.20.0.0", 24));
    assert_eq!(token("0.0.0.0/0"), cidr("0.0.0.0", 0));
    assert_eq!(token("10.0.0.1/32"), cidr("10.0.0.1", 32));
    assert_eq!(token("fd00::/64"), cidr("fd00::", 64));
    assert_eq!(token("::/0"), cidr("::", 0));
    assert_eq!(token("fd00::1/128"), cidr("fd00::1", 128));
    // Host bits set.
    for bad in ["10.20.0.1/24", "11.0.0.0/7", "fd00::1/64", "::1/127"] {
        assert_eq!(lex_errors(bad), vec!["parse::literal"], "{bad}");
    }
    // Prefixes longer than the address.
    for bad in ["10.0.0.0/33", "10.0.0.0/999", "fd00::/129", "::/256"] {
        assert_eq!(lex_errors(bad), vec!["parse::literal"], "{bad}");
    }
}

#[test]
fn macs() {
    let mac = Tok::Mac([0xbc, 0x24, 0x11, 0x0a, 0x00, 0x01]);
    assert_eq!(token("bc:24:11:0a:00:01"), mac);
    assert_eq!(token("BC:24:11:0A:00:01"), mac);
    assert_eq!(token("Bc:24:11:0a:00:01"), mac);
    assert_eq!(
        token("00:11:22:33:44:55"),
        Tok::Mac([0, 0x11, 0x22, 0x33, 0x44, 0x55])
    );
    assert_eq!(
        value("\"${BC:24:11:0A:00:01}\""),
        Ok(Value::Str("bc:24:11:0a:00:01".into()))
    );
    // Not one MAC: five or seven groups, one-digit groups, dashes.
    for text in [
        "bc:24:11:0a:00",
        "bc:24:11:0a:00:01:02",
        "bc:24:11:0a:00:1",
        "bc-24-11-0a-00-01",
    ] {
        let (tokens, _) = lexed(text);
        assert!(
            !matches!(tokens.as_slice(), [Tok::Mac(_)]),
            "{text}: {tokens:?}"
        );
    }
    // Eight groups with seven colons are an IPv6 address, not a MAC.
    assert!(matches!(
        token("fd00:0:0:0:0:0:0:1"),
        Tok::Ip(IpAddr::V6(_))
    ));
}

#[test]
fn dashes_in_names_and_subtraction() {
    let ident = |t: &str| Tok::Ident(t.into());
    assert_eq!(token("cp-1"), ident("cp-1"));
    assert_eq!(token("a-b-c"), ident("a-b-c"));
    assert_eq!(
        lexed("cp - 1").0,
        vec![ident("cp"), Tok::Punct("-"), Tok::Int(1)]
    );
    assert_eq!(
        lexed("cp -1").0,
        vec![ident("cp"), Tok::Punct("-"), Tok::Int(1)]
    );
    assert_eq!(
        lexed("cp- 1").0,
        vec![ident("cp"), Tok::Punct("-"), Tok::Int(1)]
    );
    assert_eq!(
        lexed("1-2").0,
        vec![Tok::Int(1), Tok::Punct("-"), Tok::Int(2)]
    );
    assert_eq!(
        lexed("a--b").0,
        vec![ident("a"), Tok::Punct("-"), Tok::Punct("-"), ident("b")]
    );
    let lets =
        run("let a = 5\nlet b = 2\nlet a-b = 100\nlet d = a-b\nlet s = a - b\nlet n = a -b\n")
            .expect("evaluates");
    assert_eq!(lets["d"], Value::Int(100));
    assert_eq!(lets["s"], Value::Int(3));
    assert_eq!(lets["n"], Value::Int(3));
    assert_eq!(error("undefined-name"), "name::unknown");
}

#[test]
fn ranges_exclude_or_include_the_end() {
    assert_eq!(
        lexed("1..3").0,
        vec![Tok::Int(1), Tok::Punct(".."), Tok::Int(3)]
    );
    assert_eq!(
        lexed("1..=3").0,
        vec![Tok::Int(1), Tok::Punct("..="), Tok::Int(3)]
    );
    assert_eq!(lex_errors("1...3"), vec!["parse::syntax"]);
    assert_eq!(ints("0..3"), vec![0, 1, 2]);
    assert_eq!(ints("0..=3"), vec![0, 1, 2, 3]);
    assert_eq!(ints("3..3"), Vec::<i64>::new());
    assert_eq!(ints("3..=3"), vec![3]);
    assert_eq!(ints("3..=2"), Vec::<i64>::new());
    assert_eq!(ints("-2..1"), vec![-2, -1, 0]);
    assert_eq!(ints("range(0, 3)"), vec![0, 1, 2]);
    // The ends of the int range.
    assert_eq!(
        ints("9223372036854775806..=9223372036854775807"),
        vec![i64::MAX - 1, i64::MAX]
    );
    assert_eq!(
        ints("9223372036854775806..9223372036854775807"),
        vec![i64::MAX - 1]
    );
    assert_eq!(
        ints("-9223372036854775808..=-9223372036854775807"),
        vec![i64::MIN, i64::MIN + 1]
    );
    // Huge ranges are refused before they are built.
    assert_eq!(error("0..100000000000"), "limit::list-length");
    assert_eq!(
        error("-9223372036854775808..=9223372036854775807"),
        "limit::list-length"
    );
    assert_eq!(error("range(0, 9223372036854775807)"), "limit::list-length");
}

#[test]
fn deep_chains_are_refused() {
    // Like the CLI, on a large stack: a 900-deep chain is checked and evaluated recursively.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(deep_chains)
        .expect("thread")
        .join()
        .expect("no panic");
}

fn deep_chains() {
    // Chains are built in loops; their depth is limited so that no phase overflows its stack.
    let sum = |n: usize| format!("1{}", " + 1".repeat(n));
    assert_eq!(int(&sum(900)), 901);
    assert_eq!(error(&sum(5_000)), "limit::depth");
    assert_eq!(
        error(&format!("{{ y = 1 }}{}", ".y".repeat(5_000))),
        "limit::depth"
    );
    assert_eq!(
        error(&format!("1{}", " with { a = 1 }".repeat(5_000))),
        "limit::depth"
    );
    let optional = run(&format!("type T = int{}\n", "?".repeat(5_000)));
    assert_eq!(optional.err(), Some(vec!["limit::depth"]));
    let nested_for = run(&"for i in [1] {\n".repeat(5_000));
    assert_eq!(nested_for.err(), Some(vec!["limit::depth"]));
}
