//! Robustness smoke test: every corpus file (`data/`, hostile files included), whole
//! and cut at 16 offsets, through the same loader the app and the CLI use.
//! The only acceptable outcomes are volumes or clean errors — never a panic.

mod common;

use common::{corpus, corpus_present, files_under};
use voxdrop::formats::load_files;
use voxdrop::Limits;

fn offsets(len: usize) -> Vec<usize> {
    // Header boundaries that matter to the readers, then evenly spread cuts.
    let mut v = vec![0, 1, 4, 128, 132, 140, 348, 352, 540, 544];
    for i in 1..=6 {
        v.push(len * i / 7);
    }
    v.retain(|&o| o < len);
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn truncated_corpus_files_never_panic() {
    if !corpus_present() {
        return;
    }
    let files = files_under(&corpus().join("data"));
    let mut panics = Vec::new();
    let mut cases = 0usize;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.to_string_lossy().into_owned();
        let mut cuts = offsets(bytes.len());
        cuts.push(bytes.len());
        for cut in cuts {
            cases += 1;
            let slice = &bytes[..cut];
            let result = std::panic::catch_unwind(|| {
                let loaded = load_files([(name.as_str(), slice)], Limits::default());
                loaded.volumes.len() + loaded.errors.len()
            });
            match result {
                // Every file yields a volume or a reported error, never silence.
                Ok(n) => assert!(n > 0 || cut == bytes.len(), "{name} cut at {cut}: neither volume nor error"),
                Err(_) => panics.push(format!("{name} cut at {cut}")),
            }
        }
    }
    println!("{cases} truncated inputs from {} files", files.len());
    assert!(panics.is_empty(), "panics:\n{}", panics.join("\n"));
}
