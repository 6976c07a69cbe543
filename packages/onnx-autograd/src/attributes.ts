import type { OnnxNode } from './model';
import type { Tensor } from './tensor';

export function attrInt(node: OnnxNode, name: string, dflt: number): number {
  const a = node.attributes[name];
  if (!a) return dflt;
  if (a.type === 'int' || a.type === 'float') return a.value;
  throw new Error(`${describeNode(node)}: attribute ${name} is not a number`);
}

export function attrFloat(node: OnnxNode, name: string, dflt: number): number {
  return attrInt(node, name, dflt);
}

export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const a = node.attributes[name];
  if (!a) return undefined;
  if (a.type === 'ints' || a.type === 'floats') return [...a.value];
  if (a.type === 'int' || a.type === 'float') return [a.value];
  throw new Error(`${describeNode(node)}: attribute ${name} is not a list of numbers`);
}

export function attrString(node: OnnxNode, name: string, dflt: string): string {
  const a = node.attributes[name];
  if (!a) return dflt;
  if (a.type === 'string') return a.value;
  throw new Error(`${describeNode(node)}: attribute ${name} is not a string`);
}

export function attrTensor(node: OnnxNode, name: string): Tensor | undefined {
  const a = node.attributes[name];
  return a?.type === 'tensor' ? a.value : undefined;
}

export function describeNode(node: OnnxNode): string {
  return `${node.opType} node '${node.name || node.outputs[0] || '?'}'`;
}
