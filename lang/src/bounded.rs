//! Text with a length limit: how types and compound values are shown in messages. A type or
//! value that shares its parts (a record of two fields that both hold the previous record,
//! forty times over) is small in memory but enormous written out, so writing stops at the
//! limit and the text ends with `…`; the cost is the limit, never the expanded size.

use std::fmt;

/// At most `limit` bytes (on a character boundary) of what `write` writes, followed by `…`
/// when there was more.
pub(crate) fn text(limit: usize, write: impl FnOnce(&mut Bounded) -> fmt::Result) -> String {
    let mut out = Bounded {
        text: String::new(),
        limit,
    };
    // An error here only means the text reached its limit.
    if write(&mut out).is_err() || out.text.len() > limit {
        let mut end = limit.min(out.text.len());
        while !out.text.is_char_boundary(end) {
            end -= 1;
        }
        out.text.truncate(end);
        out.text.push('…');
    }
    out.text
}

/// A string that refuses to grow past its limit: writing fails once it is reached, which
/// stops the writer.
pub(crate) struct Bounded {
    text: String,
    limit: usize,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.text.push_str(s);
        if self.text.len() > self.limit {
            return Err(fmt::Error);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    #[test]
    fn text_stops_at_the_limit() {
        assert_eq!(super::text(10, |w| w.write_str("short")), "short");
        let mut calls = 0;
        let long = super::text(10, |w| loop {
            calls += 1;
            w.write_str("ééé")?;
        });
        assert_eq!(long, "ééééé…");
        assert_eq!(calls, 2);
    }
}
