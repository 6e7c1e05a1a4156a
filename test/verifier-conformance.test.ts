/**
 * Every conformance program must verify under memory(size of its `-- mem`) with the conformance
 * helpers' prototypes: they are all safe programs.
 */
import { describe, expect, it } from 'vitest';
import { conformanceFiles, conformancePresent, readConformance, reportMissingConformance } from './conformance-suite.js';
import { assemble } from '../src/asm/index.js';
import { buildProgram, loadBytes } from '../src/program/program.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { CONFORMANCE_PROTOS, memory, verify } from '../src/verifier/index.js';

/** Programs that legitimately cannot be verified, with the reason. */
const KNOWN_UNVERIFIABLE: ReadonlyMap<string, string> = new Map();

describe.skipIf(!conformancePresent)('conformance programs verify', () => {
  it('finds all 313 programs', () => {
    expect(conformanceFiles()).toHaveLength(313);
  });

  it.each(conformanceFiles())('%s', (file) => {
    const data = readConformance(file);
    const program = data.asm !== undefined ? buildProgram(assemble(data.asm, 'ubpf')) : loadBytes(data.raw!);
    const result = verify(program, { context: memory(data.mem.length), helpers: CONFORMANCE_PROTOS });
    // The runtime's own helper specs carry the same prototypes.
    const viaRegistry = verify(program, { context: memory(data.mem.length), helpers: new HelperRegistry(conformanceHelpers()) });
    expect(viaRegistry.ok).toBe(result.ok);
    const known = KNOWN_UNVERIFIABLE.get(file);
    if (known) {
      expect(result.ok, known).toBe(false);
      return;
    }
    expect(result.ok ? 'accepted' : result.error.message).toBe('accepted');
  });
});

reportMissingConformance('conformance programs verify');
