// Fallback declaration of the wasm-bindgen module (www/pkg/voxdrop.js), used
// by `npm run typecheck` before the wasm has been built: a copy of the
// generated www/pkg/voxdrop.d.ts. Once www/pkg exists tsconfig's `paths`
// resolves to the generated declarations instead. Refresh it after changing
// the wasm API: cp www/pkg/voxdrop.d.ts www/wasm-fallback/voxdrop.d.ts
/* tslint:disable */
/* eslint-disable */

/**
 * One file's pixels decoded on a helper worker ([`decode_pixels`]), for
 * [`Engine::open_put_pixels`].
 */
export class DecodedPixels {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The samples, little endian.
     */
    get data(): Uint8Array;
    /**
     * The samples, little endian.
     */
    set data(value: Uint8Array | number[]);
    /**
     * As [`crate::SampleType::name`] names it.
     */
    sample_type: string;
}

/**
 * Owns a [`Loader`] for the batch being read and every loaded volume.
 * Volume ids are stable indices; [`Engine::free_volume`] releases one.
 */
export class Engine {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Adds one file of the current batch. Errors are kept and reported by
     * [`Engine::finish`]; the caller can drop its copy of the bytes at once.
     */
    add_file(name: string, bytes: Uint8Array | number[]): void;
    /**
     * A whole file of a batch being decoded as it arrives
     * ([`Engine::arrival_begin`]): listed as [`Engine::add_file_head`]
     * lists it and decoded at once, from one parse of its header
     * ([`crate::formats::ArrivalFill::add`]). 2: listed and decoded; 1:
     * listed, and decoding on arrival has been given up for the batch; 0:
     * neither — decoding has been given up and the file is not listed: add
     * it as before (`add_file_head`, else `add_file_lazy`).
     */
    add_file_arriving(name: string, bytes: Uint8Array | number[]): number;
    /**
     * [`Engine::add_file_lazy`] from a file's first bytes and its length:
     * true when they were enough to list it (a DICOM file whose native
     * little-endian pixel data comes last, its header within `head`), so
     * the pixels are not copied into wasm until the series is opened. On
     * false nothing is recorded: call `add_file_lazy` with the whole file.
     */
    add_file_head(name: string, head: Uint8Array | number[], total: number): boolean;
    /**
     * Adds one file of a batch whose DICOM series are listed from their
     * headers: the file is parsed without decoding its pixels and its bytes
     * are kept until the series is opened ([`Engine::open_begin`]). Must come
     * before the batch's first [`Engine::add_file`].
     *
     * The bytes are not kept in the wasm heap: returns true when the file
     * was listed header-only, and the caller must then hand its bytes back
     * through [`Engine::open_put`] and the `fetch` of [`Engine::thumbnail`]
     * (decoding into place, the heap then holds the volume and one file).
     */
    add_file_lazy(name: string, bytes: Uint8Array | number[]): boolean;
    /**
     * Starts decoding the current batch's files as they arrive, before
     * they are listed ([`crate::formats::ArrivalFill`]), for a drop of
     * `files` files that looks like one series; 0 does not. Call before
     * the batch's first file. The series opened first, when it is exactly
     * those files, then needs no decoding ([`Engine::open_begin`]).
     */
    arrival_begin(files: number): void;
    /**
     * For `scripts/bench-window-wasm.mjs`: renders one grey slice `reps`
     * times into one buffer, the centre moving by 1 each time (a window
     * drag), and gives back the last image's first byte. Times the windowing
     * alone, without [`Engine::render`]'s new output array per call.
     */
    bench_window(vol: number, view: string, index: number, center: number, width: number, colormap: string, reps: number): number;
    /**
     * Drops the label overlay.
     */
    clear_labels(): void;
    /**
     * Exports a volume (or, with `"labels": true`, the label overlay on it)
     * as described by the JSON `request` (see [`ExportRequest`]), handing
     * each output file to `sink(name, piece)` in pieces of at most 4 MiB, so
     * the output is never held whole in wasm memory. Returns JSON
     * `{files: [name]}`. File names come from the series number and
     * description, never from patient fields.
     */
    export_files(vol: number, request: string, sink: Function): string;
    /**
     * The kept mesh as "stl" (binary) or "obj".
     */
    export_mesh(format: string): Uint8Array;
    /**
     * Serialises a volume as NIfTI-1 (.nii, or .nii.gz when `gzip`).
     */
    export_nifti(vol: number, gzip: boolean): Uint8Array;
    /**
     * Ends the batch: assembles the volumes and returns JSON
     * `{volumes: [VolumeInfo], errors: [{file, kind, message}]}` for it.
     * After [`Engine::add_file_lazy`], DICOM series are listed from their
     * headers (`loaded: false`) and decoded by [`Engine::open_begin`].
     */
    finish(): string;
    /**
     * Releases a volume's memory.
     */
    free_volume(vol: number): void;
    /**
     * Histogram of frame `t` with `bins` equal bins over [lo, hi] (numpy's
     * convention: the last bin includes hi): JSON `{lo, hi, counts, below, above}`.
     */
    histogram(vol: number, bins: number, lo: number, hi: number): string;
    /**
     * Builds the iso-surface of a volume and keeps it in the engine.
     * `opts` is JSON `{level, label?, smooth?, decimate_mm?, close?}`.
     * Returns JSON [`MeshInfo`].
     */
    iso_surface(vol: number, opts: string): string;
    /**
     * The names of the files every listed (not yet opened) series still
     * needs: the page keeps those files' bytes and may drop the others.
     */
    listed_files(): string[];
    /**
     * Triangle vertex indices of the kept mesh.
     */
    mesh_indices(): Uint32Array;
    /**
     * Unit vertex normals of the kept mesh (outward).
     */
    mesh_normals(): Float32Array;
    /**
     * Vertex positions of the kept mesh, x y z per vertex, LPS mm.
     */
    mesh_positions(): Float32Array;
    constructor();
    /**
     * Piece `k` of a pulled NIfTI export (empty past the last).
     */
    nifti_piece(pull: NiftiPull, k: number): Uint8Array;
    /**
     * Starts a pulled raw NIfTI export of a volume (or its label overlay)
     * for the JSON `request` (as [`Engine::export_files`]; the format is
     * taken as .nii): the page asks for the pieces one at a time with
     * [`Engine::nifti_piece`], as its compressors become free. The sidecar
     * comes with the plan, already built.
     */
    nifti_pull(vol: number, request: string): NiftiPull;
    /**
     * Starts decoding listed series `vol` a file at a time (the page reads
     * the next files while one decodes): the names of the files whose
     * bytes [`Engine::open_put`] / [`Engine::open_put_error`] must then
     * give, in this order, before [`Engine::open_finish`]. Empty for a
     * volume already open. Starting again drops a fill not finished.
     */
    open_begin(vol: number): string[];
    /**
     * Whether listed series `vol` is compressed: its files are then best
     * decoded on helper workers ([`decode_pixels`], [`Engine::open_put_pixels`]).
     */
    open_compressed(vol: number): boolean;
    /**
     * Ends [`Engine::open_begin`]: builds the volume from the files given
     * (any not given are reported unread) and answers JSON
     * `{volume: VolumeInfo | null, errors: [{file, kind, message}]}`, the
     * errors naming the files that failed to decode and, when nothing
     * could be built, why. A volume already open just answers again.
     */
    open_finish(vol: number): string;
    /**
     * The bytes of the next file [`Engine::open_begin`] named.
     */
    open_put(vol: number, bytes: Uint8Array | number[]): void;
    /**
     * The next file [`Engine::open_begin`] named could not be read:
     * `message` says why (it is reported with the file's name).
     */
    open_put_error(vol: number, name: string, message: string): void;
    /**
     * [`Engine::open_put`] of the next file, its pixels decoded on a
     * helper ([`decode_pixels`]: `sample_type` and the samples' bytes);
     * its header is parsed here again from `bytes`.
     */
    open_put_pixels(vol: number, bytes: Uint8Array | number[], sample_type: string, pixels: Uint8Array | number[]): void;
    /**
     * Everything the cursor readout needs in one call: JSON
     * `{ijk, value, lps}` or `null` when (px, py) is outside the slice.
     */
    probe(vol: number, view: string, index: number, t: number, px: number, py: number): string;
    /**
     * Runs one processing step on a volume and keeps the result as a new
     * volume. `step` is JSON: `{"op":"resample","spacing":[x,y,z],"interp":"nearest|linear|bspline"}`,
     * `{"op":"clip","lo":…,"hi":…}` or `{"op":"normalize","how":"minmax|zscore"}`.
     * Returns the new volume's VolumeInfo as JSON.
     */
    process(vol: number, step: string): string;
    /**
     * Renders one slice as RGBA (width × height × 4 bytes, see
     * [`Engine::slice_info`]), windowed with `center`/`width` and the VOI
     * function `func` ("LINEAR", "LINEAR_EXACT" or "SIGMOID"), optionally
     * inverted, through `colormap` ("grey", "hot", "bone"), with the label
     * overlay blended at `label_opacity` (0 = none).
     */
    render(vol: number, view_name: string, index: number, t: number, center: number, width: number, func_name: string, invert: boolean, colormap_name: string, label_opacity: number): Uint8Array;
    /**
     * [`Engine::render`] into `out`, which must hold exactly the slice's
     * width × height × 4 bytes (every byte is written). The page passes a
     * buffer it got back from an earlier frame, so a redraw allocates no
     * new 1 MiB array per view.
     */
    render_into(vol: number, view: string, index: number, t: number, center: number, width: number, func: string, invert: boolean, colormap: string, label_opacity: number, out: Uint8Array): void;
    /**
     * Renders a slab projection ("mip", "minip" or "mean") of a slab
     * `slab_mm` thick (rounded to whole slices, at least one) centred on
     * slice `index` of a view, windowed like
     * [`Engine::render`] (same size and mapping as the slice).
     */
    render_projection(vol: number, view: string, index: number, t: number, mode: string, slab_mm: number, center: number, width: number, func: string, invert: boolean, colormap: string): Uint8Array;
    /**
     * Statistics in a rectangle or ellipse of screen pixels
     * (x0, y0)–(x1, y1) of one slice: JSON `{count, mean, sd, min, max}` or null.
     */
    roi_stats(vol: number, view: string, index: number, t: number, x0: number, y0: number, x1: number, y1: number, ellipse: boolean): string;
    /**
     * Loads volume `labels` as the label overlay of volume `image`, resampled
     * (nearest neighbour) onto the image's grid when the grids differ. The
     * label volume's own slot is freed. Returns JSON
     * `{resampled, values: [[value, voxel count], …]}`.
     */
    set_labels(image: number, labels: number): string;
    /**
     * Voxel spacing (x, y, slice; mm) for PNG / JPEG / TIFF slice stacks in
     * the current batch: the images carry none.
     */
    set_stack_spacing(x: number, y: number, z: number): void;
    /**
     * JSON `{width, height, count, pixel_mm: [x, y]}` of a view.
     */
    slice_info(vol: number, view: string): string;
    /**
     * The thumbnail of a volume, open or only listed (then only the file
     * holding its middle slice is decoded).
     */
    thumbnail(vol: number, fetch: Function): Thumbnail;
    /**
     * Value at voxel (x, y, z, t), NaN when outside the volume.
     */
    value_at(vol: number, x: number, y: number, z: number, t: number): number;
    /**
     * Frame `t` as an 8-bit 3-D texture (x fastest), every `step`-th voxel
     * so that no side exceeds `max_dim`, values mapped linearly from
     * [lo, hi] onto 0..255 (clamped).
     */
    volume_texture(vol: number, t: number, max_dim: number, lo: number, hi: number): Uint8Array;
    /**
     * JSON [`TextureInfo`] of the texture [`Engine::volume_texture`] makes.
     */
    volume_texture_info(vol: number, max_dim: number): string;
    /**
     * Voxel index [i, j, k] under screen pixel (px, py) of a view, if any.
     */
    voxel_at(vol: number, view: string, index: number, px: number, py: number): Uint32Array | undefined;
    /**
     * Reads a small synthetic CT series ([`crate::formats::dicom::synth`])
     * the way a drop is read — listed from the headers, filled into place,
     * a slice of each view windowed — and drops it. The page calls this at
     * idle once the engine has started: a fresh page runs wasm in V8's
     * baseline tier, two to three times slower, until its functions are
     * hot, so the user's first drop would otherwise pay for that. Returns
     * the voxels read (0 when something failed; nothing is kept either way).
     */
    warm_up(): number;
}

/**
 * A pulled raw NIfTI export: see [`Engine::nifti_pull`].
 */
export class NiftiPull {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The JSON sidecar's bytes, unless the request turned it off.
     */
    sidecar(): Uint8Array | undefined;
    /**
     * The raw file's length in bytes.
     */
    readonly bytes: number;
    /**
     * How many pieces [`Engine::nifti_piece`] gives.
     */
    readonly count: number;
    /**
     * The file name without its extension (from the series, never the patient).
     */
    readonly stem: string;
}

/**
 * A series' thumbnail: the middle slice across the acquisition plane,
 * RGBA, in the series' own default window.
 */
export class Thumbnail {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    height: number;
    /**
     * Pixel size in mm, across and down.
     */
    pixel_mm_x: number;
    pixel_mm_y: number;
    get rgba(): Uint8Array;
    set rgba(value: Uint8Array | number[]);
    width: number;
}

/**
 * Panics on purpose. The browser tests call it (through the worker's
 * `crash` request) to prove that a trap in the engine restarts the worker
 * and tells the user, instead of leaving the page dead.
 */
export function crash_for_test(): void;

/**
 * The CRC-32 of A followed by B, from their CRCs and B's length (so that
 * pieces checksummed on different workers make the whole file's CRC).
 */
export function crc32_combine(crc_a: number, crc_b: number, len_b: number): number;

/**
 * CRC-32 (gzip's) of `data`, continuing from `crc` (0 to start).
 */
export function crc32_update(crc: number, data: Uint8Array | number[]): number;

/**
 * Decodes one DICOM file's pixels as [`crate::formats::dicom::file::read_slice`]
 * does (modality LUT applied): the work a helper worker does for the
 * engine while it opens a compressed series.
 */
export function decode_pixels(name: string, bytes: Uint8Array | number[]): DecodedPixels;

/**
 * Compresses one piece of a parallel .nii.gz export as raw deflate ending
 * with a sync flush (see [`crate::export::pgzip::deflate_piece`]), followed
 * by 4 bytes: the CRC-32 of `data`, little endian (one call, so the piece is
 * copied into wasm memory once). `www/deflate.ts` adds the gzip header, the
 * final block and the trailer.
 */
export function deflate_piece(data: Uint8Array | number[]): Uint8Array;

/**
 * Every data element of one DICOM file as JSON rows
 * `[{tag, vr, name, value, depth}]` for the tag browser.
 */
export function dicom_tags(bytes: Uint8Array | number[]): string;

/**
 * Installs a panic hook that logs the message to the console and keeps it
 * for [`last_panic`], so the worker can tell the UI what went wrong after a
 * trap. Called once by the worker before anything else.
 */
export function install_panic_hook(): void;

/**
 * The message of the last panic, if any (the instance is unusable after one).
 */
export function last_panic(): string | undefined;

/**
 * A look at one DICOM file of a drop still being read
 * ([`crate::formats::preview`]): its middle frame across the acquisition
 * plane, in its own default window, as the series' thumbnail is drawn.
 * None when the file is not a DICOM image that decodes alone (the drop is
 * read as usual either way, and reports it).
 */
export function preview_file(name: string, bytes: Uint8Array | number[]): Thumbnail | undefined;

/**
 * Crate version (shown in the UI footer).
 */
export function version(): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly opj_image_destroy: (a: number) => void;
    readonly opj_destroy_codec: (a: number) => void;
    readonly opj_stream_destroy: (a: number) => void;
    readonly opj_stream_default_create: (a: number) => number;
    readonly opj_stream_set_read_function: (a: number, b: number) => void;
    readonly opj_stream_set_skip_function: (a: number, b: number) => void;
    readonly opj_stream_set_seek_function: (a: number, b: number) => void;
    readonly opj_stream_set_user_data: (a: number, b: number, c: number) => void;
    readonly opj_stream_set_user_data_length: (a: number, b: bigint) => void;
    readonly opj_create_decompress: (a: number) => number;
    readonly opj_set_default_decoder_parameters: (a: number) => void;
    readonly opj_setup_decoder: (a: number, b: number) => number;
    readonly opj_read_header: (a: number, b: number, c: number) => number;
    readonly opj_decode: (a: number, b: number, c: number) => number;
    readonly opj_end_decompress: (a: number, b: number) => number;
    readonly __wbg_decodedpixels_free: (a: number, b: number) => void;
    readonly __wbg_engine_free: (a: number, b: number) => void;
    readonly __wbg_get_decodedpixels_data: (a: number) => [number, number];
    readonly __wbg_get_decodedpixels_sample_type: (a: number) => [number, number];
    readonly __wbg_get_thumbnail_height: (a: number) => number;
    readonly __wbg_get_thumbnail_pixel_mm_x: (a: number) => number;
    readonly __wbg_get_thumbnail_pixel_mm_y: (a: number) => number;
    readonly __wbg_get_thumbnail_rgba: (a: number) => [number, number];
    readonly __wbg_get_thumbnail_width: (a: number) => number;
    readonly __wbg_niftipull_free: (a: number, b: number) => void;
    readonly __wbg_set_decodedpixels_data: (a: number, b: number, c: number) => void;
    readonly __wbg_set_decodedpixels_sample_type: (a: number, b: number, c: number) => void;
    readonly __wbg_set_thumbnail_height: (a: number, b: number) => void;
    readonly __wbg_set_thumbnail_pixel_mm_x: (a: number, b: number) => void;
    readonly __wbg_set_thumbnail_pixel_mm_y: (a: number, b: number) => void;
    readonly __wbg_set_thumbnail_rgba: (a: number, b: number, c: number) => void;
    readonly __wbg_set_thumbnail_width: (a: number, b: number) => void;
    readonly __wbg_thumbnail_free: (a: number, b: number) => void;
    readonly calloc: (a: number, b: number) => number;
    readonly crash_for_test: () => void;
    readonly crc32_combine: (a: number, b: number, c: number) => number;
    readonly crc32_update: (a: number, b: number, c: number) => number;
    readonly decode_pixels: (a: number, b: number, c: number, d: number) => [number, number, number];
    readonly deflate_piece: (a: number, b: number) => [number, number, number, number];
    readonly dicom_tags: (a: number, b: number) => [number, number, number, number];
    readonly engine_add_file: (a: number, b: number, c: number, d: number, e: number) => void;
    readonly engine_add_file_arriving: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly engine_add_file_head: (a: number, b: number, c: number, d: number, e: number, f: number) => number;
    readonly engine_add_file_lazy: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly engine_arrival_begin: (a: number, b: number) => void;
    readonly engine_bench_window: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number) => [number, number, number];
    readonly engine_clear_labels: (a: number) => void;
    readonly engine_export_files: (a: number, b: number, c: number, d: number, e: any) => [number, number, number, number];
    readonly engine_export_mesh: (a: number, b: number, c: number) => [number, number, number, number];
    readonly engine_export_nifti: (a: number, b: number, c: number) => [number, number, number, number];
    readonly engine_finish: (a: number) => [number, number];
    readonly engine_free_volume: (a: number, b: number) => void;
    readonly engine_histogram: (a: number, b: number, c: number, d: number, e: number) => [number, number, number, number];
    readonly engine_iso_surface: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_listed_files: (a: number) => [number, number];
    readonly engine_mesh_indices: (a: number) => [number, number];
    readonly engine_mesh_normals: (a: number) => [number, number];
    readonly engine_mesh_positions: (a: number) => [number, number];
    readonly engine_new: () => number;
    readonly engine_nifti_piece: (a: number, b: number, c: number) => [number, number, number, number];
    readonly engine_nifti_pull: (a: number, b: number, c: number, d: number) => [number, number, number];
    readonly engine_open_begin: (a: number, b: number) => [number, number, number, number];
    readonly engine_open_compressed: (a: number, b: number) => number;
    readonly engine_open_finish: (a: number, b: number) => [number, number, number, number];
    readonly engine_open_put: (a: number, b: number, c: number, d: number) => [number, number];
    readonly engine_open_put_error: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number];
    readonly engine_open_put_pixels: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number) => [number, number];
    readonly engine_probe: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number) => [number, number, number, number];
    readonly engine_process: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_render: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number) => [number, number, number, number];
    readonly engine_render_into: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number, p: number, q: any) => [number, number];
    readonly engine_render_projection: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number, n: number, o: number, p: number) => [number, number, number, number];
    readonly engine_roi_stats: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number) => [number, number, number, number];
    readonly engine_set_labels: (a: number, b: number, c: number) => [number, number, number, number];
    readonly engine_set_stack_spacing: (a: number, b: number, c: number, d: number) => [number, number];
    readonly engine_slice_info: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_thumbnail: (a: number, b: number, c: any) => [number, number, number];
    readonly engine_value_at: (a: number, b: number, c: number, d: number, e: number, f: number) => number;
    readonly engine_volume_texture: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number, number];
    readonly engine_volume_texture_info: (a: number, b: number, c: number) => [number, number, number, number];
    readonly free: (a: number) => void;
    readonly engine_voxel_at: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => [number, number];
    readonly malloc: (a: number) => number;
    readonly engine_warm_up: (a: number) => number;
    readonly install_panic_hook: () => void;
    readonly last_panic: () => [number, number];
    readonly niftipull_bytes: (a: number) => number;
    readonly niftipull_count: (a: number) => number;
    readonly realloc: (a: number, b: number) => number;
    readonly strcpy: (a: number, b: number) => number;
    readonly niftipull_sidecar: (a: number) => [number, number];
    readonly niftipull_stem: (a: number) => [number, number];
    readonly preview_file: (a: number, b: number, c: number, d: number) => number;
    readonly version: () => [number, number];
    readonly opj_codec_set_threads: (a: number, b: number) => number;
    readonly opj_create_compress: (a: number) => number;
    readonly opj_decode_tile_data: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly opj_decoder_set_strict_mode: (a: number, b: number) => number;
    readonly opj_destroy_cstr_index: (a: number) => void;
    readonly opj_destroy_cstr_info: (a: number) => void;
    readonly opj_encode: (a: number, b: number) => number;
    readonly opj_encoder_set_extra_options: (a: number, b: number) => number;
    readonly opj_end_compress: (a: number, b: number) => number;
    readonly opj_get_cstr_index: (a: number) => number;
    readonly opj_get_cstr_info: (a: number) => number;
    readonly opj_get_decoded_tile: (a: number, b: number, c: number, d: number) => number;
    readonly opj_get_num_cpus: () => number;
    readonly opj_has_thread_support: () => number;
    readonly opj_image_create: (a: number, b: number, c: number) => number;
    readonly opj_image_data_alloc: (a: number) => number;
    readonly opj_image_data_free: (a: number) => void;
    readonly opj_image_tile_create: (a: number, b: number, c: number) => number;
    readonly opj_read_tile_header: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number) => number;
    readonly opj_set_MCT: (a: number, b: number, c: number, d: number) => number;
    readonly opj_set_decode_area: (a: number, b: number, c: number, d: number, e: number, f: number) => number;
    readonly opj_set_decoded_components: (a: number, b: number, c: number, d: number) => number;
    readonly opj_set_decoded_resolution_factor: (a: number, b: number) => number;
    readonly opj_set_default_encoder_parameters: (a: number) => void;
    readonly opj_set_error_handler: (a: number, b: number, c: number) => number;
    readonly opj_set_info_handler: (a: number, b: number, c: number) => number;
    readonly opj_set_warning_handler: (a: number, b: number, c: number) => number;
    readonly opj_setup_encoder: (a: number, b: number, c: number) => number;
    readonly opj_start_compress: (a: number, b: number, c: number) => number;
    readonly opj_stream_create: (a: number, b: number) => number;
    readonly opj_stream_set_write_function: (a: number, b: number) => void;
    readonly opj_version: () => number;
    readonly opj_write_tile: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __externref_drop_slice: (a: number, b: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
