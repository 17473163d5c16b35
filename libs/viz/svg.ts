/** Tiny SVG helpers: the pictures walkout prints are plain SVG, turned into PNG by sharp when asked. */
import sharp from 'sharp';
import { writeFile } from 'node:fs/promises';

export const esc = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function svgDocument(width: number, height: number, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">\n<rect width="100%" height="100%" fill="#ffffff"/>\n${body.join('\n')}\n</svg>\n`;
}

/** Writes SVG as is, or rasterised to PNG when the file name ends in .png. */
export async function writePicture(file: string, svg: string): Promise<void> {
  if (file.endsWith('.png')) await sharp(Buffer.from(svg)).png().toFile(file);
  else await writeFile(file, svg);
}

/** A categorical palette that stays readable on white. */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
