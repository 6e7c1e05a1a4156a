/**
 * Checks an engine against the expected results before anything is timed: every event through
 * run (full 64-bit r0), runU32 (low 32 bits) and one runBatch over all events.
 */
import type { Executable } from '../src/runtime/executable.js';
import type { Prepared } from './prepare.js';

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function errorText(err: unknown): string {
  if (err instanceof Error) return `${'code' in err ? `${String(err.code)}: ` : ''}${err.message}`;
  return String(err);
}

function checkEvents(p: Prepared, exe: Executable): string | undefined {
  const { stride, len, count } = p.events;
  for (let i = 0; i < count; i++) {
    const want = p.expected[i]!;
    const got = exe.run(p.base + i * stride, len);
    if (got !== want) return `run() on event ${i} returned ${hex(got)}, expected ${hex(want)}`;
    const got32 = exe.runU32(p.base + i * stride, len);
    const want32 = Number(want & 0xffffffffn);
    if (got32 !== want32) return `runU32() on event ${i} returned ${got32}, expected ${want32}`;
  }
  return undefined;
}

function checkBatch(p: Prepared, exe: Executable): string | undefined {
  const { stride, len, count } = p.events;
  exe.runBatch(p.base, stride, len, count, p.resultsAddr);
  const view = p.mem.view;
  for (let i = 0; i < count; i++) {
    const got = view.getBigUint64(p.resultsAddr + 8 * i, true);
    const want = p.expected[i]!;
    if (got !== want) return `runBatch() result ${i} is ${hex(got)}, expected ${hex(want)}`;
  }
  return undefined;
}

/** Undefined when the engine agrees with the JavaScript function on every event; else why not. */
export function verifyEngine(p: Prepared, exe: Executable): string | undefined {
  try {
    return checkEvents(p, exe) ?? checkBatch(p, exe);
  } catch (err) {
    return `threw ${errorText(err)}`;
  }
}
