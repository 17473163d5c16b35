export * from './svg.ts';
export * from './store-map.svg.ts';
export * from './weight-trace.svg.ts';
export * from './thinned.series.ts';
