import type { MotionSupervisor, PointTracker } from '@stabledrag/core';
import { NearestNeighbourTracker } from '@stabledrag/tracker';
import { StandInMotionSupervision } from './standin-supervision.js';

/** One configuration of the drag loop that the benchmark runs. */
export interface MethodSpec {
  /** Key in the results JSON, e.g. 'draggan', 'stabledrag', 'tau=0.2'. */
  readonly id: string;
  /** Row label in BENCHMARKS.md. */
  readonly label: string;
  readonly name: 'draggan' | 'stabledrag';
  readonly lambda?: number;
  readonly tau?: number;
  readonly discriminative?: boolean;
  readonly confident?: boolean;
  /** How the discriminative tracker bounds its filter response (tracker default when absent). */
  readonly normalisation?: 'gated' | 'magnitude' | 'cosine' | 'none';
}

/** Table 2 of the paper: the baseline, the two ablations, the full method. */
export const TABLE2: readonly MethodSpec[] = [
  { id: 'draggan', label: 'DragGAN', name: 'draggan' },
  { id: 'no-dpt', label: 'StableDrag w/o DPT', name: 'stabledrag', discriminative: false },
  { id: 'no-cms', label: 'StableDrag w/o CMS', name: 'stabledrag', confident: false },
  { id: 'stabledrag', label: 'StableDrag', name: 'stabledrag' },
];

/** StableDrag with the paper's unbounded filter response (before issue #12's bounded confidence). */
export const UNBOUNDED: MethodSpec = { id: 'stabledrag-unbounded', label: 'StableDrag, paper formula (unbounded score)', name: 'stabledrag', normalisation: 'none' };

const GRID = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** Table 4: τ swept with λ = 0 (discriminative score only). */
export const TAU_SWEEP: readonly MethodSpec[] = GRID.map((tau) => ({
  id: `tau=${tau}`,
  label: `τ = ${tau}`,
  name: 'stabledrag',
  lambda: 0,
  tau,
}));

/** Table 5: λ swept with τ = 0 (the template branch only fires when s_i ≤ 0). */
export const LAMBDA_SWEEP: readonly MethodSpec[] = GRID.map((lambda) => ({
  id: `lambda=${lambda}`,
  label: `λ = ${lambda}`,
  name: 'stabledrag',
  lambda,
  tau: 0,
}));

export interface BuiltMethod {
  readonly tracker: PointTracker;
  readonly supervisor: MotionSupervisor;
  /** What runs, as createMethod describes it. */
  readonly label: string;
  readonly standIn: boolean;
}

/**
 * Builds a method for a model of `resolution` px; `radii` overrides the CLI's DragGAN radii (the
 * diffusion backend brings DragDiffusion's r_m, r_p in `dragDefaults.imageRadii`).
 */
export type MethodFactory = (spec: MethodSpec, resolution: number, radii?: { r1: number; r2: number }) => BuiltMethod;

interface CliMethods {
  createMethod(
    name: 'draggan' | 'stabledrag',
    settings: { r1: number; r2: number; lambda?: number; tau?: number; discriminative?: boolean; confident?: boolean; normalisation?: 'gated' | 'magnitude' | 'cosine' | 'none' },
  ): { label: string; tracker: PointTracker; supervisor: MotionSupervisor };
  defaultRadii(resolution: number): { r1: number; r2: number };
}

/**
 * The methods as the CLI builds them (`createMethod` of @stabledrag/cli), so the benchmark
 * measures exactly what users run. With `allowStandIn`, a DragGAN-style stand-in replaces any
 * method @stabledrag/motion cannot build yet (development on the reference backend only).
 */
export async function loadMethodFactory(options: { allowStandIn?: boolean } = {}): Promise<MethodFactory> {
  const cli = (await import('@stabledrag/cli')) as unknown as CliMethods;
  return (spec, resolution, radii) => {
    const { r1, r2 } = radii ?? cli.defaultRadii(resolution);
    try {
      const m = cli.createMethod(spec.name, {
        r1,
        r2,
        ...(spec.lambda !== undefined ? { lambda: spec.lambda } : {}),
        ...(spec.tau !== undefined ? { tau: spec.tau } : {}),
        ...(spec.discriminative !== undefined ? { discriminative: spec.discriminative } : {}),
        ...(spec.confident !== undefined ? { confident: spec.confident } : {}),
        ...(spec.normalisation !== undefined ? { normalisation: spec.normalisation } : {}),
      });
      return { tracker: m.tracker, supervisor: m.supervisor, label: m.label, standIn: false };
    } catch (error) {
      if (!options.allowStandIn) throw error;
      return {
        tracker: new NearestNeighbourTracker({ radius: r2 }),
        supervisor: new StandInMotionSupervision(r1),
        label: `stand-in (nearest neighbour + DragGAN motion loss) for ${spec.id}`,
        standIn: true,
      };
    }
  };
}
