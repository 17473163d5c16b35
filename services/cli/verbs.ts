import type { Verb } from '../../libs/cli/verb.ts';

/**
 * Every verb of `walkout`, loaded on demand so `walkout --help` stays fast and a verb's heavy
 * dependencies (TF.js, ffmpeg) load only when it runs. Add a verb here and in README.md.
 */
export const verbs: Record<string, { summary: string; load: () => Promise<Verb> }> = {
  start: {
    summary: 'Run the store on the embedded default: simulate the demo, replay it through the pipeline, score it.',
    load: async () => (await import('./start.verb.ts')).startVerb,
  },
  sim: {
    summary: 'Simulate shoppers in a store and write a recording with ground truth.',
    load: async () => (await import('./sim.verb.ts')).simVerb,
  },
  'recording summary': {
    summary: 'Read every stream of a recording and print what it holds.',
    load: async () => (await import('./recording.verb.ts')).recordingSummaryVerb,
  },
  'recording map': {
    summary: 'Draw a recording on the store map: walks, picks and puts, cameras (SVG or PNG).',
    load: async () => (await import('./recording.verb.ts')).recordingMapVerb,
  },
  'recording weights': {
    summary: "Plot one shelf's load-cell traces with the true picks and puts (SVG or PNG).",
    load: async () => (await import('./recording.verb.ts')).recordingWeightsVerb,
  },
  'stores check': {
    summary: 'Validate store descriptions and print a summary of each.',
    load: async () => (await import('./stores.verb.ts')).storesCheckVerb,
  },
  'stores generate': {
    summary: 'Write the built-in store fixtures (kiosk, kiosk-shelf-cams, convenience) from their generator specs.',
    load: async () => (await import('./stores.verb.ts')).storesGenerateVerb,
  },
  detect: {
    summary: 'Find the people in one image or video frame: score, box and 17 keypoints each, with an overlay picture.',
    load: async () => (await import('./detect.verb.ts')).detectVerb,
  },
  'eval shelf': {
    summary: 'Score shelf perception against the ground truth of a recording, next to the baseline.',
    load: async () => (await import('./shelf.verb.ts')).evalShelfVerb,
  },
  'eval receipts': {
    summary: 'Run the whole store over a recording and score its receipts against the ground truth.',
    load: async () => (await import('./receipts.verb.ts')).evalReceiptsVerb,
  },
  'eval pose': {
    summary: 'Score the pose model against the 2D pose truth of a recording: keypoint recall, wrists in view.',
    load: async () => (await import('./pose.verb.ts')).evalPoseVerb,
  },
  'eval mot': {
    summary: 'Score tracks against ground truth in MOTChallenge text files: MOTA, MOTP, IDF1, switches, mostly tracked / lost.',
    load: async () => (await import('./mot.verb.ts')).evalMotVerb,
  },
  'shelf simulate': {
    summary: 'Write a shelf-only recording of hard pick/put/lean cases with ground truth.',
    load: async () => (await import('./shelf.verb.ts')).shelfSimulateVerb,
  },
  'serve shelf': {
    summary: 'Run the shelf service alone: load-cell samples in, shelf events and load-cell health out, until stopped.',
    load: async () => (await import('./serve.verb.ts')).serveShelfVerb,
  },
  'serve camera': {
    summary: 'Run camera perception alone: frames in, the people in them out, until stopped; start several to share the cameras.',
    load: async () => (await import('./serve.verb.ts')).serveCameraVerb,
  },
  'serve tracker': {
    summary: "Run the tracker alone: every camera's poses in, people on their tracks out, until stopped.",
    load: async () => (await import('./serve.verb.ts')).serveTrackerVerb,
  },
  'serve gate': {
    summary: 'Run the visits stage alone: gate scans and tracked people in, visits bound to tracks out, until stopped.',
    load: async () => (await import('./serve.verb.ts')).serveGateVerb,
  },
  'serve fusion': {
    summary: 'Run attribution alone: shelf events, people and visits in, who took what (or a review item) out, until stopped.',
    load: async () => (await import('./serve.verb.ts')).serveFusionVerb,
  },
  'serve cart': {
    summary: 'Run the carts alone: visits, attributions and review decisions in, carts and final receipts out, until stopped.',
    load: async () => (await import('./serve.verb.ts')).serveCartVerb,
  },
  'serve checkout': {
    summary: 'Run checkout alone: visits and final receipts in, each visit charged once, checkout.* out, until stopped.',
    load: async () => (await import('./serve.verb.ts')).serveCheckoutVerb,
  },
  'serve app': {
    summary: 'Run the shopper app API (entry codes, live cart, receipts, contests, refunds) on a port, until stopped.',
    load: async () => (await import('./serve.verb.ts')).serveAppVerb,
  },
  'accounts token': {
    summary: 'Give an account a bearer token for the shopper app API (creating the account when new), printed once.',
    load: async () => (await import('./accounts.verb.ts')).accountsTokenVerb,
  },
  'checkout chaos': {
    summary: 'Run visits through checkout in a process killed at random, with a failing payment provider; count double and missing charges.',
    load: async () => (await import('./checkout.verb.ts')).checkoutChaosVerb,
  },
  'import plates': {
    summary: 'Import per-plate load-cell CSVs (public cashierless layout) into a recording.',
    load: async () => (await import('./import.verb.ts')).importPlatesVerb,
  },
  'import autocheckout': {
    summary: 'Import a store of the AutoCheckout layout (store_meta, weights, videos) into a recording.',
    load: async () => (await import('./import-autocheckout.verb.ts')).importAutocheckoutVerb,
  },
};
