/**
 * Pieces every memory-access rule shares: where a pointer plus an instruction offset can land, and how
 * to say it in a message.
 */
import type { ErrorCode } from '../errors.js';
import type { Ptr } from './reg-state.js';
import { formatScalar } from './scalar.js';
import { refuse } from './refusal.js';

/** Largest variable offset a pointer may carry into an access, either sign (as the kernel's BPF_MAX_VAR_OFF). */
export const MAX_VAR_OFF = 1 << 29;
/** Largest offset into a packet a variable part may reach (as the kernel's MAX_PACKET_OFF). */
export const MAX_PACKET_OFF = 0xffff;

export type AccessMode = 'read' | 'write' | 'atomic access';

/** Possible start offsets [lo, hi] of an access, relative to the pointer's base. */
export interface Span {
  readonly lo: number;
  readonly hi: number;
}

/** Where `*(ptr + insnOff)` can start; refuses a variable part too wide to reason about. */
export function accessSpan(p: Ptr, insnOff: number, code: ErrorCode, what: string, reg: number): Span {
  const v = p.var;
  if (v.smin < BigInt(-MAX_VAR_OFF) || v.smax > BigInt(MAX_VAR_OFF)) {
    refuse(code, `${what} through r${reg} with an unbounded variable offset ${formatScalar(v)}`, [reg]);
  }
  const base = p.off + insnOff;
  return { lo: base + Number(v.smin), hi: base + Number(v.smax) };
}

const signedOff = (x: number): string => (x < 0 ? `${x}` : `+${x}`);

/** `ctx+60`, `fp-8`, `mem+[0, 70]`. */
export function spanText(label: string, span: Span): string {
  if (span.lo === span.hi) return `${label}${signedOff(span.lo)}`;
  return `${label}+[${span.lo}, ${span.hi}]`;
}

export function accessText(mode: AccessMode, size: number): string {
  return `${mode} of ${size} byte${size === 1 ? '' : 's'}`;
}
