/**
 * Program variants for load-time measurements: V8 keeps a cache of compiled WebAssembly modules keyed
 * by their bytes and would hand back the previous compile of the same program, so each load gets the
 * same structure with different bytes (the first `mov imm` gets another immediate).
 */
export function variant(bytes: Uint8Array, k: number): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  for (let at = 0; at < copy.length; at += 8) {
    if (copy[at] === 0xb7 || copy[at] === 0xb4) {
      view.setInt32(at + 4, view.getInt32(at + 4, true) ^ (k * 0x9e37 + 1), true);
      break;
    }
  }
  return copy;
}
