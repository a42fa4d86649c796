//! Every corpus string, written by `plat::emit::yaml` as a value (in mappings, sequences and
//! nested collections) and as a key, must read back as the same string with PyYAML (YAML 1.1,
//! `yaml.safe_load`, what cloud-init uses) and with yaml-rust2 (a YAML 1.2 core-schema reader).
//!
//! PyYAML runs as `python3`; the test fails (rather than skips) when it is missing, because
//! the YAML 1.1 reading is the point of the writer.

use std::io::Write;
use std::process::{Command, Stdio};

use plat::emit::yaml::{self, Yaml};
use serde_json::Value;
use yaml_rust2::{Yaml as Read, YamlLoader};

/// Strings some YAML reader would turn into something else if written carelessly.
fn corpus() -> Vec<String> {
    let fixed = [
        // YAML 1.1 booleans and nulls, in several cases.
        "on",
        "On",
        "ON",
        "off",
        "Off",
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "NO",
        "y",
        "Y",
        "n",
        "N",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "null",
        "Null",
        "NULL",
        "~",
        "",
        // Numbers of either version: sexagesimal, underscores, octal, hex, binary, floats.
        "12:30",
        "190:20:30",
        "1_000",
        "0755",
        "0o17",
        "0x1F",
        "0b1010",
        "+1",
        "-1",
        "1e3",
        "1E3",
        "1.5",
        "1.",
        ".5",
        "6.8523015e+5",
        "1.31",
        "0",
        "00",
        "-0",
        "+.inf",
        ".inf",
        "-.inf",
        ".Inf",
        ".nan",
        ".NaN",
        "inf",
        "nan",
        "NaN",
        "Infinity",
        // Dates and timestamps (YAML 1.1).
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        // Merge key, value key, indicators.
        "<<",
        "=",
        "-",
        "--",
        "---",
        "...",
        "- x",
        "-x",
        "?",
        "? x",
        ":",
        "x:",
        "a: b",
        "a:b",
        "#",
        "# x",
        "a #b",
        "a#b",
        "&a",
        "*a",
        "!a",
        "!!str",
        "|",
        ">",
        "%YAML",
        "@x",
        "`x",
        "'",
        "\"",
        "'x'",
        "\"x\"",
        "[x]",
        "{x: y}",
        "a, b",
        ",",
        "\\",
        "\\n",
        // White space and control characters.
        " ",
        "  ",
        " lead",
        "trail ",
        " both ",
        "a  b",
        "tab\there",
        "\t",
        "\u{0}",
        "\u{1}",
        "\u{7}",
        "\u{1b}[0m",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\u{2028}",
        "\u{2029}",
        "\u{feff}",
        "\u{fffe}",
        "\r",
        "a\rb",
        // Non-ASCII.
        "café",
        "Ünïcödé",
        "日本語",
        "✓",
        "😀",
        "ß:",
        // Ordinary values the emitters write.
        "cp-1",
        "/etc/kubernetes/kubeadm/cp-1.yaml",
        "10.20.0.11/24",
        "10.20.0.1",
        "bc:24:11:0a:00:01",
        "1.31.4-1.1",
        "v1.31.4",
        "ALL=(ALL) NOPASSWD:ALL",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJ0ZXN0 ops@laptop",
        "traefik/whoami:v1.10.3",
        "Europe/Paris",
        "0644",
        // Multi-line text: every chomping, indentation indicator, odd lines.
        "a\nb",
        "a\nb\n",
        "a\nb\n\n",
        "a\nb\n\n\n",
        "\nx",
        "\n\nx\n",
        "  lead\nx\n",
        "\tlead\nx",
        "\n  lead\n",
        "x\n  \ny\n",
        "trail \nspace \n",
        "x\n  ",
        "# not\n- a\n",
        "---\n...\n",
        "key: v\n",
        "\n",
        "\n\n",
        "a\r\nb\n",
        "a\u{85}b\n",
        "é\nü\n",
        "#!/bin/sh\nset -eu\n\tif true; then echo 'x: y' # c\n\tfi\n",
    ];
    let mut strings: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
    // Around the 1024-character limit of implicit keys (quotes count).
    strings.extend([
        "k".repeat(1024),
        "k".repeat(1025),
        format!(" {}", "k".repeat(1022)),
    ]);
    strings.push(format!("{}\n", "long line ".repeat(200)));
    strings.extend(short_strings());
    let mut seen = std::collections::BTreeSet::new();
    strings.retain(|s| seen.insert(s.clone()));
    strings
}

/// Every string of one or two characters over an alphabet of indicators, white space,
/// digits and letters that start YAML 1.1 words (about 1,700 strings).
fn short_strings() -> Vec<String> {
    let alphabet: Vec<char> = "aeEnNoOyYtTfFx0189-+._:#'\"\\ \t\n~<=,[]{}?!&*|>%@`/\u{85}é"
        .chars()
        .collect();
    let mut strings: Vec<String> = alphabet.iter().map(|c| c.to_string()).collect();
    for a in &alphabet {
        for b in &alphabet {
            strings.push(format!("{a}{b}"));
        }
    }
    strings
}

/// One document holding every corpus string as values and keys, in several positions.
fn document(corpus: &[String]) -> Yaml {
    let index = |i: usize| Yaml::Int(i as i64);
    Yaml::map([
        ("values", Yaml::strs(corpus.iter().cloned())),
        (
            "keys",
            Yaml::Map(
                corpus
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.clone(), index(i)))
                    .collect(),
            ),
        ),
        (
            "items",
            Yaml::Seq(
                corpus
                    .iter()
                    .map(|s| Yaml::map([("v", Yaml::str(s.clone())), (s.as_str(), Yaml::Null)]))
                    .collect(),
            ),
        ),
        (
            "deep",
            Yaml::map([(
                "deeper",
                Yaml::Seq(vec![Yaml::Seq(vec![Yaml::strs(corpus.iter().cloned())])]),
            )]),
        ),
    ])
}

/// What a reader made of each position of the document, in corpus order.
/// A key that went missing (read as a duplicate of another) stays `null`.
fn read_back(doc: &Value, len: usize) -> Vec<(&'static str, Vec<Value>)> {
    let mut keyed = vec![Value::Null; len];
    for (key, i) in doc["keys"].as_object().expect("keys") {
        keyed[i.as_u64().expect("index") as usize] = Value::String(key.clone());
    }
    let items = doc["items"].as_array().expect("items");
    let item_key = |item: &Value| {
        let item = item.as_object().expect("item");
        let key = item.keys().find(|k| item[*k].is_null()).cloned();
        Value::String(key.unwrap_or_else(|| "v".into()))
    };
    vec![
        ("value", doc["values"].as_array().expect("values").clone()),
        ("key", keyed),
        ("item value", items.iter().map(|m| m["v"].clone()).collect()),
        ("item key", items.iter().map(item_key).collect()),
        (
            "deep value",
            doc["deep"]["deeper"][0][0]
                .as_array()
                .expect("deep")
                .clone(),
        ),
    ]
}

fn assert_round_trip(reader: &str, doc: &Value, corpus: &[String]) {
    for (position, read) in read_back(doc, corpus.len()) {
        assert_eq!(read.len(), corpus.len(), "{reader}: {position}s");
        for (got, want) in read.iter().zip(corpus) {
            assert!(
                got == want,
                "{reader} as {position}: wrote {want:?}, read {got}"
            );
        }
    }
}

/// PyYAML's reading of `text` (through `script`) as JSON.
fn python(script: &str, text: &str) -> Value {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with PyYAML is needed for this test");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("python3 runs");
    assert!(
        output.status.success(),
        "PyYAML rejected the document:\n{text}"
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

fn pyyaml(text: &str) -> Value {
    python(
        "import yaml,json,sys; print(json.dumps(yaml.safe_load(sys.stdin)))",
        text,
    )
}

/// yaml-rust2's tree as JSON (mapping keys must be strings, as they are here).
fn to_json(node: &Read) -> Value {
    match node {
        Read::String(s) => Value::String(s.clone()),
        Read::Integer(i) => Value::from(*i),
        Read::Null => Value::Null,
        Read::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Read::Hash(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().expect("string key").to_string(), to_json(v)))
                .collect(),
        ),
        other => panic!("YAML 1.2 read a non-string scalar: {other:?}"),
    }
}

#[test]
fn pyyaml_reads_every_string_back() {
    let corpus = corpus();
    let text = yaml::to_string(&document(&corpus));
    assert_round_trip("PyYAML", &pyyaml(&text), &corpus);
}

#[test]
fn yaml_1_2_reads_every_string_back() {
    let corpus = corpus();
    let text = yaml::to_string(&document(&corpus));
    let docs = YamlLoader::load_from_str(&text).expect("YAML 1.2 parses");
    assert_eq!(docs.len(), 1);
    assert_round_trip("yaml-rust2", &to_json(&docs[0]), &corpus);
}

#[test]
fn pyyaml_reads_documents_back() {
    let corpus = corpus();
    let docs: Vec<Yaml> = corpus.iter().map(|s| Yaml::strs([s.clone()])).collect();
    let script = "import yaml,json,sys; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))";
    let read = python(script, &yaml::documents(&docs));
    let read = read.as_array().expect("documents");
    assert_eq!(read.len(), corpus.len());
    for (got, want) in read.iter().zip(&corpus) {
        assert!(got[0] == *want, "document: wrote {want:?}, read {got}");
    }
}
