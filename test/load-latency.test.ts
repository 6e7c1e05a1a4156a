/**
 * What the load-latency measurement relies on: the opt-in V8 flags (src/v8-flags.ts), the JIT warm-up
 * (src/warm-up.ts) and the fresh-process load run of bench/load-child.ts.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { configurationRows } from '../bench/report.js';
import type { LoadTimes } from '../bench/load-time.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { lowLatencyV8Flags } from '../src/v8-flags.js';
import { warmUpJit } from '../src/warm-up.js';

describe('load latency', () => {
  it('names V8 flags that node accepts', () => {
    const flags = lowLatencyV8Flags();
    expect(flags).toHaveLength(2);
    expect(flags[0]).toMatch(/^--wasm-num-compilation-tasks=[1-9]\d*$/);
    const out = spawnSync(process.execPath, [...flags, '--v8-options'], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    for (const flag of flags) expect(out.stdout).toContain(flag.replace(/^--(no-)?/, '--').replace(/=.*$/, ''));
  });

  it('warms the JIT up by compiling that many distinct modules', () => {
    const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
    const compiled = vi.spyOn(WebAssembly, 'Module');
    try {
      warmUpJit(rt, 3);
      expect(compiled).toHaveBeenCalledTimes(3);
      const binaries = compiled.mock.calls.map(([bytes]) => Buffer.from(bytes as Uint8Array).toString('hex'));
      expect(new Set(binaries).size).toBe(3);
    } finally {
      compiled.mockRestore();
    }
  });

  it('times loads in a fresh process, after the warm-up', () => {
    const child = fileURLToPath(new URL('../dist/bench/load-child.js', import.meta.url));
    const out = spawnSync(process.execPath, [...lowLatencyV8Flags(), child, '2', '4'], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout) as { warmUpMs: number; loadMs: number[] };
    expect(result.loadMs).toHaveLength(4);
    expect(result.warmUpMs).toBeGreaterThan(0);
    for (const ms of result.loadMs) expect(ms).toBeGreaterThan(0);
  });

  it('tabulates loads by configuration', () => {
    const lt = {
      programs: [], phases: [], binaryenImportMs: [], notes: [],
      configurations: [
        { name: 'V8 defaults', flags: [], warmUpLoads: 0, warmUpMs: 0, firstMs: 50, earlyMs: 14, lateMs: 3.6, processes: 3 },
        { name: 'warm', flags: ['--x'], warmUpLoads: 10, warmUpMs: 120, firstMs: 5.5, earlyMs: 4.6, lateMs: 4.4, processes: 3 },
      ],
    } satisfies LoadTimes;
    expect(configurationRows(lt)).toEqual([
      ['port80 load (ms), fresh process', 'warm-up', 'first load', 'loads 1-20', 'loads 101-150', 'processes'],
      ['V8 defaults', '-', '50.0', '14.0', '3.60', '3'],
      ['warm', '120.0 (10 loads)', '5.50', '4.60', '4.40', '3'],
    ]);
    expect(configurationRows({ ...lt, configurations: [] })).toBeUndefined();
  });
});
