export * from './csv.reader.ts';
export * from './lines.reader.ts';
export * from './lines.writer.ts';
export * from './recording.writer.ts';
export * from './recording.reader.ts';
export * from './recording.summary.ts';
export * from './stream.merge.ts';
