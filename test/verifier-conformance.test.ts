/**
 * Every conformance program must verify under memory(size of its `-- mem`) with the conformance
 * helpers' prototypes: they are all safe programs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { parseDataFile } from '../src/conformance/data-file.js';
import { buildProgram, loadBytes } from '../src/program/program.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { CONFORMANCE_PROTOS, memory, verify } from '../src/verifier/index.js';

const DIR = '/work/shared/conformance/tests';

/** Programs that legitimately cannot be verified, with the reason. */
const KNOWN_UNVERIFIABLE: ReadonlyMap<string, string> = new Map();

describe.skipIf(!existsSync(DIR))('conformance programs verify', () => {
  const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.data')).sort() : [];
  it.each(files)('%s', (file) => {
    const data = parseDataFile(readFileSync(join(DIR, file), 'utf8'), file);
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

if (!existsSync(DIR)) {
  describe('conformance programs verify', () => {
    it.skip(`skipped: ${DIR} is absent`, () => {});
  });
}
