//! voxdrop command-line tool: the same core as the browser app, for batch work.
//!
//! ```text
//! voxdrop info PATH... [--json]
//! voxdrop convert PATH... -o OUT [-f %s_%d] [--format nii|nii.gz|nrrd|npy|npy-xyz|png-zip|png-dir|apng]
//!     [--window C,W] [--bits 8|16] [--labels] [--axis x|y|z] [--keep-phi] [--resample X,Y,Z [--interp linear]]
//! voxdrop preprocess PATH... -o OUT.nii[.gz] [--resample 1,1,1] [--interp linear] [--clip -1000,400]
//!     [--normalize minmax|zscore] [--mask LABELS [--crop-to-mask] [--margin MM]]
//! voxdrop mesh PATH... --threshold 400 -o bone.stl|bone.obj [--label N] [--smooth 10] [--decimate MM] [--close]
//! ```

#[cfg(not(target_arch = "wasm32"))]
#[path = "voxdrop/input.rs"]
mod input;

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use clap::{Parser, Subcommand};
    use std::io::IsTerminal;
    use std::path::{Path, PathBuf};
    use voxdrop::export::nifti::{write_nifti, NiftiOptions};
    use voxdrop::export::png_stack::PngMode;
    use voxdrop::export::provenance::Step;
    use voxdrop::export::{self, naming, ExportOptions, OutputFormat};
    use voxdrop::formats::Loaded;
    use voxdrop::session::{ExportRequest, PngChoice};
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
        /// Convert to NIfTI (default), NRRD, .npy or PNG stacks, with a JSON sidecar.
        /// OUT is a file when one volume is found and OUT ends in .nii/.nii.gz/.nrrd/.npy/.zip,
        /// else a folder holding one output per series named by -f.
        Convert(ConvertArgs),
        /// Resample, clip, normalise and crop one volume; write NIfTI.
        Preprocess(PreprocessArgs),
        /// Iso-surface (marching cubes) of one volume at a threshold or of one label; write STL or OBJ (LPS mm).
        Mesh(MeshArgs),
    }

    use crate::input::{list, load, progress_bar};

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

    fn report_errors(loaded: &Loaded) {
        for e in &loaded.errors {
            eprintln!("skipped: {e}");
        }
    }

    fn run() -> Result<(), Error> {
        let cli = Cli::parse();
        match cli.command {
            Command::Info { paths, json } => {
                let loaded = load(&paths, None)?;
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
            Command::Convert(args) => convert(args),
            Command::Preprocess(args) => preprocess(args),
            Command::Mesh(args) => mesh(args),
        }
    }

    fn write_one(v: &Volume, path: &Path, gzip: bool) -> Result<(), Error> {
        let bytes = write_nifti(v, NiftiOptions { gzip, ..Default::default() })?;
        std::fs::write(path, bytes).map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
        eprintln!("wrote {} ({})", path.display(), describe(v));
        Ok(())
    }

    #[derive(clap::Args)]
    struct ConvertArgs {
        /// Files or folders (searched recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output file or folder.
        #[arg(short, long)]
        output: PathBuf,
        /// File name pattern: %s series number, %d description, %p protocol, %m modality,
        /// %t date and time (needs --keep-phi), %% percent.
        #[arg(short = 'f', long = "filename", default_value = naming::DEFAULT_PATTERN)]
        filename: String,
        /// nii | nii.gz | nrrd | nrrd-raw | npy (z,y,x) | npy-xyz | png-zip | png-dir | apng (cine).
        /// Default: from OUT's extension, else nii.gz.
        #[arg(long)]
        format: Option<String>,
        /// PNG window CENTER,WIDTH (default: the file's own window, else min–max).
        #[arg(long, allow_hyphen_values = true)]
        window: Option<String>,
        /// PNG bits: 8 (windowed) or 16 (stored values with an offset).
        #[arg(long, default_value_t = 8)]
        bits: u8,
        /// PNG: 8-bit label values kept (no window).
        #[arg(long)]
        labels: bool,
        /// PNG slice axis: x, y or z.
        #[arg(long, default_value = "z")]
        axis: String,
        /// Cine frames per second (apng).
        #[arg(long, default_value_t = 10)]
        fps: u16,
        /// Keep patient-identifying fields in the JSON sidecar (never in image files or names).
        #[arg(long)]
        keep_phi: bool,
        /// Write no JSON sidecar.
        #[arg(long)]
        no_sidecar: bool,
        /// Voxel spacing X,Y,Z mm of PNG / JPEG / TIFF slice stacks (the images carry none; default 1,1,1).
        #[arg(long)]
        stack_spacing: Option<String>,
        /// Resample to spacing X,Y,Z mm before writing.
        #[arg(long)]
        resample: Option<String>,
        /// nearest | linear | bspline (with --resample).
        #[arg(long, default_value = "linear")]
        interp: String,
    }

    /// The output format, from --format or OUT's extension.
    fn output_format(a: &ConvertArgs) -> Result<(String, bool), Error> {
        let name = a.output.to_string_lossy().to_ascii_lowercase();
        let from_ext = [
            (".nii.gz", "nii.gz"),
            (".nii", "nii"),
            (".nrrd", "nrrd"),
            ("_xyz.npy", "npy-xyz"),
            (".npy", "npy"),
            (".zip", "png-zip"),
            (".png", "apng"),
        ]
        .iter()
        .find(|(ext, _)| name.ends_with(ext))
        .map(|(_, f)| f.to_string());
        let single = from_ext.is_some();
        let f = match (&a.format, from_ext) {
            (Some(f), _) => f.clone(),
            (None, Some(f)) => f,
            (None, None) => "nii.gz".to_string(),
        };
        Ok((f, single))
    }

    /// The export the arguments ask for, as the page's export panel asks
    /// for one: [`ExportRequest::options`] maps both to the core's options.
    fn export_request(a: &ConvertArgs, format: &str) -> Result<ExportRequest, Error> {
        let axis = match a.axis.as_str() {
            "x" | "0" | "sagittal" => 0,
            "y" | "1" | "coronal" => 1,
            "z" | "2" | "axial" => 2,
            other => return Err(Error::parameter(format!("--axis {other:?}: x, y or z"))),
        };
        let (png, window) = match (a.labels, a.bits, &a.window) {
            (true, _, _) => (PngChoice::Labels8, None),
            (false, 16, None) => (PngChoice::Stored16, None),
            (false, 16, Some(_)) => return Err(Error::parameter("--window applies to 8-bit PNGs; drop --bits 16")),
            (false, 8, Some(w)) => {
                let [center, width] = numbers::<2>(w, "window")?;
                (PngChoice::Window8, Some(voxdrop::volume::Window { center, width }))
            }
            (false, 8, None) => (PngChoice::Window8, None),
            (false, b, _) => return Err(Error::parameter(format!("--bits {b}: 8 or 16"))),
        };
        Ok(ExportRequest {
            format: format.to_string(),
            keep_phi: a.keep_phi,
            sidecar: !a.no_sidecar,
            axis,
            png: Some(png),
            window,
            labels: false,
            pattern: Some(a.filename.clone()),
        })
    }

    /// The extra NIfTI copies dcm2niix writes beside a series, named as it
    /// names them: the tilt-corrected copy `_Tilt_1` for a gantry-tilted
    /// stack, the equidistant copy `_Eq_1` for unevenly spaced slices, and
    /// for both, only the equidistant copy of the tilt-corrected one
    /// (`_Tilt_Eq_1`). Returns the note for the user, if any copy was written.
    fn write_copies(
        v: &Volume,
        stem: &str,
        fmt: OutputFormat,
        opts: &ExportOptions,
        folder: &Path,
    ) -> Result<Option<String>, Error> {
        let no_sidecar = ExportOptions { no_sidecar: true, ..opts.clone() };
        let (copy, name, what) = match export::untilt(v, &Limits::default())? {
            Some(t) => match export::equalize(&t)? {
                Some(eq) => (
                    eq,
                    format!("{stem}_Tilt_Eq_1"),
                    "gantry tilt and uneven slices: also wrote the tilt-corrected, equidistant copy",
                ),
                None => (t, format!("{stem}_Tilt_1"), "gantry tilt: also wrote the tilt-corrected copy"),
            },
            None => match export::equalize(v)? {
                Some(eq) => (eq, format!("{stem}_Eq_1"), "slices unevenly spaced: also wrote the equidistant copy"),
                None => return Ok(None),
            },
        };
        export_to_files(&copy, &name, fmt, &no_sidecar, folder)?;
        Ok(Some(format!("  note: {what} {name}\n")))
    }

    /// Writes `vol` as `format` into `folder` through [`export::export_to`]:
    /// each output file is written piece by piece as it is made. Returns the
    /// file names, main file first.
    fn export_to_files(
        vol: &Volume,
        stem: &str,
        format: OutputFormat,
        opts: &ExportOptions,
        folder: &Path,
    ) -> Result<Vec<String>, Error> {
        use std::io::Write;
        type Open = (String, std::io::BufWriter<std::fs::File>);
        fn close(open: Option<Open>, folder: &Path) -> Result<(), Error> {
            match open {
                Some((name, mut w)) => {
                    w.flush().map_err(|e| Error::io(format!("{}: {e}", folder.join(name).display())))
                }
                None => Ok(()),
            }
        }
        let mut open: Option<Open> = None;
        let names = export::export_to(vol, stem, format, opts, &mut |name, piece| {
            if open.as_ref().map(|(n, _)| n.as_str()) != Some(name) {
                close(open.take(), folder)?;
                let path = folder.join(name);
                let file = std::fs::File::create(&path).map_err(|e| Error::io(format!("{}: {e}", path.display())))?;
                open = Some((name.to_string(), std::io::BufWriter::with_capacity(1 << 20, file)));
            }
            match open.as_mut() {
                Some((_, w)) => {
                    w.write_all(piece).map_err(|e| Error::io(format!("{}: {e}", folder.join(name).display())))
                }
                None => Ok(()),
            }
        })?;
        close(open, folder)?;
        Ok(names)
    }

    fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
        std::fs::write(path, bytes).map_err(|e| Error::io(format!("{}: {e}", path.display())))
    }

    fn convert(a: ConvertArgs) -> Result<(), Error> {
        let stack_spacing = a.stack_spacing.as_deref().map(|s| numbers::<3>(s, "stack-spacing")).transpose()?;
        if stack_spacing.is_some_and(|s| s.iter().any(|v| !(v.is_finite() && *v > 0.0))) {
            return Err(Error::parameter("--stack-spacing: three positive numbers X,Y,Z in mm"));
        }
        // Listed first; each series is then read, converted and dropped in
        // turn, so only the volumes being converted are held.
        let (disk, found) = list(&a.paths, stack_spacing)?;
        for e in &found.errors {
            eprintln!("skipped: {e}");
        }
        if found.ids.is_empty() {
            return Err(Error::bad_input("no readable image found"));
        }
        let (format, single_name) = output_format(&a)?;
        let request = export_request(&a, &format)?;
        let opts = request.options()?;
        let single = single_name && found.ids.len() == 1;
        if single_name && !single {
            return Err(Error::parameter(format!(
                "{} series were found: give a folder as the output, not {}",
                found.ids.len(),
                a.output.display()
            )));
        }
        let folder =
            if single { a.output.parent().map(Path::to_path_buf).unwrap_or_default() } else { a.output.clone() };
        if !folder.as_os_str().is_empty() {
            std::fs::create_dir_all(&folder).map_err(|e| Error::io(format!("{}: {e}", folder.display())))?;
        }
        let progress = std::io::stderr().is_terminal();
        let total = found.ids.len();
        // Names first (serially: duplicates get _2, _3 … in series order),
        // from the listed headers (a series' header is its volume but the voxels).
        let mut used = std::collections::HashSet::new();
        let mut stems = Vec::with_capacity(total);
        for (i, &id) in found.ids.iter().enumerate() {
            let v = disk.session.header(id).ok_or_else(|| Error::parameter(format!("no volume {id}")))?;
            stems.push(if single {
                // The name the user gave, without its extension(s).
                let name = a.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let lower = name.to_ascii_lowercase();
                let cut = [".nii.gz", "_xyz.npy", "_zyx.npy", ".nii", ".nrrd", ".npy", ".zip", ".png"]
                    .iter()
                    .find(|e| lower.ends_with(*e))
                    .map(|e| name.len() - e.len())
                    .unwrap_or(name.len());
                name[..cut].to_string()
            } else {
                let base = request.stem(&v.meta, i)?;
                let mut stem = base.clone();
                let mut n = 1;
                while !used.insert(stem.clone()) {
                    n += 1;
                    stem = format!("{base}_{n}");
                }
                stem
            });
        }
        let pb = progress_bar(total, "converting");
        let convert_one = |v: &Volume, stem: &str| -> Result<(), Error> {
            let resampled;
            let v = match &a.resample {
                Some(r) => {
                    use voxdrop::ops::resample as rs;
                    let target = numbers::<3>(r, "resample")?;
                    let interp: rs::Interpolator = a.interp.parse()?;
                    resampled = rs::resample_to_spacing(v, target, interp, rs::default_fill(v), &Limits::default())?;
                    &resampled
                }
                None => v,
            };
            let mut streamed: Option<String> = None;
            let mut eq_note: Option<String> = None;
            let files: Vec<(String, Vec<u8>)> = match format.as_str() {
                "png-dir" => {
                    let dir = folder.join(stem);
                    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("{}: {e}", dir.display())))?;
                    export::png_stack::write_png_files(v, &opts.png)?
                        .into_iter()
                        .map(|(n, b)| (format!("{stem}/{n}"), b))
                        .collect()
                }
                "apng" => {
                    let window = match opts.png.mode {
                        PngMode::Window8With(w) => Some(w),
                        _ => None,
                    };
                    vec![(format!("{stem}.png"), export::png_stack::write_cine(v, opts.png.axis, window, a.fps)?)]
                }
                f => {
                    // Streamed to the files: the volume is never held a second time as bytes.
                    let fmt: OutputFormat = f.parse()?;
                    streamed = export_to_files(v, stem, fmt, &opts, &folder)?.into_iter().next();
                    if let OutputFormat::Nifti { .. } = fmt {
                        eq_note = write_copies(v, stem, fmt, &opts, &folder)?;
                    }
                    Vec::new()
                }
            };
            for (name, bytes) in &files {
                write_file(&folder.join(name), bytes)?;
            }
            let main = streamed.as_deref().or(files.first().map(|f| f.0.as_str())).unwrap_or("");
            let mut note = String::new();
            if !progress {
                note.push_str(&format!("wrote {} ({})\n", folder.join(main).display(), describe(v)));
            }
            for w in &v.meta.warnings {
                note.push_str(&format!("  warning: {w}\n"));
            }
            note.push_str(eq_note.as_deref().unwrap_or(""));
            // One write per series, so parallel series never interleave lines.
            pb.suspend(|| eprint!("{note}"));
            Ok(())
        };
        // Series in parallel (each one's gzip is parallel too; rayon shares the threads).
        use rayon::prelude::*;
        let results: Vec<Result<(), Error>> = found
            .ids
            .par_iter()
            .zip(stems.par_iter())
            .map(|(&id, stem)| {
                let (v, errs) = disk.fill(id);
                if !errs.is_empty() {
                    let note: String = errs.iter().map(|e| format!("skipped: {e}\n")).collect();
                    pb.suspend(|| eprint!("{note}"));
                }
                let r = v.and_then(|v| convert_one(&v, stem));
                pb.inc(1);
                r
            })
            .collect();
        pb.finish_and_clear();
        let mut failures = 0;
        for (i, r) in results.into_iter().enumerate() {
            if let Err(e) = r {
                if total == 1 {
                    return Err(e);
                }
                eprintln!("failed: series {}: {e}", i + 1);
                failures += 1;
            }
        }
        if failures > 0 {
            return Err(Error::io(format!("{failures} of {total} series could not be written")));
        }
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
        /// Print each stage's wall time (read, resample, normalise, write) to stderr.
        #[arg(long)]
        timings: bool,
        /// Write no JSON sidecar (by default OUT.json records the processing chain).
        #[arg(long)]
        no_sidecar: bool,
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
        let mut loaded = load(paths, None)?;
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
        let mut clock = std::time::Instant::now();
        let mut stages: Vec<(&str, f64)> = Vec::new();
        let mut lap = |name: &'static str| {
            stages.push((name, clock.elapsed().as_secs_f64()));
            clock = std::time::Instant::now();
        };
        let mut vol = one_volume(&a.paths)?;
        lap("read");
        // What is done, as the page's Process panel records it (export::provenance).
        let mut chain: Vec<Step> = Vec::new();
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
                chain.push(Step::Crop { margin: a.margin });
            }
        }
        if let Some(r) = &a.resample {
            let target = numbers::<3>(r, "resample")?;
            vol = rs::resample_to_spacing(&vol, target, interp, fill, &limits)?;
            chain.push(Step::Resample { spacing: target, interp });
            if let Some(m) = &mask_vol {
                mask_vol = Some(rs::resample_to_spacing(m, target, rs::Interpolator::Nearest, 0.0, &limits)?);
            }
            lap("resample");
        }
        let mask = mask_vol.as_ref().map(|m| crop::mask_from_labels(m, None));
        let clip = a.clip.as_deref().map(|c| numbers::<2>(c, "clip")).transpose()?;
        match (a.normalize.as_deref(), clip) {
            (None, None) => {}
            (None, Some([lo, hi])) => {
                vol = norm::clip(&vol, lo, hi, &limits)?;
                chain.push(Step::Clip { lo, hi });
            }
            (Some("minmax"), Some([lo, hi])) => {
                vol = norm::normalize(&vol, norm::Normalize::ClipMinMax { lo, hi }, None, &limits)?;
                chain.push(Step::Normalize { how: "minmax".into(), range: Some([lo, hi]), masked: false });
            }
            (Some(how), clip) => {
                if let Some([lo, hi]) = clip {
                    vol = norm::clip(&vol, lo, hi, &limits)?;
                    chain.push(Step::Clip { lo, hi });
                }
                let kind = match how {
                    "minmax" => norm::Normalize::MinMax,
                    "zscore" => norm::Normalize::ZScore,
                    other => return Err(Error::parameter(format!("--normalize {other:?}: minmax or zscore"))),
                };
                vol = norm::normalize(&vol, kind, mask.as_deref(), &limits)?;
                chain.push(Step::Normalize { how: how.into(), range: None, masked: mask.is_some() });
            }
        }
        lap("normalise");
        let gzip = a.output.to_string_lossy().to_ascii_lowercase().ends_with(".gz");
        if !chain.is_empty() {
            voxdrop::export::provenance::mark_derived(&mut vol.meta);
        }
        write_one(&vol, &a.output, gzip)?;
        if !a.no_sidecar {
            let name = a.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let stem = name.strip_suffix(".gz").unwrap_or(&name);
            let stem = stem.strip_suffix(".nii").unwrap_or(stem);
            let json = a.output.with_file_name(format!("{stem}.json"));
            let opts = ExportOptions { processing: chain, ..Default::default() };
            std::fs::write(&json, voxdrop::export::sidecar_bytes(&vol, &opts)?)
                .map_err(|e| Error::io(format!("{}: {e}", json.display())))?;
            eprintln!("wrote {}", json.display());
        }
        lap("write");
        if a.timings {
            let line: Vec<String> = stages.iter().map(|(n, s)| format!("{n} {s:.3} s")).collect();
            eprintln!("timings: {}", line.join(", "));
        }
        Ok(())
    }

    #[derive(clap::Args)]
    struct MeshArgs {
        /// Files or folders holding one volume.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output file: .stl (binary) or .obj.
        #[arg(short, long)]
        output: PathBuf,
        /// Iso-level in the volume's units (HU for CT), e.g. 400 for bone, -300 for lung.
        #[arg(short, long, allow_hyphen_values = true, required_unless_present = "label")]
        threshold: Option<f64>,
        /// Extract the surface of the voxels equal to this label instead.
        #[arg(long, allow_hyphen_values = true)]
        label: Option<f64>,
        /// Taubin smoothing iterations.
        #[arg(long, default_value_t = 0)]
        smooth: usize,
        /// Vertex-clustering decimation with cells of this size in mm.
        #[arg(long)]
        decimate: Option<f64>,
        /// Close the surface where the region touches the volume's border.
        #[arg(long)]
        close: bool,
        /// Refuse surfaces with more triangles than this.
        #[arg(long)]
        max_triangles: Option<usize>,
    }

    fn mesh(a: MeshArgs) -> Result<(), Error> {
        use voxdrop::export::mesh::{write_mesh, MeshFormat};
        use voxdrop::ops::mesh as m;
        let name = a.output.to_string_lossy().to_string();
        let format = MeshFormat::from_path(&name)
            .ok_or_else(|| Error::parameter(format!("{name}: the output must end in .stl or .obj")))?;
        let vol = one_volume(&a.paths)?;
        let opts = m::IsoOptions {
            level: a.threshold.unwrap_or(0.0),
            label: a.label,
            close_border: a.close,
            frame: 0,
            max_triangles: a.max_triangles.unwrap_or_else(m::default_max_triangles),
        };
        let t0 = std::time::Instant::now();
        let mut surface = m::iso_surface(&vol, &opts, &Limits::default())?;
        let took = t0.elapsed();
        m::smooth_taubin(&mut surface, a.smooth);
        if let Some(cell) = a.decimate {
            surface = m::decimate_cluster(&surface, cell)?;
        }
        write_file(&a.output, &write_mesh(&surface, format)?)?;
        eprintln!(
            "{name}: {} vertices, {} triangles, area {:.1} mm², marching cubes {:.0} ms",
            surface.positions.len(),
            surface.triangles.len(),
            surface.area(),
            took.as_secs_f64() * 1000.0
        );
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
