/** Every frame of <folder>/camera_angles against every colour camera of <folder>/store_meta: the shelf edge fit table of docs/experiments/autocheckout-calibration.md. Usage: node --import tsx libs/autocheckout/fit-table.run.ts <folder> */
import sharp from 'sharp';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readAutocheckoutStore } from './autocheckout.import.ts';
import { shelfEdgeFit } from '../viz/calibration.fit.ts';
const folder = await mkdtemp(path.join(tmpdir(), 'acfit-'));
await symlink(path.resolve(process.argv[2], 'store_meta'), path.join(folder, 'store_meta'));
await writeFile(path.join(folder, 'p.csv'), 'name,gondola,shelf,plate,weight,price\nTest,1,1,1,100,1\n');
const { store } = await readAutocheckoutStore({ folder, productsCsv: path.join(folder, 'p.csv') });
const cams = store.cameras.filter((c) => /^cam-\d+$/.test(c.id)).sort((a, b) => Number(a.id.slice(4)) - Number(b.id.slice(4)));
console.log('frame | ' + cams.map((c) => c.id.slice(4).padStart(5)).join(' '));
for (let f = 1; f <= 8; f++) {
  const { data, info } = await sharp(path.join(process.argv[2], 'camera_angles', `${f}.png`)).greyscale().raw().toBuffer({ resolveWithObject: true });
  const row = cams.map((c) => shelfEdgeFit(store, c, { width: info.width, height: info.height, data }));
  console.log(`${String(f).padStart(5)} | ` + row.map((r) => (r.inFrame > 0.2 ? r.score.toFixed(2).padStart(5) : '    -')).join(' '));
}
