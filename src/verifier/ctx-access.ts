/**
 * Loads and stores through a context pointer, checked against the context descriptor's fields. The
 * whole access must fall inside one field; pointer fields (packet data, data_end) must be loaded whole
 * at a constant offset and can never be written; read-only fields can only be read; a field's
 * `narrow` rule says which accesses narrower than it are allowed (the kernel's contexts restrict them).
 */
import type { AccessSize } from '../isa/insn.js';
import { type ContextDescriptor, type CtxField, fieldAt, fieldsOverlapping } from './context.js';
import { accessSpan, accessText, spanText, type AccessMode, type Span } from './access-common.js';
import { makePtr, type Ptr, type RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import { loadedScalar } from './scalar.js';

function outside(ctx: ContextDescriptor, mode: AccessMode, size: number, lo: number, hi: number, reg: number): never {
  const where = spanText('ctx', { lo, hi });
  const total = ctx.r1.size;
  if (lo < 0 || hi + size > total) {
    refuse('E_VERIFY_CTX_ACCESS', `${accessText(mode, size)} at ${where} is outside the ${total}-byte context`, [reg]);
  }
  const names = fieldsOverlapping(ctx, lo, hi + size).map((f) => f.name);
  const detail = names.length === 0 ? 'no field is there' : `it is not inside one field (touches ${names.join(', ')})`;
  refuse('E_VERIFY_CTX_ACCESS', `${accessText(mode, size)} at ${where} is not a valid context access: ${detail}`, [reg]);
}

/** Checks `*(ptr + off)` of `size` bytes on the context; returns what a read yields. */
export function ctxAccess(
  ctx: ContextDescriptor, p: Ptr, reg: number, insnOff: number, size: AccessSize, mode: AccessMode, signed: boolean,
): RegState {
  const span = accessSpan(p, insnOff, 'E_VERIFY_CTX_ACCESS', accessText(mode, size), reg);
  const field = fieldAt(ctx, span.lo, span.hi + size);
  if (!field) outside(ctx, mode, size, span.lo, span.hi, reg);
  const load = field.load ?? 'scalar';
  const where = spanText('ctx', span);
  if (load !== 'scalar') {
    if (mode !== 'read') {
      refuse('E_VERIFY_CTX_READONLY', `${accessText(mode, size)} at ${where}: context field ${field.name} holds a pointer and is read-only`, [reg]);
    }
    if (span.lo !== field.offset || span.hi !== span.lo || size !== field.size || signed) {
      refuse('E_VERIFY_CTX_ACCESS', `${accessText(mode, size)} at ${where}: pointer field ${field.name} must be loaded whole (${field.size} bytes at ctx+${field.offset})`, [reg]);
    }
    return makePtr(load === 'packet_meta' ? 'packet' : load);
  }
  if (mode !== 'read' && field.readOnly) {
    refuse('E_VERIFY_CTX_READONLY', `${accessText(mode, size)} at ${where}: context field ${field.name} is read-only`, [reg]);
  }
  checkNarrow(field, span, size, mode, where, reg);
  return loadedScalar(size, signed);
}

/** The field's `narrow` rule (context.ts): whole accesses, or narrower ones at a constant aligned offset. */
function checkNarrow(field: CtxField, span: Span, size: number, mode: AccessMode, where: string, reg: number): void {
  const narrow = field.narrow ?? 'any';
  if (narrow === 'any') return;
  const whole = span.lo === field.offset && span.hi === span.lo && size === field.size;
  if (whole) return;
  const wholeOnly = narrow === 'none' || (narrow === 'read' && mode !== 'read');
  if (wholeOnly) {
    refuse('E_VERIFY_CTX_ACCESS', `${accessText(mode, size)} at ${where}: context field ${field.name} must be ${mode === 'read' ? 'read' : 'written'} whole (${field.size} bytes at ctx+${field.offset})`, [reg]);
  }
  if (span.lo !== span.hi || span.lo % size !== 0) {
    refuse('E_VERIFY_CTX_ACCESS', `${accessText(mode, size)} at ${where}: a narrow access to context field ${field.name} must be at a constant offset that is a multiple of its size`, [reg]);
  }
}
