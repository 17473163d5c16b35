import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The README, the pages under docs/ and every other markdown file in the repository link to each
 * other and into the code. A page that is moved or renamed must not leave a link pointing at
 * nothing, and no link may leave the repository (a clone holds only what is in it). Links inside
 * code (fenced blocks, `spans`) are text, not links.
 */
const ROOT = path.resolve(new URL('../../', import.meta.url).pathname);
const README = path.join(ROOT, 'README.md');
const DOCS = path.join(ROOT, 'docs');
/** Folders that hold no pages of ours: installed packages, and what tools write (see .gitignore). */
const NOT_OURS = new Set(['node_modules', 'tmp', 'out', path.join('deploy', 'kafka', 'lib'), path.join('deploy', 'kafka', 'target')]);

interface Link {
  page: string;
  line: number;
  target: string;
}

/**
 * Data shipped from elsewhere comes with an ATTRIBUTION.md of ours beside it; the other markdown
 * files there are the data set's own, kept as they were published, and may link to parts of the
 * data set that were not shipped.
 */
function isThirdPartyText(file: string): boolean {
  return path.basename(file) !== 'ATTRIBUTION.md' && existsSync(path.join(path.dirname(file), 'ATTRIBUTION.md'));
}

/** Every markdown file of the repository, the README first. */
function docPages(): string[] {
  const pages: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.name.startsWith('.') || entry.name === 'node_modules' || NOT_OURS.has(path.relative(ROOT, full))) continue;
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.md') && full !== README && !isThirdPartyText(full)) pages.push(full);
    }
  };
  walk(ROOT);
  return [README, ...pages.sort()];
}

/** The page's text with code blocks and code spans blanked out, lines kept where they were. */
function proseOf(markdown: string): string[] {
  let inFence = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return '';
    }
    return inFence ? '' : line.replace(/`[^`]*`/g, '');
  });
}

/** Inline links `[text](target "title")`, with the line each is on. */
function linksIn(markdown: string, page: string): Link[] {
  const links: Link[] = [];
  proseOf(markdown).forEach((text, lineIndex) => {
    for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ page, line: lineIndex + 1, target: match[1] });
  });
  return links;
}

const linksOf = (page: string) => linksIn(readFileSync(page, 'utf8'), page);

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);
const where = (link: Link) => `${path.relative(ROOT, link.page)}:${link.line}: link "${link.target}"`;

/** Where a relative link leads, as an absolute path, and the anchor it names (if any). */
function resolveLink(link: Link): { file: string; anchor: string | undefined } {
  const [filePart, anchor] = link.target.split('#', 2);
  const file = filePart === '' ? link.page : path.resolve(path.dirname(link.page), decodeURI(filePart));
  return { file, anchor: anchor === undefined ? undefined : decodeURIComponent(anchor) };
}

/** GitHub's anchors: headings lower-cased, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of headingsOf(readFileSync(page, 'utf8'))) {
    const slug = line
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

function headingsOf(markdown: string): string[] {
  let inFence = false;
  const headings: string[] = [];
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    else if (!inFence && /^#{1,6} /.test(line)) headings.push(line.replace(/^#{1,6} /, ''));
  }
  return headings;
}

const relativeLinks = () => docPages().flatMap(linksOf).filter((link) => !isExternal(link.target));

test('every relative link in a markdown file names a file inside the repository', () => {
  const broken: string[] = [];
  for (const link of relativeLinks()) {
    const { file } = resolveLink(link);
    const inside = path.relative(ROOT, file);
    if (inside.startsWith('..') || path.isAbsolute(inside)) broken.push(`${where(link)} leaves the repository`);
    else if (!existsSync(file)) broken.push(`${where(link)}: ${inside} does not exist`);
  }
  assert.deepEqual(broken, []);
});

test('every anchor in a link names a heading of the page it points to', () => {
  const broken: string[] = [];
  for (const link of relativeLinks()) {
    const { file, anchor } = resolveLink(link);
    if (anchor === undefined || !existsSync(file) || !statSync(file).isFile()) continue;
    if (!file.endsWith('.md')) broken.push(`${where(link)}: an anchor into a file that is not markdown`);
    else if (!anchorsOf(file).has(anchor)) broken.push(`${where(link)}: ${path.relative(ROOT, file)} has no heading "#${anchor}"`);
  }
  assert.deepEqual(broken, []);
});

test('every page under docs/ can be reached from the README by following links', () => {
  const reached = new Set<string>([README]);
  const queue = [README];
  while (queue.length > 0) {
    const page = queue.shift() as string;
    for (const link of linksOf(page).filter((candidate) => !isExternal(candidate.target))) {
      const { file } = resolveLink(link);
      if (file.endsWith('.md') && existsSync(file) && !reached.has(file)) {
        reached.add(file);
        queue.push(file);
      }
    }
  }
  const unreached = docPages()
    .filter((page) => page.startsWith(DOCS + path.sep) && !reached.has(page))
    .map((page) => `${path.relative(ROOT, page)} is linked from no page the README leads to (add it to docs/README.md)`);
  assert.deepEqual(unreached, []);
});

test('the link checker sees links, and not text in code', () => {
  const page = path.join(DOCS, 'example.md');
  const sample = ['See [design](design.md) and `[not](a-link.md)`.', '```', '[also not](b.md)', '```', '[x](../README.md#top "title")'].join('\n');
  assert.deepEqual(
    linksIn(sample, page).map((link) => [link.line, link.target]),
    [
      [1, 'design.md'],
      [5, '../README.md#top'],
    ],
  );
  assert.deepEqual(resolveLink({ page, line: 1, target: '../README.md#top' }), { file: README, anchor: 'top' });
});
