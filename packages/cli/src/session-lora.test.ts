import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { loraFromJson, loraToJson } from './session-lora.js';

const adapter = { node: '/attn1/to_q/MatMul', weight: 'w_q', down: 'lora_down', up: 'lora_up', inFeatures: 3, outFeatures: 2, rank: 2, scale: 1 };

describe('LoRA adapters in session files', () => {
  it('round-trips adapters and their A and B exactly (float32, base64)', () => {
    const down = Float32Array.from([0.1, -2, 3.5, 1e-7, 0, -0.25]);
    const up = Float32Array.from([1, 2, 3, 4]);
    const json = JSON.parse(JSON.stringify(loraToJson({ adapters: [adapter], values: { lora_down: down, lora_up: up }, losses: [0.5] })));
    const back = loraFromJson(json, 's.json: lora');
    expect(back.adapters).toEqual([adapter]);
    expect(back.values.lora_down).toEqual(down);
    expect(back.values.lora_up).toEqual(up);
  });

  it('refuses missing or wrongly sized values with a message naming the field', () => {
    const good = loraToJson({ adapters: [adapter], values: { lora_down: new Float32Array(6), lora_up: new Float32Array(4) }, losses: [] });
    const short = { ...good, values: { ...(good.values as object), lora_up: Buffer.from(new Uint8Array(12)).toString('base64') } };
    expect(() => loraFromJson(short, 's.json: lora')).toThrow(/s\.json: lora: values\.lora_up holds 3 floats, not 4\./);
    expect(() => loraFromJson({ ...good, values: {} }, 's.json: lora')).toThrow(/values has no "lora_down"/);
    expect(() => loraFromJson({ ...good, adapters: [{ ...adapter, rank: 'two' }] }, 'x')).toThrow(CliError);
    expect(() => loraFromJson({}, 'x')).toThrow(/must be \{ "encoding": "base64-float32le"/);
  });
});
