//! Rendering diagnostics: human (miette, with an explicit handler so that output does not
//! change with the environment) and JSON (stable field names, 1-based lines and columns).

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use plat_lang::diagnostic::{Diagnostic, Severity};
use plat_lang::source::{SourceFile, SourceMap};

/// How to print diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unicode drawing with colours.
    Color,
    /// Unicode drawing without colours (tests, pipes, `NO_COLOR`).
    Plain,
}

struct Report<'a> {
    diagnostic: &'a Diagnostic,
    /// The lines around the diagnostic, or `None` when no snippet is drawn.
    source: Option<Window<'a>>,
}

/// A file given to miette through its line index. miette's own `SourceCode` for text scans
/// from the start for every span it reads, which made rendering quadratic in the number of
/// diagnostics of a large file (minutes for 50,000 errors); here each read is given only some
/// lines, found by binary search, so it costs the size of those lines.
///
/// Which labels miette draws in one snippet depends on where it finds them in the text it is
/// given (it compares a label's line with the lines it read before the previous one), so a
/// diagnostic whose spans are close together gets one window around all of them, always the
/// same for the same spans; one whose spans are far apart (a duplicate declared thousands of
/// lines after the first) gets a window around each read, and its labels, too far apart to
/// share a snippet either way, are drawn separately.
struct Window<'a> {
    file: &'a SourceFile,
    /// The 1-based lines (inclusive) given to every read, or `None` for the lines around
    /// each read's span.
    lines: Option<(usize, usize)>,
}

impl<'a> Window<'a> {
    /// Lines around every span of a diagnostic shown together: a margin wider than miette's
    /// context lines.
    const MARGIN: usize = 3;
    /// The most lines and bytes a window around all of a diagnostic's spans may have.
    const MAX_LINES: usize = 200;
    const MAX_BYTES: usize = 64 << 10;

    /// The window for a diagnostic with `spans`.
    fn around(file: &'a SourceFile, spans: impl Iterator<Item = plat_lang::span::Span>) -> Self {
        let (mut first, mut last) = (usize::MAX, 1);
        for span in spans {
            first = first.min(file.line_col(span.start).0);
            last = last.max(file.line_col(span.end).0);
        }
        let first = first.min(last).saturating_sub(Self::MARGIN).max(1);
        let last = last + Self::MARGIN;
        let (start, end) = Self::bytes(file, first, last);
        let close = last - first <= Self::MAX_LINES && end - start <= Self::MAX_BYTES;
        Window {
            file,
            lines: close.then_some((first, last)),
        }
    }

    /// The byte range of lines `first..=last` (1-based; past the end is the end).
    fn bytes(file: &SourceFile, first: usize, last: usize) -> (usize, usize) {
        let start = file.line_range(first).map_or(0, |(s, _)| s as usize);
        let end = file
            .line_range(last)
            .map_or(file.text.len(), |(_, e)| e as usize);
        (start, end.max(start))
    }
}

impl SourceCode for Window<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let file = self.file;
        let (first, last) = self.lines.unwrap_or_else(|| {
            let line = |at: usize| file.line_col(u32::try_from(at).unwrap_or(u32::MAX)).0;
            let first = line(span.offset())
                .saturating_sub(context_lines_before + Window::MARGIN)
                .max(1);
            let last = line(span.offset() + span.len())
                .saturating_add(context_lines_after + Window::MARGIN);
            (first, last)
        });
        let (start, end) = Window::bytes(file, first, last);
        let text = &file.text[start..end];
        let local = SourceSpan::new(span.offset().saturating_sub(start).into(), span.len());
        let contents = text.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            file.path.clone(),
            contents.data(),
            SourceSpan::new(
                (contents.span().offset() + start).into(),
                contents.span().len(),
            ),
            contents.line() + first - 1,
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// Columns beyond which no snippet is drawn: miette pads labels with `{:width$}`, which
/// panics for widths above `u16::MAX` (a very long line, such as a generated one), and such
/// a snippet would not be readable anyway. The location is then given in the help.
const MAX_SNIPPET_COLUMN: usize = 10_000;

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

fn source_span(span: plat_lang::span::Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let primary = std::iter::once(LabeledSpan::new_primary_with_span(
            (!self.diagnostic.label.is_empty()).then(|| self.diagnostic.label.clone()),
            source_span(self.diagnostic.span),
        ));
        // Secondary labels in other files cannot be drawn in this snippet; they are listed in
        // the help instead (see `render_human`).
        let file = self.diagnostic.span.file;
        let secondary = self
            .diagnostic
            .secondary
            .iter()
            .filter(move |l| l.span.file == file)
            .map(|l| LabeledSpan::new_with_span(Some(l.message.clone()), source_span(l.span)));
        Some(Box::new(primary.chain(secondary)))
    }
}

/// The most diagnostics [`render_human`] draws; a line after them counts the rest. The JSON
/// report lists every diagnostic.
pub const MAX_HUMAN_DIAGNOSTICS: usize = 100;

/// Renders diagnostics for a terminal or a log, in order: the first
/// [`MAX_HUMAN_DIAGNOSTICS`], then a line saying how many more there are.
pub fn render_human(sources: &SourceMap, diagnostics: &[Diagnostic], style: Style) -> String {
    let handler = handler(style);
    let mut out = String::new();
    for diagnostic in diagnostics.iter().take(MAX_HUMAN_DIAGNOSTICS) {
        let file = sources.get(diagnostic.span.file);
        let mut shown = diagnostic.clone();
        for label in diagnostic
            .secondary
            .iter()
            .filter(|l| l.span.file != diagnostic.span.file)
        {
            let other = sources.get(label.span.file);
            let (line, column) = other.line_col(label.span.start);
            let note = format!("{} ({}:{line}:{column})", label.message, other.path);
            shown.help = Some(match shown.help {
                Some(help) => format!("{help}\n{note}"),
                None => note,
            });
        }
        let spans = || {
            std::iter::once(diagnostic.span).chain(
                diagnostic
                    .secondary
                    .iter()
                    .filter(|l| l.span.file == diagnostic.span.file)
                    .map(|l| l.span),
            )
        };
        let too_wide = spans()
            .flat_map(|span| [span.start, span.end])
            .any(|offset| file.line_col(offset).1 > MAX_SNIPPET_COLUMN);
        let source = if too_wide {
            let (line, column) = file.line_col(diagnostic.span.start);
            let note = format!("at {}:{line}:{column}", file.path);
            shown.help = Some(match shown.help {
                Some(help) => format!("{help}\n{note}"),
                None => note,
            });
            None
        } else {
            Some(Window::around(file, spans()))
        };
        let report = Report {
            diagnostic: &shown,
            source,
        };
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
    }
    if let Some(hidden) = diagnostics.len().checked_sub(MAX_HUMAN_DIAGNOSTICS) {
        if hidden > 0 {
            out.push_str(&not_shown(hidden, diagnostics));
        }
    }
    out
}

/// `… and 49,900 more not shown (50,000 errors in all; ...)`.
fn not_shown(hidden: usize, diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let count =
        |n: usize, what: &str| format!("{} {what}{}", thousands(n), if n == 1 { "" } else { "s" });
    let all = match (errors, warnings) {
        (_, 0) => count(errors, "error"),
        (0, _) => count(warnings, "warning"),
        _ => format!(
            "{} and {}",
            count(errors, "error"),
            count(warnings, "warning")
        ),
    };
    format!(
        "… and {} more not shown ({all} in all; `--format json` lists every one)\n",
        thousands(hidden)
    )
}

/// `49900` as `49,900`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A source span shown with a message and a label, without a code or a severity: what
/// `plat explain` prints for each origin of a generated value.
#[derive(Clone, Debug)]
pub struct Snippet {
    /// The span to draw.
    pub span: plat_lang::span::Span,
    /// The headline.
    pub message: String,
    /// The label under the span.
    pub label: String,
    /// An optional help line.
    pub help: Option<String>,
}

struct SnippetReport<'a> {
    snippet: &'a Snippet,
    source: Window<'a>,
}

impl fmt::Debug for SnippetReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.snippet.message)
    }
}

impl fmt::Display for SnippetReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.snippet.message)
    }
}

impl std::error::Error for SnippetReport<'_> {}

impl miette::Diagnostic for SnippetReport<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.snippet
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                Some(self.snippet.label.clone()),
                source_span(self.snippet.span),
            ),
        )))
    }
}

/// Renders snippets the way diagnostics are rendered (same handler, width and theme).
pub fn render_snippets(sources: &SourceMap, snippets: &[Snippet], style: Style) -> String {
    let handler = handler(style);
    let mut out = String::new();
    for snippet in snippets {
        let report = SnippetReport {
            snippet,
            source: Window::around(
                sources.get(snippet.span.file),
                std::iter::once(snippet.span),
            ),
        };
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
    }
    out
}

fn handler(style: Style) -> GraphicalReportHandler {
    let theme = match style {
        Style::Color => GraphicalTheme::unicode(),
        Style::Plain => GraphicalTheme::unicode_nocolor(),
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
}

/// The JSON report: `{"version":1,"diagnostics":[...]}`.
pub fn render_json(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let items: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let file = sources.get(d.span.file);
            let (line, column) = file.line_col(d.span.start);
            let (end_line, end_column) = file.line_col(d.span.end);
            let secondary: Vec<serde_json::Value> = d
                .secondary
                .iter()
                .map(|l| {
                    let other = sources.get(l.span.file);
                    let (line, column) = other.line_col(l.span.start);
                    serde_json::json!({"file": other.path, "line": line, "column": column, "message": l.message})
                })
                .collect();
            serde_json::json!({
                "code": d.code,
                "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": d.message,
                "file": file.path,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "help": d.help,
                "labels": secondary,
            })
        })
        .collect();
    let report = serde_json::json!({"version": 1, "diagnostics": items});
    format!("{report}\n")
}
