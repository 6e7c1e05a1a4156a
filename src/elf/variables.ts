/** Global variables of a loaded object, read and written by name in their live maps (libbpf's skeleton's bss/data). */
import { InputError } from '../errors.js';
import type { BpfMap } from '../maps/map.js';
import type { ObjectSpec, VariableSpec } from './spec.js';
import { decodeValue, encodeValue, type VariableValue } from './values.js';

export class ObjectVariables {
  constructor(private readonly spec: ObjectSpec, private readonly maps: readonly BpfMap[]) {}

  /** The variables' names. */
  names(): string[] {
    return this.spec.variables.map((v) => v.name);
  }

  private find(name: string): VariableSpec {
    const v = this.spec.variables.find((x) => x.name === name);
    if (!v) throw new InputError(`the object has no global variable '${name}' (its variables: ${this.names().join(', ') || 'none'})`);
    return v;
  }

  private address(v: VariableSpec): { map: BpfMap; addr: number } {
    const map = this.maps[v.map]!;
    const addr = map.directValue(v.offset);
    if (addr === undefined) throw new InputError(`variable '${v.name}' is not inside its map's value`);
    return { map, addr };
  }

  /** Its value now: a number up to 4 bytes, a bigint for 8 bytes, a copy of the bytes otherwise. */
  get(name: string): number | bigint | Uint8Array {
    const v = this.find(name);
    const { map, addr } = this.address(v);
    return decodeValue(v, map.mem.read(addr, v.size));
  }

  /** Writes a `.data` or `.bss` variable; `.rodata` and `.kconfig` are constants once programs are loaded. */
  set(name: string, value: VariableValue): void {
    const v = this.find(name);
    const kind = this.spec.maps[v.map]!.kind;
    if (kind === 'rodata' || kind === 'kconfig') throw new InputError(`variable '${name}' is in ${this.spec.maps[v.map]!.name}, read-only once loaded: give it with loadObject's set option`);
    const { map, addr } = this.address(v);
    map.mem.write(addr, encodeValue(v, value));
  }
}
