/**
 * Counted loop shapes on r7 for the generator. Each one is a bounded loop whatever its body does, as
 * bodies never write r7 and local calls preserve it. Together they use every jump condition once.
 *
 *   bottom test                  top test
 *     mov r7, init                 mov r7, init
 *   head:                        head:
 *     body                         if (test r7) goto end
 *     step r7                      step r7
 *     if (test r7) goto head       body
 *                                  ja/ja32 head
 *                                end:
 */
import type { AluOp, JmpCond, Width } from '../src/isa/insn.js';

export interface LoopShape {
  readonly top: boolean;
  /** Value r7 starts at for n trips. */
  readonly init: (n: number) => number;
  readonly step: readonly [AluOp, Width, number];
  /** Bottom test: loop again while true. Top test: leave while true. */
  readonly test: readonly [JmpCond, Width, (n: number) => number];
  /** Fewest trips the shape handles (smaller counts would wrap around). */
  readonly minTrips: number;
  /** The back jump of a top-tested loop: `ja` (off) or `ja32`/gotol (imm). */
  readonly long?: boolean;
}

const down = (n: number): number => n;
const zero = (): number => 0;
const minus = (n: number): number => -n;
const value = (v: number) => (): number => v;
const trips = (n: number): number => n;

export const LOOP_SHAPES: readonly LoopShape[] = [
  { top: false, init: down, step: ['sub', 64, 1], test: ['jne', 64, value(0)], minTrips: 1 },
  { top: false, init: down, step: ['add', 64, -1], test: ['jsgt', 64, value(0)], minTrips: 0 },
  { top: false, init: down, step: ['sub', 32, 1], test: ['jne', 32, value(0)], minTrips: 1 },
  { top: false, init: down, step: ['sub', 64, 1], test: ['jgt', 64, value(0)], minTrips: 1 },
  { top: false, init: down, step: ['sub', 64, 1], test: ['jsge', 64, value(1)], minTrips: 0 },
  { top: false, init: zero, step: ['add', 64, 1], test: ['jlt', 64, trips], minTrips: 0 },
  { top: false, init: zero, step: ['add', 32, 1], test: ['jslt', 32, trips], minTrips: 0 },
  { top: false, init: zero, step: ['add', 64, 1], test: ['jle', 64, (n) => n - 1], minTrips: 1 },
  { top: false, init: down, step: ['sub', 64, 1], test: ['jset', 64, value(-1)], minTrips: 1 },
  { top: false, init: zero, step: ['add', 64, 1], test: ['jne', 32, trips], minTrips: 1 },
  { top: false, init: down, step: ['sub', 64, 1], test: ['jge', 64, value(1)], minTrips: 1 },
  { top: false, init: minus, step: ['add', 64, 1], test: ['jslt', 64, value(0)], minTrips: 0 },
  { top: false, init: minus, step: ['add', 32, 1], test: ['jsle', 32, value(-1)], minTrips: 0 },
  { top: true, init: down, step: ['sub', 64, 1], test: ['jeq', 64, value(0)], minTrips: 0 },
  { top: true, init: down, step: ['sub', 64, 1], test: ['jsle', 64, value(0)], minTrips: 0, long: true },
  { top: true, init: zero, step: ['add', 64, 1], test: ['jge', 64, trips], minTrips: 0 },
  { top: true, init: zero, step: ['add', 32, 1], test: ['jsge', 32, trips], minTrips: 0, long: true },
  { top: true, init: down, step: ['sub', 64, 1], test: ['jlt', 64, value(1)], minTrips: 0 },
  { top: true, init: down, step: ['sub', 32, 1], test: ['jle', 32, value(0)], minTrips: 0 },
];
