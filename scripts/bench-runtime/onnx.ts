/**
 * A minimal ONNX model writer for the runtime benchmark: just enough of the
 * protobuf wire format (varints, length-delimited fields, fixed32 floats) to
 * encode a `ModelProto` with one graph of nodes, float initializers and
 * fixed-shape float inputs and outputs, plus a small graph builder. Why not
 * torch.onnx or a protobuf package: the benchmark's weights live in this
 * process (drawn by our runtime's seeded generator), the graphs are a dozen
 * nodes each, and encoding them directly keeps the benchmark free of Python
 * and of a schema compiler. Field numbers follow onnx/onnx.proto (proto2;
 * repeated scalars are written unpacked, which every parser accepts).
 */

/** Growable byte buffer with the protobuf primitives this writer needs. */
class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  varint(v: number): void {
    if (v < 0 || !Number.isInteger(v)) throw new Error(`onnx writer: varint ${v} must be a non-negative integer`);
    const out: number[] = [];
    let n = BigInt(v);
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n > 0n) byte |= 0x80;
      out.push(byte);
    } while (n > 0n);
    this.push(Uint8Array.from(out));
  }

  /** A signed int64 field value (two's complement on 64 bits, as protobuf's int64 varint). */
  int64(v: number): void {
    if (v >= 0) return this.varint(v);
    let n = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (n > 0x7fn) {
      out.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    out.push(Number(n));
    this.push(Uint8Array.from(out));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  intField(field: number, v: number): void {
    this.tag(field, 0);
    this.int64(v);
  }

  floatField(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }

  bytesField(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
  }

  stringField(field: number, s: string): void {
    this.bytesField(field, new TextEncoder().encode(s));
  }

  messageField(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.bytesField(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** ONNX TensorProto.DataType values used here. */
const FLOAT = 1;
const INT64 = 7;

/** A node attribute: `{ f }` is a FLOAT, `{ i }` an INT, `{ ints }` an INTS attribute. */
export type AttrValue = { f: number } | { i: number } | { ints: readonly number[] };

interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: Readonly<Record<string, AttrValue>>;
}

interface Initializer {
  name: string;
  dims: readonly number[];
  type: typeof FLOAT | typeof INT64;
  raw: Uint8Array;
}

/**
 * Builds one ONNX graph: `input`/`output` declare fixed-shape float tensors,
 * `constant` adds an initializer, `op` appends a node and returns its output
 * name (fresh names `t0`, `t1`… unless given).
 */
export class OnnxGraph {
  private readonly nodes: NodeSpec[] = [];
  private readonly inits: Initializer[] = [];
  private readonly inputs: { name: string; dims: readonly number[] }[] = [];
  private readonly outputs: { name: string; dims: readonly number[] }[] = [];
  private fresh = 0;

  input(name: string, dims: readonly number[]): string {
    this.inputs.push({ name, dims });
    return name;
  }

  output(name: string, dims: readonly number[]): void {
    this.outputs.push({ name, dims });
  }

  constant(name: string, dims: readonly number[], data: Float32Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`onnx writer: ${name} has ${data.length} values for dims ${JSON.stringify(dims)}`);
    const raw = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.inits.push({ name, dims, type: FLOAT, raw });
    return name;
  }

  /** An int64 initializer, 1-D by default; `dims` [] makes a scalar (Gather's index that drops the axis). */
  constantInt64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`onnx writer: ${name} has ${values.length} values for dims ${JSON.stringify(dims)}`);
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    this.inits.push({ name, dims, type: INT64, raw });
    return name;
  }

  op(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, output?: string): string {
    const out = output ?? `t${this.fresh++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  /** The serialized ModelProto (IR version 8, default-domain opset 17). */
  toModel(name: string): Uint8Array {
    const m = new Writer();
    m.intField(1, 8); // ir_version
    m.stringField(2, 'attention-forge-bench'); // producer_name
    m.messageField(7, (g) => this.writeGraph(g, name)); // graph
    m.messageField(8, (o) => {
      o.stringField(1, ''); // domain: the default ONNX operator set
      o.intField(2, 17); // version
    });
    return m.finish();
  }

  private writeGraph(g: Writer, name: string): void {
    for (const n of this.nodes) {
      g.messageField(1, (w) => {
        for (const i of n.inputs) w.stringField(1, i);
        for (const o of n.outputs) w.stringField(2, o);
        w.stringField(4, n.op);
        for (const [an, av] of Object.entries(n.attrs)) {
          w.messageField(5, (a) => {
            a.stringField(1, an);
            if ('f' in av) {
              a.floatField(2, av.f);
              a.intField(20, 1); // AttributeType.FLOAT
            } else if ('i' in av) {
              a.intField(3, av.i);
              a.intField(20, 2); // INT
            } else {
              for (const v of av.ints) a.intField(8, v);
              a.intField(20, 7); // INTS
            }
          });
        }
      });
    }
    g.stringField(2, name);
    for (const t of this.inits) {
      g.messageField(5, (w) => {
        for (const d of t.dims) w.intField(1, d);
        w.intField(2, t.type);
        w.stringField(8, t.name);
        w.bytesField(9, t.raw);
      });
    }
    const valueInfo = (field: number, v: { name: string; dims: readonly number[] }) =>
      g.messageField(field, (w) => {
        w.stringField(1, v.name);
        w.messageField(2, (tp) =>
          tp.messageField(1, (tt) => {
            tt.intField(1, FLOAT); // elem_type
            tt.messageField(2, (sh) => {
              for (const d of v.dims) sh.messageField(1, (dim) => dim.intField(1, d));
            });
          }),
        );
      });
    for (const v of this.inputs) valueInfo(11, v);
    for (const v of this.outputs) valueInfo(12, v);
  }
}
