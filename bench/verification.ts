/**
 * How the JIT builds each workload's program: verified when the verifier accepts it under the
 * workload's context (memory(len of one event), the conformance calling convention: r1 = the event,
 * r2 = its length, which memory(size) fixes to size). When the only objection is a loop it cannot
 * prove to end, the program is verified again with `termination: 'budget'`: proven safe, it runs
 * without bounds checks but keeps the instruction budget. Otherwise it runs in checked mode. The
 * verifier's reason is kept for the report: every fallback is a footnote of the main table.
 *
 * Results are cached by program and event length for the process: the two strcmp workloads share
 * one program and one input size, and a refusal can take the verifier seconds (strcmp at 2 MiB runs
 * its whole instruction budget before giving up).
 */
import type { Program } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import type { VerifierFacts } from '../src/verifier/facts.js';
import { memory, verify, type VerifyStats } from '../src/verifier/index.js';
import type { VerifyError } from '../src/verifier/refusal.js';

export type JitBuild =
  /** `budget`: verified with termination 'budget' (why termination was not proven in `reason`). */
  | { readonly checked: false; readonly facts: VerifierFacts; readonly stats: VerifyStats; readonly budget?: { readonly reason: string } }
  | { readonly checked: true; readonly reason: string; readonly stats: VerifyStats };

/** Refusals that only say a loop was not proven to end. */
const TERMINATION = new Set(['E_VERIFY_LOOP', 'E_VERIFY_BUDGET']);

const cache = new Map<string, JitBuild>();

/**
 * The verifier's refusal for a footnote: its code, pc and the rule broken, whole. The full message
 * adds the instruction and register states, which made footnotes of 300 characters.
 */
const reasonOf = (error: VerifyError): string => `${error.code} at pc ${error.pc}: ${error.rule}`;

/** Verifies `program` (bench/programs/NAME.bin) under memory(len), once per process. */
export function jitBuildFor(name: string, program: Program, len: number, rt: Runtime): JitBuild {
  const key = `${name}@${len}`;
  const known = cache.get(key);
  if (known) return known;
  const result = verify(program, { context: memory(len), helpers: rt.helpers });
  const why = (r: typeof result): string => (r.ok ? '' : reasonOf(r.error));
  let build: JitBuild;
  if (result.ok) build = { checked: false, facts: result.facts, stats: result.stats };
  else {
    const safe = TERMINATION.has(result.error.code) ? verify(program, { context: memory(len), helpers: rt.helpers, termination: 'budget' }) : result;
    build = safe.ok ? { checked: false, facts: safe.facts, stats: safe.stats, budget: { reason: why(result) } } : { checked: true, reason: why(safe), stats: safe.stats };
  }
  cache.set(key, build);
  return build;
}
