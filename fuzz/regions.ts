/**
 * Programs whose pointers cross regions: addresses derived from r1 (the input), from r10 (the frame
 * pointer) and from one another (r1 + (r10 - r1) is r10), moved by constants, by registers and by
 * 32-bit adds so that they land just inside a region, just outside it (by 1 to 64 bytes), far from it
 * (r10 - 4000, a callee's frame after it returned) or in the neighbouring region; and values that leak
 * addresses (r0 = r1, r10 - r1, a pointer stored into the input). They run unverified, in checked
 * mode, through both engines as users run them (layout.ts): the engines must agree, and accesses whose
 * outcome the runtime rules fix must end as the rules say (`expectation`).
 *
 * The rules (checked mode, src/runtime/memory.ts): a run may touch its input [r1, r1 + len) and the
 * frames in use, from the current r10 - 512 up to the entry function's r10; a guard gap of GUARD_GAP
 * bytes lies before every heap allocation (the input's among them) and between the stacks and the
 * heap, and below the frames in use lie the unused frames and the null guard. So an access inside one
 * of the regions succeeds, and one that touches a guard gap or the stack below the frames in use
 * faults at its pc. Others (r10 + 4096 is the input's address in a fresh Vm) depend on the layout:
 * the engines must only agree on them.
 */
import fc from 'fast-check';
import { GUARD_GAP, STACK_FRAME_BYTES as FRAME } from '../src/runtime/memory.js';

/** Offsets far from the regions: deep in the unused stack, a dead callee frame, past the stack top, far away. */
const FAR = [-4000, -4096, -3584, -1024, -600, 520, 4096, 65536, -65536];

/** Where a probe's pointer comes from: r1, r1 + r2 (the input's end), r10, or one reached from the other. */
export type Anchor = 'ctx' | 'ctx-end' | 'fp' | 'fp-via-ctx' | 'ctx-via-fp';
/** How it is moved: add an immediate, add or subtract a register, or a 32-bit add (which truncates). */
export type Move = 'imm' | 'reg' | 'sub-reg' | 'imm32';
/** What the probe does with the pointer: load or store through it, or fold the address itself into r0. */
export type Act =
  | { readonly k: 'load'; readonly size: 1 | 2 | 4 | 8 }
  | { readonly k: 'store'; readonly size: 1 | 2 | 4 | 8; readonly value: 'imm' | 'r1' | 'r10' | 'ptr' }
  | { readonly k: 'leak' }
  /** r0 gets the pointer minus r1: a distance between regions when it came from r10. */
  | { readonly k: 'leak-diff' };

export interface Probe {
  readonly anchor: Anchor;
  readonly move: Move;
  /** Aim: `delta` bytes from the region's start or end (the pointer plus the access offset). */
  readonly edge: 'start' | 'end';
  readonly delta: number;
  /** Part of the displacement carried by the access's offset instead of the pointer. */
  readonly off: number;
  readonly act: Act;
}

export interface RegionSpec {
  readonly input: Uint8Array;
  readonly main: readonly Probe[];
  /** A function main calls after its probes (r10 is then 512 lower), and main's probes after it returns. */
  readonly callee: readonly Probe[] | undefined;
  readonly after: readonly Probe[];
}

type Edge = Probe['edge'];
const edge = (): fc.Arbitrary<Edge> => fc.constantFrom<Edge>('start', 'end');

/**
 * An aim: within 64 bytes of an edge, within 8, inside the region near an edge (mostly, so that runs
 * go on past their first probes), or far off.
 */
const aim = (): fc.Arbitrary<{ edge: Edge; delta: number }> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ edge: edge(), delta: fc.integer({ min: -64, max: 64 }) }) },
  { weight: 3, arbitrary: fc.record({ edge: edge(), delta: fc.integer({ min: -8, max: 8 }) }) },
  {
    weight: 9,
    arbitrary: fc.record({ edge: edge(), depth: fc.integer({ min: 0, max: 24 }) })
      .map(({ edge: e, depth }) => ({ edge: e, delta: e === 'start' ? depth : -depth - 8 })),
  },
  { weight: 2, arbitrary: fc.record({ edge: edge(), delta: fc.constantFrom(...FAR) }) },
);

const probe = (): fc.Arbitrary<Probe> => fc.record({
  anchor: fc.constantFrom<Anchor>('ctx', 'ctx-end', 'fp', 'fp-via-ctx', 'ctx-via-fp'),
  move: fc.constantFrom<Move>('imm', 'reg', 'sub-reg', 'imm32'),
  aim: aim(),
  off: fc.oneof(fc.constant(0), fc.integer({ min: -16, max: 16 })),
  act: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8).map((size): Act => ({ k: 'load', size })) },
    {
      weight: 3,
      arbitrary: fc.record({ size: fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8), value: fc.constantFrom<'imm' | 'r1' | 'r10' | 'ptr'>('imm', 'r1', 'r10', 'ptr') })
        .map((f): Act => ({ k: 'store', ...f })),
    },
    { weight: 1, arbitrary: fc.constant<Act>({ k: 'leak' }) },
    { weight: 1, arbitrary: fc.constant<Act>({ k: 'leak-diff' }) },
  ),
}).map(({ aim: a, ...p }) => ({ ...p, ...a }));

export function regionSpec(): fc.Arbitrary<RegionSpec> {
  return fc.record({
    input: fc.oneof(
      { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
      { weight: 3, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
      { weight: 5, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 64 }) },
    ),
    main: fc.array(probe(), { minLength: 1, maxLength: 4 }),
    callee: fc.option(fc.array(probe(), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    after: fc.array(probe(), { maxLength: 2 }),
  });
}

/** What the rules say about one access: it succeeds, it faults, or it depends on the layout. */
export type Verdict = 'ok' | 'fault' | 'layout';

/** A region relative to a probe's pointer anchor, and the bytes on each side of it no run may touch. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly guardBelow: number;
  readonly guardAbove: number;
}

/** The region an anchor points into, relative to the anchor, at call depth `depth` (0: main). */
function spanOf(anchor: Anchor, len: number, depth: number): Span {
  switch (anchor) {
    case 'ctx': case 'ctx-via-fp': return { start: 0, end: len, guardBelow: GUARD_GAP, guardAbove: GUARD_GAP };
    case 'ctx-end': return { start: -len, end: 0, guardBelow: GUARD_GAP, guardAbove: GUARD_GAP };
    case 'fp': case 'fp-via-ctx':
      // Frames in use: this one down to r10 - 512, the callers' up to main's r10. Below them nothing
      // is a region of a run on CPU 0 (unused frames, then the null guard).
      return { start: -FRAME, end: FRAME * depth, guardBelow: Infinity, guardAbove: GUARD_GAP };
  }
}

/** The displacement from the anchor a probe aims at. */
function displacement(p: Probe, span: Span): number {
  return (p.edge === 'start' ? span.start : span.end) + p.delta;
}

/**
 * What the rules say about an access of `size` bytes at `at` (relative to the anchor): inside the
 * region it succeeds; touching the guard on either side of it, it faults; anything else depends on
 * where the regions lie.
 */
export function classify(span: Span, at: number, size: number): Verdict {
  const lo = at, hi = at + size;
  if (lo >= span.start && hi <= span.end) return 'ok';
  const overlaps = (from: number, to: number): boolean => lo < to && hi > from;
  if (overlaps(span.start - span.guardBelow, span.start) || overlaps(span.end, span.end + span.guardAbove)) return 'fault';
  return 'layout';
}

/** A lowered program: assembly lines (one instruction each, or a label) and each access's pc and verdict. */
export interface RegionProgram {
  readonly text: string;
  /** Accesses in the order they run: pc and what the rules say. */
  readonly accesses: ReadonlyArray<{ readonly pc: number; readonly verdict: Verdict }>;
}

const PTR = 'r3', NUM = 'r4', DIST = 'r5', VAL = 'r6';

function anchorLines(anchor: Anchor): string[] {
  switch (anchor) {
    case 'ctx': return [`${PTR} = r1`];
    case 'ctx-end': return [`${PTR} = r1`, `${PTR} += r2`];
    case 'fp': return [`${PTR} = r10`];
    case 'fp-via-ctx': return [`${DIST} = r10`, `${DIST} -= r1`, `${PTR} = r1`, `${PTR} += ${DIST}`];
    case 'ctx-via-fp': return [`${DIST} = r10`, `${DIST} -= r1`, `${PTR} = r10`, `${PTR} -= ${DIST}`];
  }
}

function moveLines(move: Move, k: number): string[] {
  switch (move) {
    case 'imm': return [`${PTR} += ${k}`];
    case 'reg': return [`${NUM} = ${k}`, `${PTR} += ${NUM}`];
    case 'sub-reg': return [`${NUM} = ${-k}`, `${PTR} -= ${NUM}`];
    case 'imm32': return [`w${PTR.slice(1)} += ${k}`];
  }
}

const fold = (reg: string): string[] => ['r0 *= 31', `r0 ^= ${reg}`];

/** The instructions of a probe; `access` is the index of its load or store among them. */
function probeLines(p: Probe, at: number): { lines: string[]; access: number | undefined } {
  const k = at - p.off;
  const lines = [...anchorLines(p.anchor), ...moveLines(p.move, k)];
  const addr = `(${PTR} ${p.off < 0 ? '-' : '+'} ${Math.abs(p.off)})`;
  const act = p.act;
  switch (act.k) {
    case 'load': return { lines: [...lines, `${VAL} = *(u${8 * act.size} *)${addr}`, ...fold(VAL)], access: lines.length };
    case 'store': {
      const value = act.value === 'imm' ? '0x5a' : act.value === 'ptr' ? PTR : act.value;
      return { lines: [...lines, `*(u${8 * act.size} *)${addr} = ${value}`], access: lines.length };
    }
    case 'leak': return { lines: [...lines, ...fold(PTR)], access: undefined };
    case 'leak-diff': return { lines: [...lines, `${VAL} = ${PTR}`, `${VAL} -= r1`, ...fold(VAL)], access: undefined };
  }
}

/** Assembly lines, counting instructions (labels take no pc). */
class Lines {
  readonly text: string[] = [];
  pc = 0;

  add(...lines: readonly string[]): void {
    for (const line of lines) {
      this.text.push(line);
      if (!line.endsWith(':')) this.pc++;
    }
  }
}

type Access = RegionProgram['accesses'][number];

/** Emits probes run at call depth `depth`; returns their accesses in order. */
function emitProbes(out: Lines, probes: readonly Probe[], len: number, depth: number): Access[] {
  const accesses: Access[] = [];
  for (const p of probes) {
    const span = spanOf(p.anchor, len, depth);
    const at = displacement(p, span);
    const { lines, access } = probeLines(p, at);
    if (access !== undefined && 'size' in p.act) accesses.push({ pc: out.pc + access, verdict: classify(span, at, p.act.size) });
    out.add(...lines);
  }
  return accesses;
}

/**
 * The program: main (r8 and r9 keep r1 and r2 across the call), its probes, the call, its probes
 * after the call, exit; then the callee with its own probes. Accesses are listed in the order they run.
 */
export function lowerRegions(spec: RegionSpec): RegionProgram {
  const len = spec.input.length;
  const out = new Lines();
  out.add('r8 = r1', 'r9 = r2', 'r0 = 0');
  const before = emitProbes(out, spec.main, len, 0);
  if (spec.callee) out.add('call callee', 'r1 = r8', 'r2 = r9');
  const after = emitProbes(out, spec.after, len, 0);
  out.add('exit');
  let inCallee: Access[] = [];
  if (spec.callee) {
    out.add('callee:', 'r0 = 0');
    inCallee = emitProbes(out, spec.callee, len, 1);
    out.add('exit');
  }
  return { text: out.text.join('\n'), accesses: [...before, ...inCallee, ...after] };
}

/** What the rules fix about a run: a fault at a pc, a normal exit, or nothing (a layout-dependent access comes first). */
export type Expectation = { readonly fault: number } | 'exit' | undefined;

export function expectation(program: RegionProgram): Expectation {
  for (const a of program.accesses) {
    if (a.verdict === 'fault') return { fault: a.pc };
    if (a.verdict === 'layout') return undefined;
  }
  return 'exit';
}
