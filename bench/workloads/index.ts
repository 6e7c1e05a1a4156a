/** The manifest: every benchmark workload, in report order. Names are stable (--filter, JSON). */
import type { Workload } from '../workload.js';
import { A_PLUS_B, RETURN_CONST } from './trivial.js';
import { LOG2 } from './log2.js';
import { MEMCPY } from './memcpy.js';
import { PORT80 } from './port80.js';
import { PRIMES } from './primes.js';
import { STRCMP_MATCH, STRCMP_MISMATCH } from './strcmp.js';
import { SWITCH } from './switch.js';

export const WORKLOADS: readonly Workload[] = [
  PORT80, LOG2, SWITCH, A_PLUS_B, RETURN_CONST, STRCMP_MATCH, STRCMP_MISMATCH, PRIMES, MEMCPY,
];

export function workloadNames(): string[] {
  return WORKLOADS.map((w) => w.name);
}
