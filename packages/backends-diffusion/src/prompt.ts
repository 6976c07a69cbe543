import { StableDragError } from '@stabledrag/core';
import { DataType } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import type { OrtRuntime, OrtSession } from './ort-runtime.js';

/** CLIP's start and end tokens; SD 1.5's tokenizer pads with the end token. */
export const CLIP_BOS = 49406;
export const CLIP_EOS = 49407;

/** The ids of the tokens an empty prompt is made of. */
export interface SpecialTokens {
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
}

export const CLIP_SPECIAL_TOKENS: SpecialTokens = { bos: CLIP_BOS, eos: CLIP_EOS, pad: CLIP_EOS };

/**
 * The special-token ids of a folder's `tokenizer/` (vocab.json and special_tokens_map.json, whose
 * entries are strings or `{ content }` objects); CLIP's ids when the folder has no tokenizer.
 */
export function specialTokens(vocab: unknown, map: unknown, where: string): SpecialTokens {
  if (vocab === undefined) return CLIP_SPECIAL_TOKENS;
  const v = vocab as Record<string, unknown>;
  const m = (map ?? {}) as Record<string, unknown>;
  const id = (key: string, fallback: string): number => {
    const entry = m[key];
    const token = typeof entry === 'string' ? entry : typeof (entry as { content?: unknown })?.content === 'string' ? (entry as { content: string }).content : fallback;
    const n = v[token];
    if (typeof n !== 'number') throw new StableDragError('MODEL_ERROR', `${where}/tokenizer/vocab.json has no id for the ${key} "${token}".`);
    return n;
  };
  return { bos: id('bos_token', '<|startoftext|>'), eos: id('eos_token', '<|endoftext|>'), pad: id('pad_token', '<|endoftext|>') };
}

/** Token ids of the empty prompt, padded to `length` (SD 1.5: 77) as CLIP's tokenizer does. */
export function emptyPromptIds(length = 77, tokens: SpecialTokens = CLIP_SPECIAL_TOKENS): number[] {
  return [tokens.bos, tokens.eos, ...Array.from({ length: length - 2 }, () => tokens.pad)];
}

/**
 * The text encoder's `last_hidden_state` for the empty prompt: DragDiffusion drags with guidance
 * 1 (no classifier-free guidance), and a prompt only helps its LoRA. Text prompts need CLIP's BPE
 * tokenizer, which this package does not ship yet.
 */
export async function encodePrompt(runtime: OrtRuntime, session: OrtSession, model: OnnxModel, file: string, tokens: SpecialTokens): Promise<{ data: Float32Array; dims: number[] }> {
  const input = model.graph.inputs[0];
  if (!input) throw new StableDragError('MODEL_ERROR', `${file} has no input; a text encoder takes input_ids.`);
  const len = typeof input.shape?.[1] === 'number' ? input.shape[1] : 77;
  const ids = emptyPromptIds(len, tokens);
  const tensor = input.dtype === DataType.INT32
    ? new runtime.Tensor('int32', Int32Array.from(ids), [1, len])
    : new runtime.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, len]);
  const outName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
  if (!outName) throw new StableDragError('MODEL_ERROR', `${file} has no output.`);
  const out = (await session.run({ [input.name]: tensor }, [outName]))[outName];
  if (!out || !(out.data instanceof Float32Array) || out.dims.length !== 3) {
    throw new StableDragError('MODEL_ERROR', `${file} did not return a float32 [1, tokens, dim] "${outName}".`);
  }
  return { data: new Float32Array(out.data), dims: [...out.dims] };
}
