export * from './fusion.engine.ts';
export * from './attribution.model.ts';
export * from './hand.evidence.ts';
// The evaluation (fusion.eval.ts) is not re-exported: it reads recordings and runs shelf perception,
// which what runs live does not need.
