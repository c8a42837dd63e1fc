/**
 * The WebAssembly side of the kernels: feature detection, the compiled
 * module, and the memory model.
 *
 * ## Memory model
 *
 * Growing a `WebAssembly.Memory` detaches every `ArrayBuffer` view of it, so
 * a memory whose views have been handed out must never grow. Hence two kinds
 * of {@linkcode WasmArena} (each is one instance of the kernel module with its
 * own memory):
 *
 * - **Fixed arenas** (one per model, {@linkcode createArena}): the whole size
 *   — weights, whatever run-state buffers the caller asks for, and a scratch
 *   area — is reserved once at creation and the memory never grows again, so
 *   the typed arrays {@linkcode WasmArena.place} and
 *   {@linkcode WasmArena.allocF32} return stay valid for the arena's life.
 *   Running out of room throws a {@linkcode ConfigError} instead of growing.
 * - **The shared scratch arena** ({@linkcode scratchArena}): hands out no
 *   views, only byte offsets used within one kernel call, so it may grow;
 *   every call re-derives its views after {@linkcode WasmArena.ensureScratch}.
 *
 * Kernels look up the arena of a matrix through its `data.buffer`; operands
 * that live in that arena are used in place, activations that do not (a
 * plain `Float32Array`) are copied through the scratch area for the call. A
 * matrix that was never placed is copied once, on first use, into a pool
 * arena and the copy reused (so it must not change afterwards; place it
 * explicitly, or bind the model with `bindKernels(weights, "wasm")`, to
 * avoid holding two copies).
 * The training kernels copy every operand that is not in one arena into the
 * shared scratch arena per call (their weights change every step).
 *
 * @module
 */
import type { Backend } from "../backend.ts";
import { alignUp } from "../bytes.ts";
import { ConfigError } from "../errors.ts";
import { KERNELS_RELAXED_BASE64, KERNELS_SIMD_BASE64 } from "./kernels_wasm.ts";

/** Which build of the kernels runs: relaxed SIMD, SIMD128 only, or none (TypeScript). */
export type WasmVariant = "relaxed" | "simd" | "none";

/** What the running engine supports. */
export interface WasmSupport {
  /** WebAssembly SIMD128 validates. */
  readonly simd: boolean;
  /** Relaxed SIMD (`i32x4.relaxed_dot_i8x16_i7x16_add_s`) validates too. */
  readonly relaxed: boolean;
}

/**
 * The exported functions of the kernel module (`wasm/kernels.ts`; pointers
 * are byte offsets into {@linkcode KernelExports.memory}, matrices row-major).
 */
export interface KernelExports {
  /** The instance's memory. */
  readonly memory: WebAssembly.Memory;
  /** `out[r] = Σ_c W[r,c]·x[c]`. */
  matvecF32(
    w: number,
    x: number,
    out: number,
    rows: number,
    cols: number,
  ): void;
  /** `out[i, r] = Σ_c W[r,c]·x[i,c]` for `n` inputs. */
  matmulF32(
    w: number,
    x: number,
    out: number,
    n: number,
    cols: number,
    rows: number,
  ): void;
  /** `C[m,k] += Σ_j A[m,j]·B[j,k]`, A addressed with the given float strides; `mOuter` picks the loop order. */
  gemmAccF32(
    c: number,
    a: number,
    aRowStride: number,
    aColStride: number,
    b: number,
    m: number,
    j: number,
    k: number,
    mOuter: number,
  ): void;
  /** Rounds `cols` floats to int8 per group of `g` (mode: code layout). */
  quantizeActs(
    x: number,
    cols: number,
    g: number,
    qx: number,
    sx: number,
    corr: number,
    mode: number,
  ): void;
  /** int8 matvec on quantized activations (scale strides `rs`, `gs`). */
  matvecQ8G(
    w: number,
    sw: number,
    qx: number,
    sx: number,
    out: number,
    rows: number,
    cols: number,
    g: number,
    rs: number,
    gs: number,
  ): void;
  /** int4 matvec on quantized activations (scale strides `rs`, `gs`). */
  matvecQ4G(
    w: number,
    sw: number,
    qx: number,
    sx: number,
    corr: number,
    out: number,
    rows: number,
    cols: number,
    g: number,
    rs: number,
    gs: number,
  ): void;
  /** {@linkcode KernelExports.matvecQ8G} for `n` inputs (codes `qStride`, scales `gStride` bytes apart). */
  matmulQ8G(
    w: number,
    sw: number,
    qx: number,
    sx: number,
    out: number,
    n: number,
    rows: number,
    cols: number,
    g: number,
    rs: number,
    gs: number,
    qStride: number,
    gStride: number,
  ): void;
  /** {@linkcode KernelExports.matvecQ4G} for `n` inputs (corrections laid out like the scales). */
  matmulQ4G(
    w: number,
    sw: number,
    qx: number,
    sx: number,
    corr: number,
    out: number,
    n: number,
    rows: number,
    cols: number,
    g: number,
    rs: number,
    gs: number,
    qStride: number,
    gStride: number,
  ): void;
  /** One head's attention scores: `out[t] = q · keys[t·stride ..]`, t < n. */
  attnScores(
    q: number,
    keys: number,
    stride: number,
    n: number,
    hs: number,
    out: number,
  ): void;
  /** One head's value mix: `out[i] = Σ_t p[t]·values[t·stride + i]`. */
  attnMix(
    p: number,
    values: number,
    stride: number,
    n: number,
    hs: number,
    out: number,
  ): void;
}

// Smallest modules using one SIMD128 / one relaxed-SIMD instruction
// (two v128.const, then i32x4.dot_i16x8_s or i16x8.relaxed_dot_i8x16_i7x16_s):
// valid means supported.
function detectionBytes(relaxed: boolean): Uint8Array<ArrayBuffer> {
  const zero16 = new Array(16).fill(0);
  return new Uint8Array([
    0,
    97,
    115,
    109,
    1,
    0,
    0,
    0,
    1,
    5,
    1,
    96,
    0,
    1,
    123,
    3,
    2,
    1,
    0,
    10,
    43,
    1,
    41,
    0,
    253,
    12,
    ...zero16,
    253,
    12,
    ...zero16,
    ...(relaxed ? [253, 146, 2] : [253, 186, 1]),
    11,
  ]);
}

let support: WasmSupport | null = null;

/**
 * Feature-detects WebAssembly SIMD128 and relaxed SIMD with
 * `WebAssembly.validate` (cached).
 *
 * @example
 * ```ts
 * import { wasmSupport } from "@proj/tinyllm/wasm";
 * const s = wasmSupport();
 * console.log(typeof s.simd, typeof s.relaxed); // boolean boolean
 * ```
 */
export function wasmSupport(): WasmSupport {
  if (support) return support;
  const has = typeof WebAssembly === "object" &&
    typeof WebAssembly.validate === "function";
  const simd = has && WebAssembly.validate(detectionBytes(false));
  const relaxed = simd && WebAssembly.validate(detectionBytes(true));
  support = { simd, relaxed };
  return support;
}

let forced: WasmVariant | null = null;

/**
 * Forces a kernel build (tests, benchmarks: e.g. "simd" to measure the
 * SIMD128 path on an engine that has relaxed SIMD, or "none" to disable
 * WebAssembly); `null` restores detection. Arenas created before keep their
 * build. Asking for a build the engine cannot run throws a ConfigError.
 *
 * @example
 * ```ts
 * import { setWasmVariant, wasmVariant } from "@proj/tinyllm/wasm";
 * setWasmVariant("none");
 * console.log(wasmVariant()); // none
 * setWasmVariant(null);
 * ```
 */
export function setWasmVariant(v: WasmVariant | null): void {
  const s = wasmSupport();
  if ((v === "simd" && !s.simd) || (v === "relaxed" && !s.relaxed)) {
    throw new ConfigError(`WebAssembly ${v} SIMD is not supported here`);
  }
  forced = v;
  sharedScratch = null;
}

/**
 * The kernel build in use: the forced one, else relaxed SIMD where it
 * validates, else SIMD128, else "none".
 *
 * @example
 * ```ts
 * import { wasmVariant } from "@proj/tinyllm/wasm";
 * console.log(["relaxed", "simd", "none"].includes(wasmVariant())); // true
 * ```
 */
export function wasmVariant(): WasmVariant {
  if (forced) return forced;
  const s = wasmSupport();
  return s.relaxed ? "relaxed" : s.simd ? "simd" : "none";
}

/**
 * The backend that `backend` runs on here: `"js"`, or `"wasm"` where the
 * engine has SIMD128 (`"auto"` falls back to `"js"` without it; `"wasm"`
 * without it is a {@linkcode ConfigError}).
 *
 * @example
 * ```ts
 * import { resolveBackend } from "@proj/tinyllm/wasm";
 * console.log(resolveBackend("js")); // "js"
 * ```
 */
export function resolveBackend(backend: Backend): "js" | "wasm" {
  if (backend === "js") return "js";
  const available = wasmVariant() !== "none";
  if (backend === "wasm") {
    if (!available) {
      throw new ConfigError(
        "backend wasm: this engine has no WebAssembly SIMD128",
      );
    }
    return "wasm";
  }
  if (backend === "auto") return available ? "wasm" : "js";
  throw new ConfigError(
    `backend must be "auto", "wasm" or "js", got "${String(backend)}"`,
  );
}

/** The kernel module's bytes for a SIMD build ("relaxed" or "simd"). */
function kernelBytes(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  const bin = atob(
    variant === "relaxed" ? KERNELS_RELAXED_BASE64 : KERNELS_SIMD_BASE64,
  );
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const modules = new Map<WasmVariant, WebAssembly.Module>();

/**
 * Compiles the kernel module for `variant` ahead of time. Optional in Deno
 * and Node (the first arena compiles synchronously); browsers that refuse
 * synchronous compilation of large modules on the main thread need it.
 *
 * @example
 * ```ts
 * import { initWasm } from "@proj/tinyllm";
 * import { wasmVariant } from "@proj/tinyllm/wasm";
 * if (wasmVariant() !== "none") await initWasm();
 * ```
 */
export async function initWasm(
  variant: WasmVariant = wasmVariant(),
): Promise<void> {
  if (variant === "none" || modules.has(variant)) return;
  modules.set(variant, await WebAssembly.compile(kernelBytes(variant)));
}

function compiledModule(variant: WasmVariant): WebAssembly.Module {
  if (variant === "none") {
    throw new ConfigError("WebAssembly SIMD is not available here");
  }
  let m = modules.get(variant);
  if (!m) {
    m = new WebAssembly.Module(kernelBytes(variant));
    modules.set(variant, m);
  }
  return m;
}

const PAGE = 65536;
// Nothing lives below this offset: keeps address 0 unused (null-like) and
// leaves room should a future build add static data.
const BASE = 1024;
const registry = new WeakMap<ArrayBufferLike, WasmArena>();

/**
 * One instance of the kernel module and its memory, with a bump allocator
 * below a scratch area. See the module documentation for the growth rule.
 */
export class WasmArena {
  /** The kernel build this arena runs. */
  readonly variant: WasmVariant;
  /** The instance's exports. */
  readonly exports: KernelExports;
  /** Whether the memory may grow (only the internal shared scratch arena). */
  readonly growable: boolean;
  #top = BASE;
  #scratchStart: number;
  #scratchBytes: number;
  #f32: Float32Array = new Float32Array(0);

  /**
   * Instantiates the kernel module with a memory sized for `bytes` of
   * allocations plus the scratch area (prefer {@linkcode createArena}).
   *
   * @param bytes capacity reserved up front for allocations (fixed arenas)
   * @param scratchBytes size of the per-call scratch area
   * @param growable see {@linkcode WasmArena.growable}
   * @param variant kernel build
   */
  constructor(
    bytes: number,
    scratchBytes: number,
    growable = false,
    variant: WasmVariant = wasmVariant(),
  ) {
    this.variant = variant;
    this.growable = growable;
    const instance = new WebAssembly.Instance(compiledModule(variant), {
      env: {
        abort: () => {
          throw new Error("tinyllm wasm kernel aborted");
        },
      },
    });
    this.exports = instance.exports as unknown as KernelExports;
    this.#scratchStart = alignUp(BASE + bytes, 64);
    this.#scratchBytes = alignUp(scratchBytes, 64);
    this.#growTo(this.#scratchStart + this.#scratchBytes);
  }

  #growTo(end: number): void {
    const mem = this.exports.memory;
    const pages = Math.ceil(end / PAGE) - mem.buffer.byteLength / PAGE;
    if (pages > 0) {
      try {
        mem.grow(pages);
      } catch {
        throw new ConfigError(
          `WebAssembly memory: cannot grow to ${end} bytes`,
        );
      }
    }
    this.#f32 = new Float32Array(mem.buffer);
    registry.set(mem.buffer, this);
  }

  /** The current memory buffer (replaced on growth of a growable arena). */
  get buffer(): ArrayBuffer {
    return this.exports.memory.buffer as ArrayBuffer;
  }

  /** A float view of the whole memory (re-derived after growth). */
  get f32(): Float32Array {
    return this.#f32;
  }

  /** Bytes still free for {@linkcode WasmArena.alloc}. */
  get freeBytes(): number {
    return this.#scratchStart - this.#top;
  }

  /** Reserves `bytes` (aligned to `align`) and returns the byte offset. */
  alloc(bytes: number, align = 16): number {
    const p = alignUp(this.#top, align);
    if (p + bytes > this.#scratchStart) {
      throw new ConfigError(
        `WebAssembly arena full: ${bytes} bytes requested, ${
          this.#scratchStart - p
        } free (reserve more when creating it)`,
      );
    }
    this.#top = p + bytes;
    return p;
  }

  /** A new zeroed `Float32Array` of `n` floats that lives in this arena. */
  allocF32(n: number): Float32Array {
    return new Float32Array(this.buffer, this.alloc(n * 4), n);
  }

  /** Copies a typed array into the arena and returns the view of the copy. */
  copyIn<T extends Float32Array | Int8Array | Uint8Array>(a: T): T {
    const p = this.alloc(a.byteLength);
    const ctor = a.constructor as new (
      b: ArrayBuffer,
      o: number,
      n: number,
    ) => T;
    const view = new ctor(this.buffer, p, a.length);
    view.set(a as never);
    return view;
  }

  /** Whether `a` is a view into this arena's memory. */
  owns(a: ArrayBufferView): boolean {
    return a.buffer === this.exports.memory.buffer;
  }

  /**
   * Start of the scratch area after making sure it holds `bytes`: a fixed
   * arena throws when it cannot, the growable one grows (invalidating
   * earlier views of itself, which is why it hands none out).
   */
  ensureScratch(bytes: number): number {
    if (bytes > this.#scratchBytes) {
      if (!this.growable) {
        throw new ConfigError(
          `WebAssembly arena scratch too small: ${bytes} > ${this.#scratchBytes} bytes`,
        );
      }
      this.#scratchBytes = alignUp(Math.max(bytes, this.#scratchBytes * 2), 64);
      this.#growTo(this.#scratchStart + this.#scratchBytes);
    }
    return this.#scratchStart;
  }

  /** Size of the scratch area in bytes. */
  get scratchBytes(): number {
    return this.#scratchBytes;
  }
}

/**
 * Creates a fixed arena: `bytes` for allocations (weights, run state) plus a
 * scratch area (default 1 MiB, enough for decode of any matrix up to 64k
 * rows; sequence products are chunked to fit). Its memory never grows.
 *
 * @example
 * ```ts
 * import { createArena, wasmVariant } from "@proj/tinyllm/wasm";
 * if (wasmVariant() !== "none") {
 *   const arena = createArena(4096);
 *   const x = arena.allocF32(16);
 *   console.log(x.length, arena.owns(x)); // 16 true
 * }
 * ```
 */
export function createArena(bytes: number, scratchBytes = 1 << 20): WasmArena {
  return new WasmArena(bytes, scratchBytes, false);
}

let sharedScratch: WasmArena | null = null;

/** The growable arena used for operands that live in no arena (see module doc). */
export function scratchArena(): WasmArena {
  if (!sharedScratch || sharedScratch.variant !== wasmVariant()) {
    sharedScratch = new WasmArena(0, 1 << 20, true);
  }
  return sharedScratch;
}

/** The arena whose memory `a` is a view of, if any. */
export function arenaOf(a: ArrayBufferView): WasmArena | undefined {
  const arena = registry.get(a.buffer);
  // a growable arena's old buffers are detached: only its live buffer counts
  return arena && arena.owns(a) ? arena : undefined;
}
