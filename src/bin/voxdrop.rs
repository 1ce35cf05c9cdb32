//! voxdrop command-line tool: the same core as the browser app, for batch work.
//!
//! ```text
//! voxdrop info PATH... [--json]
//! voxdrop convert PATH... -o OUT.nii[.gz]
//! voxdrop preprocess PATH... -o OUT.nii[.gz] [--resample 1,1,1] [--interp linear] [--clip -1000,400]
//!     [--normalize minmax|zscore] [--mask LABELS [--crop-to-mask] [--margin MM]]
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
        /// Resample, clip, normalise and crop one volume; write NIfTI.
        Preprocess(PreprocessArgs),
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
            Command::Preprocess(args) => preprocess(args),
        }
    }

    fn write_one(v: &Volume, path: &Path, gzip: bool) -> Result<(), Error> {
        let bytes = write_nifti(v, NiftiOptions { gzip, ..Default::default() })?;
        std::fs::write(path, bytes).map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
        eprintln!("wrote {} ({})", path.display(), describe(v));
        Ok(())
    }

    #[derive(clap::Args)]
    struct PreprocessArgs {
        /// Files or folders holding one volume.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output file (.nii or .nii.gz).
        #[arg(short, long)]
        output: PathBuf,
        /// Target spacing x,y,z in mm.
        #[arg(long)]
        resample: Option<String>,
        /// nearest | linear | bspline.
        #[arg(long, default_value = "linear")]
        interp: String,
        /// Clip to LO,HI (with --normalize minmax: map LO..HI onto 0..1).
        #[arg(long, allow_hyphen_values = true)]
        clip: Option<String>,
        /// minmax | zscore (statistics over the mask when one is given).
        #[arg(long)]
        normalize: Option<String>,
        /// A label volume on the same grid (or any grid: it is resampled, nearest).
        #[arg(long)]
        mask: Option<PathBuf>,
        /// Crop to the mask's bounding box (plus --margin mm) before resampling.
        #[arg(long, requires = "mask")]
        crop_to_mask: bool,
        /// Margin around the mask in mm.
        #[arg(long, default_value_t = 0.0)]
        margin: f64,
    }

    fn numbers<const N: usize>(s: &str, what: &str) -> Result<[f64; N], Error> {
        let v: Vec<f64> = s
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| Error::parameter(format!("--{what} {s:?}: expected {N} comma-separated numbers")))?;
        v.try_into().map_err(|_| Error::parameter(format!("--{what} {s:?}: expected {N} numbers")))
    }

    fn one_volume(paths: &[PathBuf]) -> Result<Volume, Error> {
        let mut loaded = load(paths)?;
        report_errors(&loaded);
        match loaded.volumes.len() {
            1 => Ok(loaded.volumes.remove(0)),
            0 => Err(Error::bad_input("no readable image found")),
            n => Err(Error::parameter(format!("{n} volumes found; preprocess takes one"))),
        }
    }

    fn preprocess(a: PreprocessArgs) -> Result<(), Error> {
        use voxdrop::ops::{crop, normalize as norm, resample as rs};
        let limits = Limits::default();
        let mut vol = one_volume(&a.paths)?;
        let interp: rs::Interpolator = a.interp.parse()?;
        let fill = rs::default_fill(&vol);
        let mut mask_vol = match &a.mask {
            Some(m) => {
                let labels = one_volume(std::slice::from_ref(m))?;
                let same = labels.dims[..3] == vol.dims[..3] && labels.geometry == vol.geometry;
                Some(if same {
                    labels
                } else {
                    rs::resample_like(&labels, &vol, rs::Interpolator::Nearest, 0.0, &limits)?
                })
            }
            None => None,
        };
        if a.crop_to_mask {
            if let Some(m) = &mask_vol {
                let region = crop::mask_region(&vol, &crop::mask_from_labels(m, None), a.margin)?;
                vol = crop::crop(&vol, region, fill, &limits)?;
                mask_vol = Some(crop::crop(m, region, 0.0, &limits)?);
            }
        }
        if let Some(r) = &a.resample {
            let target = numbers::<3>(r, "resample")?;
            vol = rs::resample_to_spacing(&vol, target, interp, fill, &limits)?;
            if let Some(m) = &mask_vol {
                mask_vol = Some(rs::resample_to_spacing(m, target, rs::Interpolator::Nearest, 0.0, &limits)?);
            }
        }
        let mask = mask_vol.as_ref().map(|m| crop::mask_from_labels(m, None));
        let clip = a.clip.as_deref().map(|c| numbers::<2>(c, "clip")).transpose()?;
        match (a.normalize.as_deref(), clip) {
            (None, None) => {}
            (None, Some([lo, hi])) => vol = norm::clip(&vol, lo, hi, &limits)?,
            (Some("minmax"), Some([lo, hi])) => {
                vol = norm::normalize(&vol, norm::Normalize::ClipMinMax { lo, hi }, None, &limits)?
            }
            (Some(how), clip) => {
                if let Some([lo, hi]) = clip {
                    vol = norm::clip(&vol, lo, hi, &limits)?;
                }
                let how = match how {
                    "minmax" => norm::Normalize::MinMax,
                    "zscore" => norm::Normalize::ZScore,
                    other => return Err(Error::parameter(format!("--normalize {other:?}: minmax or zscore"))),
                };
                vol = norm::normalize(&vol, how, mask.as_deref(), &limits)?;
            }
        }
        let gzip = a.output.to_string_lossy().to_ascii_lowercase().ends_with(".gz");
        write_one(&vol, &a.output, gzip)
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
