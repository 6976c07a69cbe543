import {
  decodeModelProto,
  encodeModelProto,
  type PbAttribute,
  type PbGraph,
  type PbModel,
  type PbNode,
  type PbValueInfo,
} from './onnx-schema';
import { tensorFromProto, tensorToProto, type ExternalDataResolver, type Tensor } from './tensor';

/** ONNX `AttributeProto.AttributeType` values. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: Tensor }
  /** Subgraphs (If/Loop/Scan bodies) are kept as decoded protobuf objects, untouched. */
  | { type: 'raw'; value: PbAttribute };

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

/** Shape entries are numbers for fixed dims, strings for symbolic ones. */
export interface ValueInfo {
  name: string;
  dtype: number;
  shape?: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  valueInfo: ValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
}

export interface LoadModelOptions {
  /** Returns the bytes of an external-data file named by an initializer's `location`. */
  externalData?: ExternalDataResolver;
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

function valueInfoFromProto(v: PbValueInfo): ValueInfo {
  const tt = v.type?.tensorType;
  const info: ValueInfo = { name: v.name ?? '', dtype: tt?.elemType ?? 0 };
  if (tt?.shape) info.shape = (tt.shape.dim ?? []).map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : (d.dimParam ?? '?')));
  return info;
}

function valueInfoToProto(v: ValueInfo): PbValueInfo {
  const tensorType: NonNullable<NonNullable<PbValueInfo['type']>['tensorType']> = { elemType: v.dtype };
  if (v.shape) tensorType.shape = { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name: v.name, type: { tensorType } };
}

function attributeFromProto(a: PbAttribute, external?: ExternalDataResolver): Attribute {
  switch (a.type) {
    case AttrType.FLOAT: return { type: 'float', value: a.f ?? 0 };
    case AttrType.INT: return { type: 'int', value: Number(a.i ?? 0) };
    case AttrType.STRING: return { type: 'string', value: textDecoder.decode(a.s ?? new Uint8Array()) };
    case AttrType.FLOATS: return { type: 'floats', value: [...(a.floats ?? [])] };
    case AttrType.INTS: return { type: 'ints', value: (a.ints ?? []).map(Number) };
    case AttrType.STRINGS: return { type: 'strings', value: (a.strings ?? []).map((s) => textDecoder.decode(s)) };
    case AttrType.TENSOR: return { type: 'tensor', value: tensorFromProto(a.t ?? {}, external) };
    default: return { type: 'raw', value: a };
  }
}

function attributeToProto(name: string, a: Attribute): PbAttribute {
  switch (a.type) {
    case 'float': return { name, type: AttrType.FLOAT, f: a.value };
    case 'int': return { name, type: AttrType.INT, i: a.value };
    case 'string': return { name, type: AttrType.STRING, s: textEncoder.encode(a.value) };
    case 'floats': return { name, type: AttrType.FLOATS, floats: a.value };
    case 'ints': return { name, type: AttrType.INTS, ints: a.value };
    case 'strings': return { name, type: AttrType.STRINGS, strings: a.value.map((s) => textEncoder.encode(s)) };
    case 'tensor': return { name, type: AttrType.TENSOR, t: tensorToProto('', a.value) };
    case 'raw': return { ...a.value, name };
  }
}

function nodeFromProto(n: PbNode, external?: ExternalDataResolver): OnnxNode {
  const attributes: Record<string, Attribute> = {};
  for (const a of n.attribute ?? []) attributes[a.name ?? ''] = attributeFromProto(a, external);
  return {
    name: n.name ?? '',
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attributes,
  };
}

function nodeToProto(n: OnnxNode): PbNode {
  const out: PbNode = {
    input: n.inputs,
    output: n.outputs,
    name: n.name,
    opType: n.opType,
    attribute: Object.entries(n.attributes).map(([k, a]) => attributeToProto(k, a)),
  };
  if (n.domain) out.domain = n.domain;
  return out;
}

export function graphFromProto(g: PbGraph, external?: ExternalDataResolver): OnnxGraph {
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', tensorFromProto(t, external));
  return {
    name: g.name ?? 'graph',
    nodes: (g.node ?? []).map((n) => nodeFromProto(n, external)),
    // Older exporters list initializers among the inputs; they are not runtime inputs.
    inputs: (g.input ?? []).map(valueInfoFromProto).filter((v) => !initializers.has(v.name)),
    outputs: (g.output ?? []).map(valueInfoFromProto),
    initializers,
    valueInfo: (g.valueInfo ?? []).map(valueInfoFromProto),
  };
}

export function graphToProto(g: OnnxGraph): PbGraph {
  return {
    name: g.name,
    node: g.nodes.map(nodeToProto),
    initializer: [...g.initializers].map(([name, t]) => tensorToProto(name, t)),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    valueInfo: g.valueInfo.map(valueInfoToProto),
  };
}

/** Decodes an ONNX ModelProto. External-data initializers are read through `options.externalData`. */
export function loadModel(bytes: Uint8Array, options: LoadModelOptions = {}): OnnxModel {
  const pb = decodeModelProto(bytes);
  if (!pb.graph) throw new Error('loadModel: ModelProto has no graph');
  return {
    irVersion: Number(pb.irVersion ?? 8),
    opsetImports: (pb.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: Number(o.version ?? 0) })),
    producerName: pb.producerName ?? '',
    producerVersion: pb.producerVersion ?? '',
    graph: graphFromProto(pb.graph, options.externalData),
  };
}

/** Encodes a model as ModelProto bytes (all initializers inline), ready for `InferenceSession.create`. */
export function serializeModel(model: OnnxModel): Uint8Array {
  const pb: PbModel = {
    irVersion: model.irVersion,
    opsetImport: model.opsetImports,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    graph: graphToProto(model.graph),
  };
  return encodeModelProto(pb);
}

export interface ExternalDataOptions {
  /** File name recorded in each moved initializer's `location` (relative to the model file). */
  location: string;
  /** Initializers of at least this many bytes go to the external file. Default 1024. */
  minBytes?: number;
}

/** Where {@link serializeModelWithPlacedData}'s caller put one initializer's bytes. */
export interface PlacedData {
  location: string;
  offset: number;
}

/**
 * Encodes a model whose initializers `place` may move to external data (ONNX external data
 * format: `location`/`offset`/`length`). `place` gets each tensor and its raw bytes, stores them
 * (or knows where they already are) and says where, or returns undefined to keep it inline.
 * Handing over the tensor lets several models share one data file: a weight placed once is
 * referenced again, not written twice.
 */
export function serializeModelWithPlacedData(model: OnnxModel, place: (tensor: Tensor, bytes: Uint8Array) => PlacedData | undefined): Uint8Array {
  const graph = graphToProto({ ...model.graph, initializers: new Map() });
  graph.initializer = [...model.graph.initializers].map(([name, t]) => {
    const pb = tensorToProto(name, t);
    const raw = pb.rawData;
    const where = raw ? place(t, raw) : undefined;
    if (!raw || !where) return pb;
    delete pb.rawData;
    pb.dataLocation = 1;
    pb.externalData = [
      { key: 'location', value: where.location },
      { key: 'offset', value: String(where.offset) },
      { key: 'length', value: String(raw.length) },
    ];
    return pb;
  });
  const pb: PbModel = {
    irVersion: model.irVersion,
    opsetImport: model.opsetImports,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    graph,
  };
  return encodeModelProto(pb);
}

/**
 * Encodes a model with large initializers moved to one external-data blob (4 KiB-aligned
 * offsets). Needed past protobuf's 2 GB limit. Returns the ModelProto bytes and the bytes of the
 * data file to write next to it.
 */
export function serializeModelWithExternalData(model: OnnxModel, options: ExternalDataOptions): { model: Uint8Array; data: Uint8Array } {
  const minBytes = options.minBytes ?? 1024;
  const chunks: { offset: number; bytes: Uint8Array }[] = [];
  let size = 0;
  const bytes = serializeModelWithPlacedData(model, (_, raw) => {
    if (raw.length < minBytes) return undefined;
    const offset = Math.ceil(size / 4096) * 4096;
    chunks.push({ offset, bytes: raw });
    size = offset + raw.length;
    return { location: options.location, offset };
  });
  const data = new Uint8Array(size);
  for (const c of chunks) data.set(c.bytes, c.offset);
  return { model: bytes, data };
}

/** The default-domain opset version of a model. */
export function onnxOpset(model: OnnxModel): number {
  const o = model.opsetImports.find((x) => x.domain === '' || x.domain === 'ai.onnx');
  return o?.version ?? 0;
}

export function cloneGraph(g: OnnxGraph): OnnxGraph {
  return {
    name: g.name,
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: { ...n.attributes } })),
    inputs: g.inputs.map((v) => ({ ...v })),
    outputs: g.outputs.map((v) => ({ ...v })),
    initializers: new Map(g.initializers),
    valueInfo: g.valueInfo.map((v) => ({ ...v })),
  };
}

export function cloneModel(m: OnnxModel): OnnxModel {
  return { ...m, opsetImports: m.opsetImports.map((o) => ({ ...o })), graph: cloneGraph(m.graph) };
}
