//! Helpers shared by the text-header readers (NRRD, MetaImage, PAR): the
//! header's lines, data-file names resolved against the header's path, and
//! the error a detached header gives when read without its data.
//!
//! Below the readers: nothing here imports a reader or `formats/mod.rs`.

use crate::error::Error;

/// A detached header read on its own: the error names the data file it needs.
pub(crate) fn missing_data_file(files: &[String]) -> Error {
    Error::bad_input(format!(
        "the data file {} that this header names is missing",
        files.first().map(String::as_str).unwrap_or("")
    ))
}

/// The lines of a text header (split at `\n`), each with the offset just
/// past it: where attached data start when the header ends there.
pub(crate) fn header_lines(bytes: &[u8]) -> impl Iterator<Item = (&[u8], usize)> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let rest = bytes.get(pos..).filter(|r| !r.is_empty())?;
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (rest.get(..i).unwrap_or(&[]), pos + i + 1),
            None => (rest, bytes.len()),
        };
        pos = next;
        Some((line, next))
    })
}

/// Resolves a data file name against the header's path ("a/b/x.nhdr" + "y.raw" → "a/b/y.raw").
pub fn resolve_data_path(header_name: &str, data_file: &str) -> String {
    if data_file.starts_with('/') {
        return data_file.to_string();
    }
    match header_name.rfind(['/', '\\']) {
        Some(i) => format!("{}/{}", header_name.get(..i).unwrap_or(""), data_file),
        None => data_file.to_string(),
    }
}
