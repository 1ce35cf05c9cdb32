//! Benchmark (report only, no timed asserts): the big CT → .nii.gz at gzip
//! levels 1 / 2 / 3 / 6 (native: zlib-rs, chunks compressed in parallel), against `dcm2niix -z y`
//! (pigz) in the same run. Run with
//! `cargo test --release --test export_bench -- --ignored --nocapture`.

mod common;

use std::time::Instant;
use voxdrop::export::nifti::{write_nifti, NiftiOptions};
use voxdrop::Limits;

#[test]
#[ignore]
fn big_ct_gzip_levels_vs_dcm2niix() {
    let Some(dir) = common::big_series("FNNDSC__andrei_abdomen_CT_LIDC-IDRI-0314") else {
        common::record_skip("../shared/corpus/big/FNNDSC__andrei_abdomen_CT_LIDC-IDRI-0314 not found");
        return;
    };
    let mut loader = voxdrop::formats::Loader::new(Limits::default());
    for f in common::files_under(&dir) {
        loader.add(&f.to_string_lossy(), &std::fs::read(&f).unwrap());
    }
    let vol = loader.finish().volumes.remove(0);
    let raw = write_nifti(&vol, NiftiOptions::default()).unwrap().len();
    println!("volume {:?} {}, raw .nii {} bytes", vol.dims, vol.voxels.sample_type().name(), raw);
    for level in [1, 2, 3, 6] {
        let t = Instant::now();
        let gz = write_nifti(&vol, NiftiOptions { gzip: true, gzip_level: Some(level), ..Default::default() }).unwrap();
        let s = t.elapsed().as_secs_f64();
        println!("voxdrop gzip level {level}: {s:.2} s, {} bytes, ratio {:.3}", gz.len(), gz.len() as f64 / raw as f64);
    }
    let out = std::env::temp_dir().join(format!("voxdrop-bench-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let t = Instant::now();
    let st = std::process::Command::new("dcm2niix").args(["-z", "y", "-f", "%s", "-o"]).arg(&out).arg(&dir).output();
    let s = t.elapsed().as_secs_f64();
    match st {
        Ok(o) if o.status.success() => {
            let size: u64 = std::fs::read_dir(&out)
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".nii.gz"))
                .map(|e| e.metadata().unwrap().len())
                .sum();
            println!(
                "dcm2niix -z y (read + convert + pigz): {s:.2} s, {size} bytes, ratio {:.3}",
                size as f64 / raw as f64
            );
        }
        _ => println!("dcm2niix not run"),
    }
    let _ = std::fs::remove_dir_all(&out);
}
