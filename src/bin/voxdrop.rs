//! voxdrop command-line tool: the same core as the browser app, for batch work.
//!
//! ```text
//! voxdrop info PATH... [--json]
//! voxdrop convert PATH... -o OUT.nii[.gz]
//! ```

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use clap::{Parser, Subcommand};
    use std::path::{Path, PathBuf};
    use voxdrop::export::nifti::{write_nifti, NiftiOptions};
    use voxdrop::formats::{Loaded, Loader};
    use voxdrop::{Error, Limits, Volume};

    #[derive(Parser)]
    #[command(
        name = "voxdrop",
        version,
        about = "Medical images (DICOM, NIfTI) to correctly oriented volumes, privately"
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// List the series and volumes found: dims, spacing, orientation, sample type, warnings.
        Info {
            /// Files or folders (searched recursively).
            #[arg(required = true)]
            paths: Vec<PathBuf>,
            /// Print JSON instead of text.
            #[arg(long)]
            json: bool,
        },
        /// Convert to NIfTI. With several series, OUT is a folder and each series
        /// is written as <SeriesNumber>_<SeriesDescription>.nii.gz.
        Convert {
            /// Files or folders (searched recursively).
            #[arg(required = true)]
            paths: Vec<PathBuf>,
            /// Output file (.nii or .nii.gz) or folder.
            #[arg(short, long)]
            output: PathBuf,
        },
    }

    fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
        let mut out = Vec::new();
        for p in paths {
            if p.is_dir() {
                let mut stack = vec![p.clone()];
                while let Some(d) = stack.pop() {
                    let rd = std::fs::read_dir(&d).map_err(|e| Error::io(format!("{}: {e}", d.display())))?;
                    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
                    entries.sort();
                    for e in entries {
                        let hidden = e.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
                        if hidden {
                            continue;
                        }
                        if e.is_dir() {
                            stack.push(e);
                        } else {
                            out.push(e);
                        }
                    }
                }
            } else if p.exists() {
                out.push(p.clone());
            } else {
                return Err(Error::io(format!("{}: no such file or folder", p.display())));
            }
        }
        Ok(out)
    }

    fn load(paths: &[PathBuf]) -> Result<Loaded, Error> {
        let files = collect(paths)?;
        let mut loader = Loader::new(Limits::default());
        for f in &files {
            let name = f.to_string_lossy();
            match std::fs::read(f) {
                Ok(bytes) => loader.add(&name, &bytes),
                Err(e) => eprintln!("warning: {name}: {e}"),
            }
        }
        Ok(loader.finish())
    }

    fn volume_json(v: &Volume) -> serde_json::Value {
        let g = &v.geometry;
        serde_json::json!({
            "format": v.meta.format,
            "modality": v.meta.modality,
            "series_number": v.meta.series_number,
            "series_description": v.meta.series_description,
            "dims": v.dims,
            "components": v.components,
            "sample_type": v.voxels.sample_type().name(),
            "spacing": g.spacing,
            "origin_lps": g.origin,
            "direction_lps": g.direction,
            "orientation": g.axcodes(),
            "affine_ras": g.ras_from_voxel(),
            "transfer_syntax": v.meta.transfer_syntax,
            "warnings": v.meta.warnings,
        })
    }

    fn describe(v: &Volume) -> String {
        let g = &v.geometry;
        let [nx, ny, nz, nt] = v.dims;
        let dims = if nt > 1 { format!("{nx}×{ny}×{nz}×{nt}") } else { format!("{nx}×{ny}×{nz}") };
        let name = match (&v.meta.series_number, &v.meta.series_description) {
            (Some(n), Some(d)) => format!("series {n} \"{d}\""),
            (Some(n), None) => format!("series {n}"),
            (None, Some(d)) => format!("\"{d}\""),
            (None, None) => "volume".to_string(),
        };
        format!(
            "{name} [{}{}]: {dims} {}, spacing {:.4}×{:.4}×{:.4} mm, orientation {}",
            v.meta.format,
            v.meta.modality.as_deref().map(|m| format!(" {m}")).unwrap_or_default(),
            v.voxels.sample_type().name(),
            g.spacing[0],
            g.spacing[1],
            g.spacing[2],
            g.axcodes()
        )
    }

    /// `<SeriesNumber>_<SeriesDescription>` with only safe characters (never patient fields).
    fn output_stem(v: &Volume, index: usize) -> String {
        let number = v.meta.series_number.map(|n| n.to_string()).unwrap_or_else(|| format!("{}", index + 1));
        let desc: String = v
            .meta
            .series_description
            .as_deref()
            .unwrap_or("")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
            .collect();
        let desc = desc.trim_matches('_');
        if desc.is_empty() {
            number
        } else {
            format!("{number}_{desc}")
        }
    }

    fn report_errors(loaded: &Loaded) {
        for e in &loaded.errors {
            eprintln!("skipped: {e}");
        }
    }

    fn run() -> Result<(), Error> {
        let cli = Cli::parse();
        match cli.command {
            Command::Info { paths, json } => {
                let loaded = load(&paths)?;
                if json {
                    let doc = serde_json::json!({
                        "volumes": loaded.volumes.iter().map(volume_json).collect::<Vec<_>>(),
                        "errors": loaded.errors.iter().map(|e| serde_json::json!({
                            "file": e.file, "kind": e.kind, "message": e.message
                        })).collect::<Vec<_>>(),
                    });
                    println!("{}", serde_json::to_string_pretty(&doc).map_err(|e| Error::io(e.to_string()))?);
                } else {
                    for v in &loaded.volumes {
                        println!("{}", describe(v));
                        for w in &v.meta.warnings {
                            println!("  warning: {w}");
                        }
                    }
                    report_errors(&loaded);
                }
                if loaded.volumes.is_empty() {
                    return Err(Error::bad_input("no readable image found"));
                }
                Ok(())
            }
            Command::Convert { paths, output } => {
                let loaded = load(&paths)?;
                report_errors(&loaded);
                if loaded.volumes.is_empty() {
                    return Err(Error::bad_input("no readable image found"));
                }
                let out_name = output.to_string_lossy().to_ascii_lowercase();
                let single_file = out_name.ends_with(".nii") || out_name.ends_with(".nii.gz");
                if loaded.volumes.len() == 1 && single_file {
                    write_one(&loaded.volumes[0], &output, out_name.ends_with(".gz"))?;
                } else {
                    if single_file {
                        return Err(Error::parameter(format!(
                            "{} series were found: give a folder as the output, not {}",
                            loaded.volumes.len(),
                            output.display()
                        )));
                    }
                    std::fs::create_dir_all(&output).map_err(|e| Error::io(format!("{}: {e}", output.display())))?;
                    let mut used = std::collections::HashSet::new();
                    for (i, v) in loaded.volumes.iter().enumerate() {
                        let mut stem = output_stem(v, i);
                        let mut n = 1;
                        while !used.insert(stem.clone()) {
                            n += 1;
                            stem = format!("{}_{n}", output_stem(v, i));
                        }
                        write_one(v, &output.join(format!("{stem}.nii.gz")), true)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn write_one(v: &Volume, path: &Path, gzip: bool) -> Result<(), Error> {
        let bytes = write_nifti(v, NiftiOptions { gzip, ..Default::default() })?;
        std::fs::write(path, bytes).map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
        eprintln!("wrote {} ({})", path.display(), describe(v));
        Ok(())
    }

    pub fn main() -> std::process::ExitCode {
        match run() {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("voxdrop: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
