/**
 * A restricted unpickler: it reads the opcodes a tensor state_dict pickled by
 * `torch.save` uses (protocol 2, plus the protocol 3–4 spellings of strings,
 * bytes, globals and memo that `pickle_protocol=4` produces) into plain
 * values, and refuses every other opcode. Nothing is ever called by name:
 * a GLOBAL is resolved through the caller's allowlist (`findGlobal`), REDUCE
 * only calls the JavaScript functions that allowlist returned, BUILD only
 * sets state on objects that accept it, and INST/OBJ/NEWOBJ/EXT* are refused
 * outright. Allocation is bounded by the input: every length is checked
 * against the bytes left, and the stack, the memo, MARK nesting and container
 * nesting have caps. It knows nothing about torch (see `torch.ts`).
 */

import { CheckpointError } from './errors';

/** A Python float, kept apart from ints so shapes and offsets can insist on integers. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export type DictKey = string | number | bigint | boolean | null;

/** A dict or OrderedDict (insertion order either way, as Python ≥ 3.7). */
export class PyDict {
  readonly entries = new Map<DictKey, PyValue>();
  /** Attributes set by BUILD (an OrderedDict state_dict's `_metadata`). */
  attributes: PyDict | null = null;
  constructor(readonly ordered: boolean) {}
}

/** An object an allowlisted callable produced; `typeName` is used in messages. */
export interface PyObject {
  readonly typeName: string;
  /** BUILD's `__setstate__`; objects without it refuse BUILD. */
  setState?(state: PyValue): void;
}

/** An allowlisted global: REDUCE calls `call` with the argument tuple's items. */
export class PyCallable implements PyObject {
  readonly typeName: string;
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: readonly PyValue[]) => PyValue,
  ) {
    this.typeName = qualifiedName;
  }
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyFloat | PyTuple | PyValue[] | PyDict | PyObject;

export interface UnpickleHooks {
  /** The value of `module.name`, or undefined to refuse it. */
  findGlobal(module: string, name: string): PyValue | undefined;
  /** BINPERSID: the object a persistent id stands for (torch: a storage). */
  persistentLoad(pid: PyValue): PyValue;
}

export interface UnpickleLimits {
  readonly maxStack: number;
  readonly maxMemo: number;
  /** Nesting of MARKs and of containers inside containers. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: UnpickleLimits = { maxStack: 1_000_000, maxMemo: 1_000_000, maxDepth: 64 };

const NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** A short description of a value's Python type, for messages. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof PyTuple) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  return v.typeName;
}

const MARK = Symbol('mark');
type Slot = PyValue | typeof MARK;

/**
 * Unpickles one pickle starting at `start`; returns the value and the offset just past STOP
 * (the legacy torch format is several pickles in a row).
 */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, start = 0, limits: UnpickleLimits = DEFAULT_LIMITS): { value: PyValue; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  // Nesting depth of containers, updated as items go in (a container's depth is 1 + its deepest item's).
  const depth = new WeakMap<object, number>();
  let p = start;
  let op = 0;
  let at = start;

  const fail = (msg: string): never => {
    throw new CheckpointError(`pickle, byte ${at}: ${msg}`);
  };
  const need = (n: number): void => {
    if (n < 0 || p + n > bytes.length) fail(`${NAMES[op] ?? 'opcode'} needs ${n} bytes but only ${bytes.length - p} remain (truncated?)`);
  };
  const push = (v: Slot): void => {
    if (stack.length >= limits.maxStack) fail(`more than ${limits.maxStack} values on the stack`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail(`${NAMES[op]} on an empty stack`);
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (stack.length === 0 || v === MARK) fail(`${NAMES[op]} on an empty stack`);
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    if (!marks.length) fail(`${NAMES[op]} without a MARK`);
    const m = marks.pop() as number;
    return stack.splice(m) as PyValue[];
  };
  const depthOf = (v: PyValue): number => (v !== null && typeof v === 'object' ? (depth.get(v) ?? 0) : 0);
  const contain = (container: object, items: readonly PyValue[]): void => {
    let d = depth.get(container) ?? 1;
    for (const it of items) d = Math.max(d, depthOf(it) + 1);
    if (d > limits.maxDepth) fail(`containers nested more than ${limits.maxDepth} deep`);
    depth.set(container, d);
  };
  const key = (k: PyValue): DictKey => {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
    if (k instanceof PyFloat) return k.value;
    return fail(`a dict key of type ${pyTypeName(k)} is not supported`);
  };
  const setItems = (d: PyValue, kv: readonly PyValue[]): void => {
    if (!(d instanceof PyDict)) return fail(`${NAMES[op]} on a ${pyTypeName(d)}, not a dict`);
    if (kv.length % 2) fail(`${NAMES[op]} with an odd number of items`);
    for (let i = 0; i < kv.length; i += 2) d.entries.set(key(kv[i]), kv[i + 1]);
    contain(d, kv);
  };
  const append = (l: PyValue, items: readonly PyValue[]): void => {
    if (!Array.isArray(l)) return fail(`${NAMES[op]} on a ${pyTypeName(l)}, not a list`);
    for (const it of items) l.push(it);
    contain(l, items);
  };
  const tuple = (items: PyValue[]): PyTuple => {
    const t = new PyTuple(items);
    contain(t, items);
    return t;
  };
  const memoize = (i: number, v: PyValue): void => {
    if (!memo.has(i) && memo.size >= limits.maxMemo) fail(`more than ${limits.maxMemo} memo entries`);
    memo.set(i, v);
  };
  const recall = (i: number): PyValue => {
    if (!memo.has(i)) fail(`memo entry ${i} was never stored`);
    return memo.get(i) as PyValue;
  };
  const str = (n: number): string => {
    need(n);
    const s = bytes.subarray(p, p + n);
    p += n;
    try {
      return dec.decode(s);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const raw = (n: number): Uint8Array => {
    need(n);
    const b = bytes.slice(p, p + n);
    p += n;
    return b;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0 || end - p > 256) fail('GLOBAL without a newline-terminated name');
    const s = latin1.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const long = (n: number): number | bigint => {
    if (n > 64) fail(`an integer of ${n} bytes is too large`);
    need(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]);
    if (bytes[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    p += n;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(bytes.length)) fail(`a length of ${v} bytes exceeds the file`);
    return Number(v);
  };
  const global = (module: string, name: string): PyValue => {
    const v = hooks.findGlobal(module, name);
    if (v === undefined) {
      fail(`global ${module}.${name} is not allowed: a checkpoint of tensors never needs it, and loading it could run code; refused without running anything. torch.save(model.state_dict(), path) writes a loadable file`);
    }
    return v as PyValue;
  };

  for (;;) {
    at = p;
    if (p >= bytes.length) fail('the pickle ends before STOP (truncated?)');
    op = bytes[p++];
    switch (op) {
      case 0x80: // PROTO
        need(1);
        if (bytes[p] > 5) fail(`pickle protocol ${bytes[p]} is not supported`);
        p += 1;
        break;
      case 0x95: // FRAME: a length prefix only.
        need(8);
        p += 8;
        break;
      case 0x2e: { // STOP
        const v = pop();
        return { value: v, end: p };
      }
      case 0x28: // MARK
        if (marks.length >= limits.maxDepth) fail(`MARKs nested more than ${limits.maxDepth} deep`);
        push(MARK);
        // The marked items start just above the MARK slot; popMark's caller drops the slot.
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        stack.pop();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e:
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x4a:
        need(4);
        push(dv.getInt32(p, true));
        p += 4;
        break;
      case 0x4b:
        need(1);
        push(bytes[p++]);
        break;
      case 0x4d:
        need(2);
        push(dv.getUint16(p, true));
        p += 2;
        break;
      case 0x8a: // LONG1
        need(1);
        push(long(bytes[p++]));
        break;
      case 0x8b: // LONG4
        need(4);
        {
          const n = dv.getUint32(p, true);
          p += 4;
          push(long(n));
        }
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        push(new PyFloat(dv.getFloat64(p, false)));
        p += 8;
        break;
      case 0x58: // BINUNICODE
        need(4);
        p += 4;
        push(str(dv.getUint32(p - 4, true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        need(1);
        p += 1;
        push(str(bytes[p - 1]));
        break;
      case 0x8d: // BINUNICODE8
        push(str(u64()));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str, read as latin-1)
        need(1);
        p += 1;
        push(latin1.decode(raw(bytes[p - 1])));
        break;
      case 0x54: // BINSTRING
        need(4);
        p += 4;
        push(latin1.decode(raw(dv.getInt32(p - 4, true))));
        break;
      case 0x43: // SHORT_BINBYTES
        need(1);
        p += 1;
        push(raw(bytes[p - 1]));
        break;
      case 0x42: // BINBYTES
        need(4);
        p += 4;
        push(raw(dv.getUint32(p - 4, true)));
        break;
      case 0x8e: // BINBYTES8
        push(raw(u64()));
        break;
      case 0x29:
        push(new PyTuple([]));
        break;
      case 0x85:
        push(tuple([pop()]));
        break;
      case 0x86: {
        const b = pop();
        push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        push(tuple([pop(), b, c]));
        break;
      }
      case 0x74: { // TUPLE
        const items = popMark();
        stack.pop();
        push(tuple(items));
        break;
      }
      case 0x5d:
        push([]);
        break;
      case 0x6c: { // LIST
        const items = popMark();
        stack.pop();
        const l: PyValue[] = [];
        append(l, items);
        push(l);
        break;
      }
      case 0x7d:
        push(new PyDict(false));
        break;
      case 0x64: { // DICT
        const items = popMark();
        stack.pop();
        const d = new PyDict(false);
        setItems(d, items);
        push(d);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        stack.pop();
        append(top(), items);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        stack.pop();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        need(1);
        memoize(bytes[p++], top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memoize(dv.getUint32(p, true), top());
        p += 4;
        break;
      case 0x94: // MEMOIZE
        memoize(memo.size, top());
        break;
      case 0x68: // BINGET
        need(1);
        push(recall(bytes[p++]));
        break;
      case 0x6a: // LONG_BINGET
        need(4);
        push(recall(dv.getUint32(p, true)));
        p += 4;
        break;
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const f = pop();
        if (!(f instanceof PyCallable)) return fail(`REDUCE calls a ${pyTypeName(f)}, which is not an allowed callable`);
        if (!(args instanceof PyTuple)) return fail(`REDUCE of ${f.qualifiedName} with a ${pyTypeName(args)} of arguments`);
        push(f.call(args.items));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict && obj.ordered) {
          // An OrderedDict's state is its attributes (a state_dict's `_metadata`); kept, never used.
          if (state !== null && !(state instanceof PyDict)) return fail(`BUILD on an OrderedDict with a ${pyTypeName(state)} state`);
          obj.attributes = state;
        } else if (obj !== null && typeof obj === 'object' && !(obj instanceof PyDict) && !(obj instanceof PyTuple) && !Array.isArray(obj) && !(obj instanceof Uint8Array) && !(obj instanceof PyFloat) && typeof (obj as PyObject).setState === 'function') {
          (obj as PyObject).setState?.(state);
        } else {
          return fail(`BUILD on a ${pyTypeName(obj)} is not allowed`);
        }
        break;
      }
      case 0x51: // BINPERSID
        push(hooks.persistentLoad(pop()));
        break;
      default:
        fail(`opcode ${NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`} is not used by a tensor state_dict; refused`);
    }
  }
}
