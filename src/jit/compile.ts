/** WebAssembly compilation of a module the JIT generated: V8 refusing one is a bug of the JIT. */
import { InternalError } from '../errors.js';

export function compileModule(binary: Uint8Array<ArrayBuffer>): WebAssembly.Module {
  try {
    return new WebAssembly.Module(binary);
  } catch (error) {
    throw new InternalError(`V8 refused the module the JIT generated: ${error instanceof Error ? error.message : String(error)}`);
  }
}
