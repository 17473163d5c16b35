import { z } from 'zod';
import { describeIssues, WalkoutError } from '../contracts/index.ts';
import { MovenetConfig, movenetPlugin } from './movenet.detector.ts';
import { OnnxConfig, onnxPlugin } from './onnx.detector.ts';
import type { DetectorPlugin, PoseDetector } from './pose.detector.ts';

/**
 * Every pose detector the project can run, by key. Adding one: write its plugin (key, strict config
 * schema, create) and list it here; the config union follows.
 */
export const detectorPlugins = {
  movenet: movenetPlugin,
  onnx: onnxPlugin,
} as const satisfies Record<string, DetectorPlugin<{ type: string }>>;

export const DetectorConfig = z.discriminatedUnion('type', [MovenetConfig, OnnxConfig]).describe('Which pose detector to run, and how.');
export type DetectorConfig = z.infer<typeof DetectorConfig>;

/** The detector keys, for a command line's --detector. */
export const detectorKeys = Object.keys(detectorPlugins) as Array<keyof typeof detectorPlugins>;

/** Validates a detector config (every bad value listed at once) and loads the detector. */
export async function createDetector(config: unknown): Promise<PoseDetector> {
  const parsed = DetectorConfig.safeParse(config);
  if (!parsed.success)
    throw new WalkoutError('CONFIG_INVALID', `detector config is invalid:\n${describeIssues(parsed.error, 'detector')}`, {
      details: parsed.error.issues,
    });
  const plugin = detectorPlugins[parsed.data.type] as DetectorPlugin<DetectorConfig>;
  return plugin.create(parsed.data);
}
