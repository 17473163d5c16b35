export * from './camera.ts';
export * from './linalg.ts';
export * from './lens.ts';
export * from './ray.ts';
export * from './floor-plane.ts';
export * from './triangulate.ts';
export * from './krtd.reader.ts';
export * from './meva-scene.reader.ts';
